"""The issuer as deployed: a real uvicorn on 127.0.0.1, the whole flow over real HTTP.

The server runs ``uvicorn --factory issuer.app:create_app_from_env`` in a
subprocess with the ``REGIE_ISSUER_*`` environment, on a free port; the test
waits (bounded) until it answers and always stops it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from issuer.metadata import PRE_AUTHORIZED_GRANT
from regie_protocol import sdjwt
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from regie_protocol.statuslist import Status, verify_status_list
from tests.serving import free_port, serve_process

from .service_harness import ADMIN, ADMIN_TOKEN, BRP, BRP_CONFIG, key_proof, write_key

pytestmark = pytest.mark.service


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "REGIE_ISSUER_DEV": "true",
        "REGIE_ISSUER_ISSUER_ID": base,
        "REGIE_ISSUER_KEY_FILE": str(write_key(tmp_path / "key.jwk", SigningKey.generate())),
        "REGIE_ISSUER_STATE_FILE": str(tmp_path / "state.json"),
        "REGIE_ISSUER_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "issuer.app:create_app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    ready = base + "/.well-known/jwt-vc-issuer"
    with serve_process(command, env=env, log=tmp_path / "server.log", ready=ready, name="uvicorn"):
        yield base


def test_flow_over_real_http(server: str) -> None:
    holder = SigningKey.generate(Alg.ES256)
    with httpx.Client(base_url=server, timeout=10.0) as client:
        offered = client.post(
            "/v1/credential-offers",
            json={"credentialConfigurationId": BRP_CONFIG, "claims": dict(BRP.sample)},
            headers=ADMIN,
        )
        assert offered.status_code == 201, offered.text
        code = offered.json()["credentialOffer"]["grants"][PRE_AUTHORIZED_GRANT][
            "pre-authorized_code"
        ]
        token = client.post(
            "/v1/token", data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
        ).json()["access_token"]
        nonce = client.post("/v1/nonce").json()["c_nonce"]
        now = int(time.time())
        answer = client.post(
            "/v1/credential",
            json={
                "credential_configuration_id": BRP_CONFIG,
                "proofs": {"jwt": [key_proof(holder, nonce=nonce, iat=now, aud=server)]},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["api-version"] == "1.0.0"
        credential = answer.json()["credentials"][0]["credential"]
        jwks = client.get("/.well-known/jwt-vc-issuer").json()["jwks"]["keys"]
        keys = {jwk["kid"]: public_key_from_jwk(jwk) for jwk in jwks}
        idx = sdjwt.parse(credential).unverified_claims["status"]["status_list"]["idx"]
        assert client.post(f"/v1/credentials/{idx}/revocation", headers=ADMIN).status_code == 200
        listed = client.get("/v1/status-lists/1")
        missing = client.get("/v1/nothing")
    assert listed.headers["content-type"] == "application/statuslist+jwt"
    status_list = verify_status_list(
        listed.text, keys=keys, uri=server + "/v1/status-lists/1", now=now
    )
    assert status_list.status(idx) is Status.INVALID
    result = sdjwt.verify(
        credential,
        issuer_keys={server: keys},
        key_binding=sdjwt.NoKeyBinding(),
        status=sdjwt.UNSAFE_SKIP_STATUS,  # revoked above; the signature and binding still hold
        now=now,
        accepted_vcts={BRP.ctype.vct},
    )
    assert result.holder_key == holder.public_key
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
