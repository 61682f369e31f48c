"""The baseline of the read bench: a plain ``FastAPI()`` with one ``POST /v1/data`` endpoint.

It answers a constant JSON body shaped like the wallet host's read answer
(``consent``, ``use``, ``release``, ``attributes``), its ``release`` as long as
``REGIE_BENCH_RELEASE_CHARS`` (the bench sets it to the real release's length),
and checks nothing. Served by uvicorn with the same settings as the host
(``bench/reads.py``): ``uvicorn bench.bare_app:app``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

RELEASE_CHARS = int(os.environ.get("REGIE_BENCH_RELEASE_CHARS", "2400"))
ANSWER: dict[str, Any] = {
    "consent": "rXigkI13T76M7-AzHtgqTA",
    "use": 1,
    "release": "x" * RELEASE_CHARS,
    "attributes": ["address", "given_name"],
}

app = FastAPI()


@app.post("/v1/data")
async def read_data() -> dict[str, Any]:
    return ANSWER


__all__ = ["ANSWER", "app"]
