"""The issuer service end to end through its ASGI app: offer, token, nonce, credential, status.

The credential is verified with the keys the service publishes at
``/.well-known/jwt-vc-issuer`` and its status with the list the service serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from issuer.metadata import PRE_AUTHORIZED_GRANT
from regie_protocol import sdjwt
from regie_protocol.errors import Code, StatusRefused
from regie_protocol.keys import Alg, PublicKey, SigningKey, public_key_from_jwk
from regie_protocol.statuslist import Status, verify_status_list

from .service_harness import (
    ADMIN,
    BRP,
    ISSUER_ID,
    Harness,
    access_token,
    c_nonce,
    key_proof,
    request_credential,
    start,
)

pytestmark = pytest.mark.anyio
STATUS_URI = ISSUER_ID + "/v1/status-lists/1"


@pytest.fixture
def harness(tmp_path: Path, signing_key: SigningKey) -> Harness:
    return start(tmp_path, signing_key)


async def published_keys(client: httpx.AsyncClient) -> dict[str, PublicKey]:
    metadata = (await client.get("/.well-known/jwt-vc-issuer")).json()
    assert metadata["issuer"] == ISSUER_ID
    return {jwk["kid"]: public_key_from_jwk(jwk) for jwk in metadata["jwks"]["keys"]}


async def status_of(client: httpx.AsyncClient, now: int, idx: int) -> Status:
    answer = await client.get("/v1/status-lists/1")
    assert answer.status_code == 200
    keys = await published_keys(client)
    return verify_status_list(answer.text, keys=keys, uri=STATUS_URI, now=now).status(idx)


async def obtain(harness: Harness, client: httpx.AsyncClient, holder: SigningKey) -> str:
    token = await access_token(client)
    proof = key_proof(holder, nonce=await c_nonce(client), iat=harness.clock.now)
    answer = await request_credential(client, token, proof)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    credentials = answer.json()["credentials"]
    assert len(credentials) == 1
    credential: str = credentials[0]["credential"]
    return credential


def resolver_from(lists: dict[str, Any]) -> sdjwt.StatusResolver:
    def resolve(uri: str, idx: int) -> int:
        return int(lists[uri].status(idx))

    return resolve


@pytest.mark.parametrize("holder_alg", [Alg.EDDSA, Alg.ES256], ids=["Ed25519", "P-256"])
async def test_pre_authorised_flow_gives_a_credential_that_verifies(
    harness: Harness, holder_alg: Alg
) -> None:
    holder = SigningKey.generate(holder_alg)
    async with harness.client() as client:
        credential = await obtain(harness, client, holder)
        keys = await published_keys(client)
        status_list = verify_status_list(
            (await client.get("/v1/status-lists/1")).text,
            keys=keys,
            uri=STATUS_URI,
            now=harness.clock.now,
        )
    result = sdjwt.verify(
        credential,
        issuer_keys={ISSUER_ID: keys},
        key_binding=sdjwt.NoKeyBinding(),
        status=resolver_from({STATUS_URI: status_list}),
        now=harness.clock.now,
        accepted_vcts={BRP.ctype.vct},
    )
    assert result.issuer == ISSUER_ID
    assert result.vct == BRP.ctype.vct
    assert result.holder_key == holder.public_key
    assert result.claims["family_name"] == BRP.sample["family_name"]
    assert result.claims["age_over_18"] is True  # derived by the source at offer time
    assert result.status is not None and result.status[0] == STATUS_URI


async def test_access_token_works_once(harness: Harness) -> None:
    holder = SigningKey.generate(Alg.EDDSA)
    async with harness.client() as client:
        token = await access_token(client)
        first = key_proof(holder, nonce=await c_nonce(client), iat=harness.clock.now)
        assert (await request_credential(client, token, first)).status_code == 200
        second = key_proof(holder, nonce=await c_nonce(client), iat=harness.clock.now)
        again = await request_credential(client, token, second)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_token"


async def test_status_list_is_served_signed_fresh_with_cache_headers(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await client.get("/v1/status-lists/1")
        keys = await published_keys(client)
        harness.clock.now += 7
        later = await client.get("/v1/status-lists/1")
        unchanged = await client.get(
            "/v1/status-lists/1", headers={"If-None-Match": answer.headers["etag"]}
        )
        wrong_type = await client.get(
            "/v1/status-lists/1", headers={"Accept": "application/statuslist+cwt"}
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/statuslist+jwt"
    assert answer.headers["cache-control"] == f"max-age={harness.settings.status_ttl}"
    assert answer.headers["etag"].startswith('W/"')
    assert answer.headers["api-version"] == "1.0.0"
    verified = verify_status_list(answer.text, keys=keys, uri=STATUS_URI, now=harness.clock.now)
    assert verified.ttl == harness.settings.status_ttl
    assert verify_status_list(later.text, keys=keys, uri=STATUS_URI, now=harness.clock.now).iat == (
        verified.iat + 7
    )
    assert later.headers["etag"] == answer.headers["etag"]  # same list, signed anew
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["api-version"] == "1.0.0"
    assert wrong_type.status_code == 406
    assert wrong_type.headers["content-type"] == "application/problem+json"


async def test_revocation_is_in_the_next_list_and_is_final(harness: Harness) -> None:
    holder = SigningKey.generate(Alg.EDDSA)
    async with harness.client() as client:
        credential = await obtain(harness, client, holder)
        idx = sdjwt.parse(credential).unverified_claims["status"]["status_list"]["idx"]
        etag = (await client.get("/v1/status-lists/1")).headers["etag"]
        assert await status_of(client, harness.clock.now, idx) is Status.VALID

        revoked = await client.post(f"/v1/credentials/{idx}/revocation", headers=ADMIN)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json() == {"statusIndex": idx, "status": "revoked"}
        assert await status_of(client, harness.clock.now, idx) is Status.INVALID
        changed = await client.get("/v1/status-lists/1", headers={"If-None-Match": etag})
        assert changed.status_code == 200  # the old ETag no longer matches

        reinstated = await client.post(f"/v1/credentials/{idx}/reinstatement", headers=ADMIN)
        keys = await published_keys(client)
        lists = {
            STATUS_URI: verify_status_list(
                (await client.get("/v1/status-lists/1")).text,
                keys=keys,
                uri=STATUS_URI,
                now=harness.clock.now,
            )
        }
    assert reinstated.status_code == 409
    assert reinstated.headers["content-type"] == "application/problem+json"
    assert reinstated.json()["type"] == "https://regie.example/problems/revoked"
    with pytest.raises(StatusRefused) as refused:
        sdjwt.verify(
            credential,
            issuer_keys={ISSUER_ID: keys},
            key_binding=sdjwt.NoKeyBinding(),
            status=resolver_from(lists),
            now=harness.clock.now,
            accepted_vcts={BRP.ctype.vct},
        )
    assert refused.value.code is Code.REVOKED


async def test_suspension_and_reinstatement(harness: Harness) -> None:
    holder = SigningKey.generate(Alg.EDDSA)
    async with harness.client() as client:
        credential = await obtain(harness, client, holder)
        idx = sdjwt.parse(credential).unverified_claims["status"]["status_list"]["idx"]
        suspended = await client.post(f"/v1/credentials/{idx}/suspension", headers=ADMIN)
        assert suspended.json() == {"statusIndex": idx, "status": "suspended"}
        assert await status_of(client, harness.clock.now, idx) is Status.SUSPENDED
        reinstated = await client.post(f"/v1/credentials/{idx}/reinstatement", headers=ADMIN)
        assert reinstated.json() == {"statusIndex": idx, "status": "valid"}
        assert await status_of(client, harness.clock.now, idx) is Status.VALID
        unknown = await client.post(f"/v1/credentials/{idx ^ 1}/revocation", headers=ADMIN)
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "https://regie.example/problems/status_index_out_of_range"


async def test_metadata_documents(harness: Harness) -> None:
    async with harness.client() as client:
        vci = await client.get("/.well-known/openid-credential-issuer")
        oauth = await client.get("/.well-known/oauth-authorization-server")
        jwks = (await client.get("/.well-known/jwt-vc-issuer")).json()["jwks"]["keys"]
    metadata = vci.json()
    assert vci.headers["cache-control"] == "public, max-age=300"
    assert metadata["credential_issuer"] == ISSUER_ID
    assert metadata["credential_endpoint"] == ISSUER_ID + "/v1/credential"
    assert metadata["nonce_endpoint"] == ISSUER_ID + "/v1/nonce"
    assert metadata["token_endpoint"] == ISSUER_ID + "/v1/token"
    configs = metadata["credential_configurations_supported"]
    assert set(configs) == {"brp-persoonsgegevens", "belastingdienst-inkomen", "duo-diploma"}
    brp = configs["brp-persoonsgegevens"]
    assert brp["format"] == "dc+sd-jwt"
    assert brp["vct"] == BRP.ctype.vct
    assert brp["cryptographic_binding_methods_supported"] == ["jwk"]
    assert brp["credential_signing_alg_values_supported"] == [harness.issuer_key.alg.value]
    assert brp["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "EdDSA",
        "ES256",
    ]
    names = {d["locale"]: d["name"] for d in brp["credential_metadata"]["display"]}
    assert names == {"nl-NL": BRP.ctype.name_nl, "en-US": BRP.ctype.name_en}
    assert oauth.json()["token_endpoint"] == ISSUER_ID + "/v1/token"
    assert oauth.json()["grant_types_supported"] == [PRE_AUTHORIZED_GRANT]
    assert [jwk["kid"] for jwk in jwks] == [harness.issuer_key.kid]
    assert all("d" not in jwk for jwk in jwks)


async def test_retired_keys_stay_published(tmp_path: Path, signing_key: SigningKey) -> None:
    new_key = SigningKey.generate(Alg.ES256)
    old = start(tmp_path, signing_key)
    with old.app.state.issuer.transaction() as issuer:
        issuer.rotate_key(new_key)
    harness = start(tmp_path, new_key)
    async with harness.client() as client:
        metadata = (await client.get("/.well-known/jwt-vc-issuer")).json()
    kids = {jwk["kid"] for jwk in metadata["jwks"]["keys"]}
    assert signing_key.kid in kids
    assert new_key.kid in kids


async def test_offer_answer_holds_an_openid_credential_offer_uri(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await client.post(
            "/v1/credential-offers",
            json={"vct": BRP.ctype.vct, "claims": dict(BRP.sample)},
            headers=ADMIN,
        )
    body = answer.json()
    assert answer.status_code == 201
    offer = body["credentialOffer"]
    assert offer["credential_issuer"] == ISSUER_ID
    assert offer["credential_configuration_ids"] == ["brp-persoonsgegevens"]
    assert body["credentialOfferUri"].startswith("openid-credential-offer://?credential_offer=")
    assert body["expiresIn"] == harness.settings.offer_lifetime
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    state_text = harness.settings.state_file.read_text()
    assert code not in state_text  # only its hash is stored


async def test_openapi_document_is_published_under_the_version(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await client.get("/v1/openapi.json")
        docs = await client.get("/docs")
    assert answer.status_code == 200
    assert answer.headers["api-version"] == "1.0.0"
    assert answer.json()["info"]["version"] == "1.0.0"
    assert docs.status_code == 404  # no interactive docs in the service
