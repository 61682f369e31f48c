"""API-* refusals of the issuer service: one change to an accepted request, one exact answer.

Every table row starts from the request its sibling ``*_baseline_is_accepted``
test shows is accepted, changes one thing, and asserts the status, the media
type (``application/problem+json``, or ``application/json`` where OAuth /
OpenID4VCI mandate their error format) and the stable problem ``type``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuer.metadata import PRE_AUTHORIZED_GRANT
from regie_protocol._encoding import b64url_encode
from regie_protocol.keys import Alg, SigningKey, Unprotected

from .service_harness import (
    ADMIN,
    BRP,
    BRP_CONFIG,
    Harness,
    access_token,
    c_nonce,
    key_proof,
    offer,
    redeem,
    request_credential,
    start,
)

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"
OAUTH = "application/json"
TYPE = "https://regie.example/problems/"


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return start(tmp_path, SigningKey.generate(Alg.EDDSA))


def assert_refused(
    answer: httpx.Response, status: int, media: str, code: str, error: str | None = None
) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == media
    assert answer.headers["api-version"] == "1.0.0"
    body = answer.json()
    assert body["type"] == TYPE + code
    assert body["status"] == status
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    assert "Traceback" not in answer.text
    if error is not None:
        assert body["error"] == error


# -- admin: credential offers -------------------------------------------------------


def good_offer() -> dict[str, Any]:
    return {"credentialConfigurationId": BRP_CONFIG, "claims": dict(BRP.sample)}


def _offer_with(**changes: Any) -> dict[str, Any]:
    body = good_offer()
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def _claims_with(**changes: Any) -> dict[str, Any]:
    claims = dict(BRP.sample)
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return _offer_with(claims=claims)


@dataclass(frozen=True)
class OfferCase:
    body: dict[str, Any] | bytes
    headers: dict[str, str]
    status: int
    code: str


OFFER_CASES = {
    "API-01 no admin token": OfferCase(good_offer(), {}, 401, "unauthenticated"),
    "API-02 wrong admin token": OfferCase(
        good_offer(), {"Authorization": "Bearer " + "x" * 48}, 401, "unauthenticated"
    ),
    "API-03 admin token as basic auth": OfferCase(
        good_offer(), {"Authorization": "Basic " + "x" * 48}, 401, "unauthenticated"
    ),
    "API-10 claim of the wrong type": OfferCase(
        _claims_with(birthdate="12-04-1958"), ADMIN, 400, "claim_invalid"
    ),
    "API-11 required claim missing": OfferCase(
        _claims_with(family_name=None), ADMIN, 400, "claim_missing"
    ),
    "API-12 claim the schema does not know": OfferCase(
        _claims_with(bsn="123456782"), ADMIN, 400, "claim_invalid"
    ),
    "API-13 credential type not offered": OfferCase(
        _offer_with(credentialConfigurationId="rijbewijs"), ADMIN, 400, "claim_invalid"
    ),
    "API-14 both configuration id and vct": OfferCase(
        _offer_with(vct=BRP.ctype.vct), ADMIN, 400, "invalid_params"
    ),
    "API-15 extra member (mass assignment)": OfferCase(
        _offer_with(statusIndex=7), ADMIN, 400, "invalid_params"
    ),
    "API-16 duplicate JSON member": OfferCase(
        b'{"credentialConfigurationId":"x","credentialConfigurationId":"brp-persoonsgegevens",'
        b'"claims":{}}',
        ADMIN,
        400,
        "duplicate_member",
    ),
    "API-17 body is not JSON": OfferCase(b"{claims", ADMIN, 400, "malformed"),
    "API-29 body over the size limit": OfferCase(
        _offer_with(padding="x" * 70_000), ADMIN, 413, "body_too_large"
    ),
}


async def _post_offer(client: httpx.AsyncClient, case: OfferCase) -> httpx.Response:
    headers = {"Content-Type": "application/json", **case.headers}
    if isinstance(case.body, bytes):
        return await client.post("/v1/credential-offers", content=case.body, headers=headers)
    return await client.post("/v1/credential-offers", json=case.body, headers=case.headers)


async def test_offer_baseline_is_accepted(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await client.post("/v1/credential-offers", json=good_offer(), headers=ADMIN)
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("case", OFFER_CASES.values(), ids=OFFER_CASES.keys())
async def test_offer_refusals(harness: Harness, case: OfferCase) -> None:
    async with harness.client() as client:
        answer = await _post_offer(client, case)
    assert_refused(answer, case.status, PROBLEM, case.code)
    if case.status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_oversized_streamed_body_is_refused(harness: Harness) -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    async with harness.client() as client:
        answer = await client.post(
            "/v1/credential-offers",
            content=chunks(),
            headers={**ADMIN, "Content-Type": "application/json"},
        )
    assert "content-length" not in answer.request.headers
    assert_refused(answer, 413, PROBLEM, "body_too_large")


# -- token endpoint -----------------------------------------------------------------


@dataclass(frozen=True)
class TokenCase:
    change: Callable[[Harness, httpx.AsyncClient, str], Awaitable[httpx.Response]]
    error: str
    code: str


def _form(**changes: str | None) -> Callable[[Harness, httpx.AsyncClient, str], Any]:
    async def send(harness: Harness, client: httpx.AsyncClient, code: str) -> httpx.Response:
        form: dict[str, str | None] = {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": code,
        }
        form.update(changes)
        return await client.post("/v1/token", data={k: v for k, v in form.items() if v})

    return send


async def _reused(harness: Harness, client: httpx.AsyncClient, code: str) -> httpx.Response:
    assert (await redeem(client, code)).status_code == 200
    return await redeem(client, code)


async def _expired(harness: Harness, client: httpx.AsyncClient, code: str) -> httpx.Response:
    harness.clock.now += harness.settings.offer_lifetime
    return await redeem(client, code)


async def _json_body(harness: Harness, client: httpx.AsyncClient, code: str) -> httpx.Response:
    body = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    return await client.post("/v1/token", json=body)


async def _repeated(harness: Harness, client: httpx.AsyncClient, code: str) -> httpx.Response:
    content = f"grant_type={PRE_AUTHORIZED_GRANT}&pre-authorized_code={code}&pre-authorized_code=x"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await client.post("/v1/token", content=content, headers=headers)


TOKEN_CASES = {
    "API-40 reused pre-authorised code": TokenCase(_reused, "invalid_grant", "grant_refused"),
    "API-41 expired pre-authorised code": TokenCase(_expired, "invalid_grant", "grant_refused"),
    "API-42 unknown pre-authorised code": TokenCase(
        _form(**{"pre-authorized_code": "A" * 43}), "invalid_grant", "grant_refused"
    ),
    "API-43 other grant type": TokenCase(
        _form(grant_type="authorization_code"), "unsupported_grant_type", "claim_invalid"
    ),
    "API-44 code missing": TokenCase(
        _form(**{"pre-authorized_code": None}), "invalid_request", "claim_missing"
    ),
    "API-45 unexpected tx_code": TokenCase(
        _form(tx_code="493536"), "invalid_request", "claim_invalid"
    ),
    "API-46 JSON instead of a form": TokenCase(_json_body, "invalid_request", "malformed"),
    "API-47 repeated parameter": TokenCase(_repeated, "invalid_request", "duplicate_member"),
}


async def test_token_baseline_is_accepted(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await _form()(harness, client, await offer(client))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == harness.settings.access_token_lifetime
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("case", TOKEN_CASES.values(), ids=TOKEN_CASES.keys())
async def test_token_refusals(harness: Harness, case: TokenCase) -> None:
    async with harness.client() as client:
        answer = await case.change(harness, client, await offer(client))
    assert_refused(answer, 400, OAUTH, case.code, case.error)


async def test_oauth_errors_come_as_problem_json_when_asked(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await client.post(
            "/v1/token",
            data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "A" * 43},
            headers={"Accept": PROBLEM},
        )
    assert_refused(answer, 400, PROBLEM, "grant_refused", "invalid_grant")


# -- credential endpoint ----------------------------------------------------------------


@dataclass
class Ctx:
    harness: Harness
    client: httpx.AsyncClient
    holder: SigningKey
    token: str
    nonce: str

    def proof(self, **changes: Any) -> str:
        return key_proof(self.holder, nonce=self.nonce, iat=self.harness.clock.now, **changes)

    async def send(self, proof: str | None = None, **request: Any) -> httpx.Response:
        return await request_credential(self.client, self.token, proof or self.proof(), **request)


CredentialChange = Callable[[Ctx], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class CredentialCase:
    change: CredentialChange
    status: int
    error: str
    code: str


def _proof(**changes: Any) -> CredentialChange:
    async def send(ctx: Ctx) -> httpx.Response:
        return await ctx.send(ctx.proof(**changes))

    return send


def _private_jwk(ctx: Ctx) -> dict[str, Any]:
    import json

    return dict(json.loads(ctx.holder.export_private_jwk(protection=Unprotected())))


async def _private_key_in_header(ctx: Ctx) -> httpx.Response:
    return await ctx.send(ctx.proof(header={"jwk": _private_jwk(ctx)}))


async def _kid_instead_of_jwk(ctx: Ctx) -> httpx.Response:
    return await ctx.send(ctx.proof(header={"jwk": None, "kid": ctx.holder.kid}))


async def _kid_and_jwk(ctx: Ctx) -> httpx.Response:
    return await ctx.send(ctx.proof(header={"kid": ctx.holder.kid}))


async def _other_signer(ctx: Ctx) -> httpx.Response:
    return await ctx.send(ctx.proof(sign_with=SigningKey.generate(ctx.holder.alg)))


async def _small_order_key(ctx: Ctx) -> httpx.Response:
    identity = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes([1]) + bytes(31))}
    return await ctx.send(ctx.proof(header={"jwk": identity}))


async def _stale_iat(ctx: Ctx) -> httpx.Response:
    lifetime = ctx.harness.settings.nonce_lifetime
    return await ctx.send(ctx.proof(claims={"iat": ctx.harness.clock.now - lifetime - 120}))


async def _future_iat(ctx: Ctx) -> httpx.Response:
    return await ctx.send(ctx.proof(claims={"iat": ctx.harness.clock.now + 3600}))


async def _reused_nonce(ctx: Ctx) -> httpx.Response:
    other = await access_token(ctx.client)
    assert (await request_credential(ctx.client, other, ctx.proof())).status_code == 200
    return await ctx.send()


async def _expired_nonce(ctx: Ctx) -> httpx.Response:
    ctx.harness.clock.now += ctx.harness.settings.nonce_lifetime
    ctx.token = await access_token(ctx.client)  # a fresh token: only the nonce is old
    return await ctx.send()


async def _no_token(ctx: Ctx) -> httpx.Response:
    body = {"credential_configuration_id": BRP_CONFIG, "proofs": {"jwt": [ctx.proof()]}}
    return await ctx.client.post("/v1/credential", json=body)


async def _wrong_token(ctx: Ctx) -> httpx.Response:
    ctx.token = "B" * 43
    return await ctx.send()


async def _expired_token(ctx: Ctx) -> httpx.Response:
    ctx.harness.clock.now += ctx.harness.settings.access_token_lifetime
    return await ctx.send(ctx.proof())


async def _other_configuration(ctx: Ctx) -> httpx.Response:
    return await ctx.send(config="duo-diploma")


async def _raw(ctx: Ctx, body: bytes, content_type: str = "application/json") -> httpx.Response:
    headers = {"Authorization": f"Bearer {ctx.token}", "Content-Type": content_type}
    return await ctx.client.post("/v1/credential", content=body, headers=headers)


def _body(value: Any) -> CredentialChange:
    async def send(ctx: Ctx) -> httpx.Response:
        import json

        body = value(ctx) if callable(value) else value
        return await _raw(ctx, json.dumps(body).encode())

    return send


async def _not_json(ctx: Ctx) -> httpx.Response:
    return await _raw(ctx, b"credential_configuration_id=brp", "application/x-www-form-urlencoded")


async def _duplicate_member(ctx: Ctx) -> httpx.Response:
    body = (
        '{"credential_configuration_id":"brp-persoonsgegevens",'
        f'"proofs":{{"jwt":["{ctx.proof()}"]}},"proofs":{{"jwt":[]}}}}'
    )
    return await _raw(ctx, body.encode())


CREDENTIAL_CASES = {
    "API-50 no access token": CredentialCase(_no_token, 401, "invalid_token", "unauthenticated"),
    "API-51 unknown access token": CredentialCase(
        _wrong_token, 401, "invalid_token", "unauthenticated"
    ),
    "API-52 expired access token": CredentialCase(
        _expired_token, 401, "invalid_token", "unauthenticated"
    ),
    "API-53 proof typ is not openid4vci-proof+jwt": CredentialCase(
        _proof(header={"typ": "JWT"}), 400, "invalid_proof", "typ_mismatch"
    ),
    "API-54 proof signed by another key than its jwk": CredentialCase(
        _other_signer, 400, "invalid_proof", "signature_invalid"
    ),
    "API-55 proof carries a private jwk": CredentialCase(
        _private_key_in_header, 400, "invalid_proof", "private_key_refused"
    ),
    "API-56 proof jwk is a small-order point": CredentialCase(
        _small_order_key, 400, "invalid_proof", "key_weak"
    ),
    "API-57 proof names a kid instead of a jwk": CredentialCase(
        _kid_instead_of_jwk, 400, "invalid_proof", "header_refused"
    ),
    "API-58 proof has kid and jwk": CredentialCase(
        _kid_and_jwk, 400, "invalid_proof", "header_refused"
    ),
    "API-59 proof alg none": CredentialCase(
        _proof(header={"alg": "none"}), 400, "invalid_proof", "algorithm_refused"
    ),
    "API-60 stale proof iat": CredentialCase(_stale_iat, 400, "invalid_proof", "expired"),
    "API-61 proof iat in the future": CredentialCase(
        _future_iat, 400, "invalid_proof", "issued_in_future"
    ),
    "API-62 proof for another audience": CredentialCase(
        _proof(aud="https://other-issuer.example"), 400, "invalid_proof", "audience_mismatch"
    ),
    "API-63 proof without nonce": CredentialCase(
        _proof(claims={"nonce": None}), 400, "invalid_proof", "claim_missing"
    ),
    "API-64 nonce not issued here": CredentialCase(
        _proof(claims={"nonce": "C" * 43}), 400, "invalid_nonce", "nonce_mismatch"
    ),
    "API-65 reused nonce": CredentialCase(_reused_nonce, 400, "invalid_nonce", "nonce_mismatch"),
    "API-66 expired nonce": CredentialCase(_expired_nonce, 400, "invalid_nonce", "nonce_mismatch"),
    "API-67 configuration the token does not grant": CredentialCase(
        _other_configuration, 400, "unknown_credential_configuration", "claim_invalid"
    ),
    "API-68 no proofs": CredentialCase(
        _body({"credential_configuration_id": BRP_CONFIG}), 400, "invalid_proof", "claim_missing"
    ),
    "API-69 two proofs (no batch issuance)": CredentialCase(
        _body(
            lambda ctx: {
                "credential_configuration_id": BRP_CONFIG,
                "proofs": {"jwt": [ctx.proof(), ctx.proof()]},
            }
        ),
        400,
        "invalid_credential_request",
        "malformed",
    ),
    "API-70 body is not JSON": CredentialCase(
        _not_json, 400, "invalid_credential_request", "malformed"
    ),
    "API-71 duplicate JSON member": CredentialCase(
        _duplicate_member, 400, "invalid_credential_request", "malformed"
    ),
    "API-72 proofs of the wrong type": CredentialCase(
        _body({"credential_configuration_id": BRP_CONFIG, "proofs": {"jwt": "x"}}),
        400,
        "invalid_credential_request",
        "malformed",
    ),
}


async def _context(harness: Harness, client: httpx.AsyncClient) -> Ctx:
    holder = SigningKey.generate(Alg.ES256)
    return Ctx(harness, client, holder, await access_token(client), await c_nonce(client))


async def test_credential_baseline_is_accepted(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await (await _context(harness, client)).send()
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("case", CREDENTIAL_CASES.values(), ids=CREDENTIAL_CASES.keys())
async def test_credential_refusals(harness: Harness, case: CredentialCase) -> None:
    async with harness.client() as client:
        answer = await case.change(await _context(harness, client))
    assert_refused(answer, case.status, OAUTH, case.code, case.error)
    if case.status == 401:
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_a_refused_proof_leaves_the_token_usable(harness: Harness) -> None:
    async with harness.client() as client:
        ctx = await _context(harness, client)
        refused = await ctx.send(ctx.proof(header={"typ": "JWT"}))
        accepted = await ctx.send()
    assert refused.status_code == 400
    assert accepted.status_code == 200, accepted.text


# -- routing ------------------------------------------------------------------------


ROUTING_CASES = {
    "API-80 unknown route": ("GET", "/v1/credentials", 404, "not_found"),
    "API-81 unknown version": ("GET", "/v2/status-lists/1", 404, "not_found"),
    "API-82 trailing slash": ("GET", "/v1/status-lists/1/", 404, "not_found"),
    "API-83 wrong method": ("DELETE", "/v1/status-lists/1", 405, "method_not_allowed"),
    "API-84 GET on a POST route": ("GET", "/v1/credential-offers", 405, "method_not_allowed"),
}


async def test_routing_baseline_is_accepted(harness: Harness) -> None:
    async with harness.client() as client:
        assert (await client.get("/v1/status-lists/1")).status_code == 200


@pytest.mark.parametrize("case", ROUTING_CASES.values(), ids=ROUTING_CASES.keys())
async def test_routing_refusals(harness: Harness, case: tuple[str, str, int, str]) -> None:
    method, path, status, code = case
    async with harness.client() as client:
        answer = await client.request(method, path)
    assert_refused(answer, status, PROBLEM, code)
    if status == 405:
        assert answer.headers["allow"]


async def test_admin_routes_need_the_admin_token(harness: Harness) -> None:
    async with harness.client() as client:
        answer = await client.post(
            "/v1/credentials/1/revocation", headers={"Authorization": "Bearer " + "y" * 48}
        )
    assert_refused(answer, 401, PROBLEM, "unauthenticated")
