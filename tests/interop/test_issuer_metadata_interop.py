"""PyJWT and node ``jose`` verify what the issuer service signs, with the key from its metadata.

The credential comes out of the real OpenID4VCI flow of the issuer's ASGI app;
the keys come from ``/.well-known/jwt-vc-issuer`` and are looked up by the
token's ``kid``, as any verifier would. Both the issuer-signed JWT of the
SD-JWT VC and the Token Status List token are checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from regie_protocol.keys import Alg, SigningKey
from tests.interop.test_jws_interop_node import peer
from tests.issuer.service_harness import (
    Harness,
    access_token,
    c_nonce,
    key_proof,
    request_credential,
    start,
)

pytestmark = [pytest.mark.interop, pytest.mark.anyio]


async def _signed_by_the_service(harness: Harness) -> tuple[str, str, dict[str, dict[str, Any]]]:
    holder = SigningKey.generate(Alg.ES256)
    async with harness.client() as client:
        token = await access_token(client)
        proof = key_proof(holder, nonce=await c_nonce(client), iat=harness.clock.now)
        answer = await request_credential(client, token, proof)
        assert answer.status_code == 200, answer.text
        credential: str = answer.json()["credentials"][0]["credential"]
        status_token = (await client.get("/v1/status-lists/1")).text
        metadata = (await client.get("/.well-known/jwt-vc-issuer")).json()
    jwks = {jwk["kid"]: jwk for jwk in metadata["jwks"]["keys"]}
    return credential.split("~", 1)[0], status_token, jwks


@pytest.fixture(params=[Alg.EDDSA, Alg.ES256], ids=["Ed25519", "P-256"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return start(tmp_path, SigningKey.generate(request.param))


def _key_for(token: str, jwks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return jwks[pyjwt.get_unverified_header(token)["kid"]]


async def test_pyjwt_verifies_the_issuer_jws_and_status_list(harness: Harness) -> None:
    issuer_jwt, status_token, jwks = await _signed_by_the_service(harness)
    for token, typ in ((issuer_jwt, "dc+sd-jwt"), (status_token, "statuslist+jwt")):
        jwk = _key_for(token, jwks)
        verified = pyjwt.decode_complete(
            token,
            key=pyjwt.PyJWK(jwk).key,
            algorithms=[jwk["alg"]],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
        assert verified["header"]["typ"] == typ
        assert verified["payload"]["iss" if typ == "dc+sd-jwt" else "sub"].startswith(
            harness.settings.issuer_id
        )


async def test_node_jose_verifies_the_issuer_jws_and_status_list(harness: Harness) -> None:
    issuer_jwt, status_token, jwks = await _signed_by_the_service(harness)
    results = peer(
        *(
            {
                "op": "verify",
                "token": token,
                "jwk": _key_for(token, jwks),
                "algorithms": ["EdDSA", "ES256"],
                "typ": typ,
                "now": harness.clock.now,
            }
            for token, typ in ((issuer_jwt, "dc+sd-jwt"), (status_token, "statuslist+jwt"))
        )
    )
    assert all(result["ok"] for result in results), results
    assert results[0]["payload"]["vct"].endswith("brp-persoonsgegevens")
    assert results[1]["payload"]["status_list"]["bits"] == 2
