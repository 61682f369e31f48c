"""``POST /v1/data`` refusals: one named case per attack, good case first, SQLite and PostgreSQL.

Every case runs the real flow (request, approval, collection with DPoP) and
then the attack. A refusal is problem+json with the stated ``type``, records
no use, and leaves a ``read_refusal`` row with the detail; a ``401`` carries
``WWW-Authenticate: DPoP``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update

from regie_protocol import consent as ct
from regie_protocol._encoding import b64url_decode, b64url_encode, dumps_compact
from regie_protocol.http import PROBLEM_TYPE_BASE
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.registry import Registry
from regie_protocol.statuslist import Status
from wallet import consent_status, consents
from wallet.registry_store import add_registry
from wallet.storage import Consent, ReadRefusal
from wallet.storage import Registry as RegistryRow

from .world import DAY, HOST_URL, NOW, REGISTRAR, Granted, World

Attack = Callable[[World, Granted], httpx.Response]


@dataclass(frozen=True)
class Case:
    name: str
    attack: Attack
    status: int
    type: str | None = None
    #: changes to the consent request the citizen approves
    request: dict[str, Any] | None = None


def good(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token)


def token_for_a_used_by_b(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token, key=w.b.key)


def no_dpop(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token, dpop=False)


def dpop_from_another_key(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token, key=SigningKey.generate(Alg.ES256))


def replayed_dpop(w: World, g: Granted) -> httpx.Response:
    proof = w.proof(w.a.key, g.token)
    assert w.read(g.token, proof=proof).status_code == 200
    return w.read(g.token, proof=proof)


def dpop_for_another_url(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token, proof=w.proof(w.a.key, g.token, htu=HOST_URL + "/v1/requests"))


def dpop_for_another_method(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token, proof=w.proof(w.a.key, g.token, htm="PUT"))


def dpop_for_another_token(w: World, g: Granted) -> httpx.Response:
    other = w.consent()
    return w.read(g.token, proof=w.proof(w.a.key, other.token))


def beyond_max_uses(w: World, g: Granted) -> httpx.Response:
    assert w.read(g.token).status_code == 200
    return w.read(g.token)


def beyond_frequency(w: World, g: Granted) -> httpx.Response:
    assert w.read(g.token).status_code == 200
    w.clock.now += 3600
    return w.read(g.token)


def before_nbf(w: World, g: Granted) -> httpx.Response:
    w.clock.now = NOW - 3600
    return w.read(g.token)


def after_exp(w: World, g: Granted) -> httpx.Response:
    w.clock.now = NOW + DAY + 60
    return w.read(g.token)


def attribute_not_consented(w: World, g: Granted) -> httpx.Response:
    return w.read(g.token, body={"attributes": ["address", "birthdate"]})


def tampered_authorization_details(w: World, g: Granted) -> httpx.Response:
    header, payload, signature = g.token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["authorization_details"][0]["claims"].append("birthdate")
    tampered = ".".join((header, b64url_encode(dumps_compact(claims)), signature))
    return w.read(tampered, body={"attributes": ["birthdate"]})


def revoked_consent(w: World, g: Granted) -> httpx.Response:
    consents.revoke(w.wallet, g.id, now=w.clock.now)
    return w.read(g.token)


def status_bit_revoked(w: World, g: Granted) -> httpx.Response:
    rows = w.db.fetch_all(select(Consent).where(Consent.id == g.id))  # type: ignore[arg-type]
    list_id, idx = rows[0]["status_list_id"], rows[0]["status_idx"]
    w.db.run(lambda conn: consent_status.set_status(conn, list_id, idx, Status.INVALID, now=NOW))
    return w.read(g.token)


def status_bit_suspended(w: World, g: Granted) -> httpx.Response:
    rows = w.db.fetch_all(select(Consent).where(Consent.id == g.id))  # type: ignore[arg-type]
    list_id, idx = rows[0]["status_list_id"], rows[0]["status_idx"]
    w.db.run(lambda conn: consent_status.set_status(conn, list_id, idx, Status.SUSPENDED, now=NOW))
    return w.read(g.token)


def consent_state_suspended(w: World, g: Granted) -> httpx.Response:
    # paused (a restored wallet can hold such a row): refused as suspended, not as ended,
    # so a verifier does not purge what it may keep
    w.db.run(
        lambda conn: conn.execute(
            update(Consent).where(Consent.id == g.id).values(state="suspended")  # type: ignore[arg-type]
        )
    )
    return w.read(g.token)


def consent_unknown_at_host(w: World, g: Granted) -> httpx.Response:
    stranger = SigningKey.generate(Alg.EDDSA)
    claims = ct.claims_from_json(json.loads(b64url_decode(g.token.split(".")[1])))
    forged = ct.sign_consent(
        dataclasses.replace(
            claims, jti=ct.new_consent_id(), iss=stranger.public_key.thumbprint_uri()
        ),
        holder_key=stranger,
    )
    return w.read(forged)


def verifier_no_longer_registered(w: World, g: Granted) -> httpx.Response:
    registrar = SigningKey.generate(Alg.EDDSA)
    smaller = Registry.new(REGISTRAR, now=NOW).with_verifier(
        w.b.registration(frozenset({"address"})), now=NOW
    )
    w.db.run(lambda conn: conn.execute(delete(RegistryRow)))
    add_registry(
        w.wallet, smaller.sign(registrar), now=NOW, registrar_jwk=registrar.public_key.to_jwk()
    )
    return w.read(g.token)


def credential_as_consent_token(w: World, g: Granted) -> httpx.Response:
    (record,) = w.wallet.find("credential")
    sd_jwt = str(record.payload["sd_jwt"])
    return w.read(sd_jwt, proof=w.proof(w.a.key, sd_jwt))


def issuer_signed_part_as_consent_token(w: World, g: Granted) -> httpx.Response:
    (record,) = w.wallet.find("credential")
    jwt = str(record.payload["sd_jwt"]).split("~", 1)[0]
    return w.read(jwt, proof=w.proof(w.a.key, jwt))


def bearer_instead_of_dpop(w: World, g: Granted) -> httpx.Response:
    proof = w.proof(w.a.key, g.token)
    return w.client.post("/v1/data", headers={"Authorization": f"Bearer {g.token}", "DPoP": proof})


def no_authorization(w: World, g: Granted) -> httpx.Response:
    return w.client.post("/v1/data", headers={"DPoP": w.proof(w.a.key, g.token)})


CASES = [
    Case("good", good, 200),
    Case("token_for_verifier_a_used_by_b", token_for_a_used_by_b, 401, "dpop_key_mismatch"),
    Case("no_dpop", no_dpop, 401, "dpop_missing"),
    Case("dpop_from_another_key", dpop_from_another_key, 401, "dpop_key_mismatch"),
    Case("replayed_dpop", replayed_dpop, 401, "dpop_replayed"),
    Case("dpop_for_another_url", dpop_for_another_url, 401, "dpop_invalid"),
    Case("dpop_for_another_method", dpop_for_another_method, 401, "dpop_invalid"),
    Case("dpop_for_another_token", dpop_for_another_token, 401, "dpop_invalid"),
    Case("beyond_max_uses", beyond_max_uses, 403, "uses_exhausted", {"max_uses": 1}),
    Case("beyond_frequency", beyond_frequency, 403, "too_frequent", {"frequency": "P1D"}),
    Case("before_nbf", before_nbf, 403, "not_yet_valid"),
    Case("after_exp", after_exp, 403, "expired", {"valid_for": DAY}),
    Case("attribute_not_consented", attribute_not_consented, 403, "not_consented"),
    Case(
        "tampered_authorization_details",
        tampered_authorization_details,
        401,
        "signature_invalid",
    ),
    Case("revoked_withdrawn_consent", revoked_consent, 403, "consent_ended"),
    Case("status_bit_revoked", status_bit_revoked, 403, "revoked"),
    Case("status_bit_suspended", status_bit_suspended, 403, "suspended"),
    Case("consent_state_suspended", consent_state_suspended, 403, "suspended"),
    Case("consent_unknown_at_host", consent_unknown_at_host, 401, "consent_unknown"),
    Case(
        "verifier_no_longer_registered",
        verifier_no_longer_registered,
        403,
        "verifier_unregistered",
    ),
    Case("credential_as_consent_token", credential_as_consent_token, 401, "malformed"),
    Case(
        "credential_jwt_as_consent_token",
        issuer_signed_part_as_consent_token,
        401,
        "typ_mismatch",
    ),
    Case("bearer_instead_of_dpop", bearer_instead_of_dpop, 401, "dpop_missing"),
    Case("no_authorization", no_authorization, 401, "claim_missing"),
]


def _uses(w: World, consent_id: str) -> int:
    rows = w.db.fetch_all(select(Consent).where(Consent.id == consent_id))  # type: ignore[arg-type]
    return int(rows[0]["uses"])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_read_refusals(world: World, case: Case) -> None:
    granted = world.consent(**(case.request or {}))
    uses_before = _uses(world, granted.id)
    refusals_before = len(world.db.fetch_all(select(ReadRefusal)))
    response = case.attack(world, granted)
    assert response.status_code == case.status, response.text
    if case.status == 200:
        body = response.json()
        assert body["consent"] == granted.id and body["use"] == uses_before + 1
        assert body["attributes"] == ["address", "given_name"]
        assert body["release"].count(".") == 4
        return
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM_TYPE_BASE + str(case.type)
    assert problem["status"] == case.status
    assert "token" not in problem["detail"].lower() or case.status == 401
    if case.status == 401:
        assert response.headers["www-authenticate"].startswith('DPoP algs="ES256 EdDSA", error=')
    rows = world.db.fetch_all(select(ReadRefusal).order_by(ReadRefusal.id))  # type: ignore[arg-type]
    assert len(rows) == refusals_before + 1
    assert rows[-1]["code"] == case.type and rows[-1]["route"] == "POST /v1/data"
    assert rows[-1]["detail"]  # the inward record keeps what the answer leaves out
    uses_after = _uses(world, granted.id)
    assert uses_after == uses_before + (1 if case.name in _ONE_GOOD_READ_FIRST else 0)


_ONE_GOOD_READ_FIRST = {"replayed_dpop", "beyond_max_uses", "beyond_frequency"}
