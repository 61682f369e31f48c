"""The wallet host as deployed: ``regie wallet serve`` in its own process, over real HTTP.

The test process is the citizen (it makes the wallet and approves) and the
verifier (it posts the request and reads with DPoP); the server shares the
wallet's SQLite file. Request -> approve -> collect -> read -> revoke -> read
refused, with the status list showing the revocation. The server is always stopped.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from regie_protocol.consent_request import ConsentRequestClaims, sign_request
from regie_protocol.dpop import create_proof
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from regie_protocol.registry import Registry
from regie_protocol.release import decrypt_release
from regie_protocol.statuslist import Status, verify_status_list
from tests.serving import free_port, serve_process
from tests.wallet.consents.helpers import issue_credentials, new_wallet
from wallet import consents
from wallet.consent_terms import GDPR_CONSENT
from wallet.registry_store import add_registry
from wallet.requests import approve
from wallet.storage import open_database

from .world import REGISTRAR, SERVICE, VERIFIER_A, new_verifier

pytestmark = pytest.mark.service


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_")}
    command = [sys.executable, "-m", "regie", "wallet", "serve", "--port", str(port)]
    command += ["--home", str(tmp_path)]
    open_database(None, home=tmp_path).dispose()  # migrate before the server opens it
    log = tmp_path / "server.log"
    with serve_process(command, env=env, log=log, ready=base + "/v1/keys", name="the host"):
        yield base, tmp_path


def test_request_approve_read_revoke_over_real_http(server: tuple[str, Path]) -> None:
    base, home = server
    now = int(time.time())
    db = open_database(None, home=home)
    try:
        wallet = new_wallet(db, now=now)
        issue_credentials(wallet, now=now, sources=("brp",))
        verifier = new_verifier(VERIFIER_A)
        registrar = SigningKey.generate(Alg.EDDSA)
        registry = Registry.new(REGISTRAR, now=now).with_verifier(
            verifier.registration(frozenset({"address"})), now=now
        )
        add_registry(
            wallet, registry.sign(registrar), now=now, registrar_jwk=registrar.public_key.to_jwk()
        )
        request = sign_request(
            ConsentRequestClaims(
                iss=VERIFIER_A, aud=base, jti="req-uvicorn-1", iat=now, exp=now + 3600,
                inbox=wallet.owner, attributes=("address",), purpose=SERVICE,
                legal_basis=GDPR_CONSENT, valid_for=86400,
            ),
            key=verifier.key,
        )  # fmt: skip
        with httpx.Client(base_url=base, timeout=10.0) as client:
            posted = client.post("/v1/requests", json={"request": request})
            assert posted.status_code == 201, posted.text
            request_id = posted.json()["id"]
            approved = approve(wallet, request_id, registry=registry, now=now, host_url=base)

            def collect() -> httpx.Response:
                url = f"{base}/v1/requests/{request_id}"
                proof = create_proof(verifier.key, htm="GET", htu=url, now=int(time.time()))
                return client.get(f"/v1/requests/{request_id}", headers={"DPoP": proof})

            token = collect().json()["consentToken"]

            def read() -> httpx.Response:
                proof = create_proof(
                    verifier.key, htm="POST", htu=base + "/v1/data", now=int(time.time()),
                    access_token=token,
                )  # fmt: skip
                return client.post(
                    "/v1/data", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
                )

            first = read()
            assert first.status_code == 200, first.text
            assert first.headers["api-version"] == "1.0.0"
            content = decrypt_release(first.json()["release"], keys=verifier.enc)
            assert content.consent_id == approved.consent.id
            consents.revoke(wallet, approved.consent.id, now=int(time.time()))
            refused = read()
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
            (jwk,) = client.get("/v1/keys").json()["keys"]
            listed = client.get("/v1/status-lists/" + approved.consent.status_list_id)
        keys = {jwk["kid"]: public_key_from_jwk({k: jwk[k] for k in ("kty", "crv", "x")})}
        status_list = verify_status_list(
            listed.text,
            keys=keys,
            uri=f"{base}/v1/status-lists/{approved.consent.status_list_id}",
            now=int(time.time()),
        )
        assert status_list.status(approved.consent.status_idx) is Status.INVALID
    finally:
        db.dispose()
