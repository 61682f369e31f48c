"""Build compact JWS tokens with arbitrary header and payload bytes (attack-case helper).

The forger signs whatever bytes it is given with a real key, so a test can
change exactly one thing in an otherwise good token: a header member, a claim,
the JSON spelling, or the signature itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from regie_protocol._encoding import b64url_encode
from regie_protocol.keys import SigningKey

__all__ = ["forge", "json_bytes", "split"]


def json_bytes(value: Mapping[str, Any] | bytes) -> bytes:
    """Compact JSON for a mapping; bytes are taken verbatim (duplicates, odd spellings)."""
    if isinstance(value, bytes):
        return value
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def forge(
    header: Mapping[str, Any] | bytes,
    payload: Mapping[str, Any] | bytes,
    *,
    key: SigningKey | None,
    signature: bytes | None = None,
) -> str:
    """A compact JWS of ``header`` and ``payload`` signed by ``key``.

    ``signature`` replaces the real signature (``b""`` gives an empty third part);
    ``key=None`` requires an explicit ``signature``.
    """
    signing_input = b64url_encode(json_bytes(header)) + "." + b64url_encode(json_bytes(payload))
    if signature is None:
        if key is None:
            raise ValueError("forge needs a key or an explicit signature")
        signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def split(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature
