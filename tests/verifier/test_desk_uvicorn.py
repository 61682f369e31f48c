"""``regie verifier serve``: the parking desk on a real uvicorn on 127.0.0.1, answering over HTTP.

The command runs in a subprocess with a verifier home (identity and trust
files) on a free port; the test waits (bounded) until it answers and always
stops it. The whole consent flow over real HTTP is the end-to-end test's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from regie_protocol.keys import SigningKey
from tests.serving import free_port, serve_process
from verifier.identity import VerifierIdentity, save_identity
from verifier.trust import Trust, save_trust

pytestmark = pytest.mark.service


@pytest.fixture
def desk_server(tmp_path: Path) -> Iterator[str]:
    home = tmp_path / "desk"
    save_identity(
        VerifierIdentity.generate("https://parkeren.example", "Parkeren"), home / "identity.json"
    )
    host_key = SigningKey.generate()
    save_trust(
        Trust({"http://127.0.0.1:8002": {host_key.kid: host_key.public_key}}), home / "trust.json"
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_VERIFIER_")}
    command = [
        sys.executable, "-m", "regie", "verifier", "serve", "--port", str(port),
        "--home", str(home),
    ]  # fmt: skip
    ready = base + "/v1/openapi.json"
    with serve_process(command, env=env, log=tmp_path / "server.log", ready=ready, name="the desk"):
        yield base


def test_desk_serves_its_api(desk_server: str) -> None:
    document = httpx.get(desk_server + "/v1/openapi.json", timeout=5).json()
    assert document["servers"] == [{"url": desk_server + "/v1"}]
    response = httpx.post(
        desk_server + "/v1/parking-permits", json={"licensePlate": "XX-123-Y"}, timeout=5
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["API-Version"] == "1.0.0"
    refused = httpx.post(
        desk_server + "/v1/parking-permits",
        json={"licensePlate": "XX-123-Y"},
        headers={"Authorization": "Bearer not-a-consent"},
        timeout=5,
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/malformed")
