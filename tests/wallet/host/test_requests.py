"""``POST /v1/requests`` and ``GET /v1/requests/{id}``: a refusal table, idempotency, DPoP.

The table (good case first) covers an unregistered verifier, over-asking, a
wrong key or signature, another host, an unknown inbox, malformed input and a
consent token posted as a request. Collecting the answer needs a DPoP proof by
the key that signed the request; another key gets the same 404 as an unknown id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from regie_protocol import consent as ct
from regie_protocol.http import PROBLEM_TYPE_BASE
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from wallet.storage import ConsentRequest, ReadRefusal

from .world import DAY, HOST_URL, NOW, UNREGISTERED, VERIFIER_A, World, new_verifier

Post = Callable[[World], httpx.Response]


@dataclass(frozen=True)
class Case:
    name: str
    post: Post
    status: int
    type: str | None = None


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return ".".join((header, payload, flipped))


CASES = [
    Case("good", lambda w: w.post_request(w.signed_request()), 201),
    Case(
        "unregistered_verifier",
        lambda w: w.post_request(w.signed_request(new_verifier(UNREGISTERED))),
        403,
        "verifier_unregistered",
    ),
    Case(
        "over_asking_beyond_registration",
        lambda w: w.post_request(w.signed_request(attributes=("address", "birthdate"))),
        403,
        "beyond_registration",
    ),
    Case(
        "verifier_b_asks_beyond_its_registration",
        lambda w: w.post_request(w.signed_request(w.b, optional_attributes=("given_name",))),
        403,
        "beyond_registration",
    ),
    Case(
        "signed_by_an_unregistered_key",
        lambda w: w.post_request(w.signed_request(key=SigningKey.generate(Alg.EDDSA))),
        403,
        "key_unknown",
    ),
    Case(
        "signature_tampered",
        lambda w: w.post_request(_tampered(w.signed_request())),
        403,
        "signature_invalid",
    ),
    Case(
        "meant_for_another_host",
        lambda w: w.post_request(w.signed_request(aud="https://other-host.example")),
        403,
        "audience_mismatch",
    ),
    Case(
        "unknown_inbox",
        lambda w: w.post_request(w.signed_request(inbox="no-such-inbox")),
        404,
        "request_unknown",
    ),
    Case(
        "expired_request",
        lambda w: w.post_request(w.signed_request(iat=NOW - 2 * DAY, exp=NOW - DAY)),
        400,
        "expired",
    ),
    Case("not_a_jwt", lambda w: w.post_request("not a jwt"), 400, "malformed"),
    Case(
        "consent_token_as_request",
        lambda w: w.post_request(w.consent().token),
        403,
        "typ_mismatch",
    ),
    Case(
        "unknown_member_in_body",
        lambda w: w.client.post("/v1/requests", json={"request": "x", "inbox": "y"}),
        400,
        "invalid_params",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_request_refusals(sqlite_world: World, case: Case) -> None:
    w = sqlite_world
    response = case.post(w)
    assert response.status_code == case.status, response.text
    if case.status == 201:
        body = response.json()
        assert body["state"] == "pending" and body["expiresAt"] == NOW + DAY
        assert response.headers["location"] == f"/v1/requests/{body['id']}"
        return
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEM_TYPE_BASE + str(case.type)
    if case.type != "invalid_params":
        rows = w.db.fetch_all(select(ReadRefusal).where(ReadRefusal.route == "POST /v1/requests"))  # type: ignore[arg-type]
        assert rows[-1]["code"] == case.type and rows[-1]["detail"]


def test_the_same_request_twice_is_the_same_request(sqlite_world: World) -> None:
    w = sqlite_world
    token = w.signed_request()
    first, again = w.post_request(token), w.post_request(token)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert len(w.db.fetch_all(select(ConsentRequest))) == 1
    claims = w.request_claims()
    w.post_request(w.signed_request(jti=claims.jti))
    conflict = w.post_request(w.signed_request(jti=claims.jti, optional_attributes=()))
    assert conflict.status_code == 409
    assert conflict.json()["type"] == PROBLEM_TYPE_BASE + "idempotency_conflict"


def test_idempotency_key_gives_the_stored_answer(world: World) -> None:
    token = world.signed_request()
    key = {"Idempotency-Key": '"b5d0c1e2-1111-4a4a-9c9c-000000000001"'}
    first = world.post_request(token, key)
    again = world.post_request(token, key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    other = world.post_request(world.signed_request(), key)
    assert other.status_code == 422
    assert other.json()["type"] == PROBLEM_TYPE_BASE + "idempotency_conflict"


def test_posting_requests_is_rate_limited_per_address(tmp_path: object) -> None:
    from pathlib import Path

    from tests.wallet.databases import Target

    from .world import make_world

    assert isinstance(tmp_path, Path)
    with make_world(Target("sqlite", None, tmp_path), rate_limit=1) as w:
        statuses = [w.post_request("not a jwt").status_code for _ in range(6)]
        assert statuses == [400] * 5 + [429]
        limited = w.post_request(w.signed_request())
        assert limited.status_code == 429
        assert limited.json()["type"] == PROBLEM_TYPE_BASE + "rate_limited"
        assert int(limited.headers["retry-after"]) >= 1


def test_the_answer_goes_to_the_requests_key_only(sqlite_world: World) -> None:
    w = sqlite_world
    posted = w.post_request(w.signed_request())
    request_id = posted.json()["id"]
    pending = w.get_request(request_id, w.a.key)
    assert pending.status_code == 200
    assert pending.json() == {"id": request_id, "state": "pending"}
    for key in (w.b.key, SigningKey.generate(Alg.EDDSA)):
        other = w.get_request(request_id, key)
        assert other.status_code == 404
        assert other.json()["type"] == PROBLEM_TYPE_BASE + "not_found"
    unknown = w.get_request("NoSuchRequest123", w.a.key)
    assert (unknown.status_code, unknown.json()) == (other.status_code, other.json())


def test_collecting_the_answer_needs_a_fresh_proof_for_this_url(sqlite_world: World) -> None:
    from regie_protocol.dpop import create_proof

    w = sqlite_world
    request_id = w.post_request(w.signed_request()).json()["id"]
    path = f"/v1/requests/{request_id}"
    missing = w.client.get(path)
    assert missing.status_code == 401
    assert missing.json()["type"] == PROBLEM_TYPE_BASE + "dpop_missing"
    assert missing.headers["www-authenticate"].startswith("DPoP ")
    elsewhere = create_proof(w.a.key, htm="GET", htu=HOST_URL + "/v1/data", now=NOW)
    assert w.client.get(path, headers={"DPoP": elsewhere}).json()["type"].endswith("dpop_invalid")
    proof = create_proof(w.a.key, htm="GET", htu=HOST_URL + path, now=NOW)
    assert w.client.get(path, headers={"DPoP": proof}).status_code == 200
    replayed = w.client.get(path, headers={"DPoP": proof})
    assert replayed.status_code == 401
    assert replayed.json()["type"] == PROBLEM_TYPE_BASE + "dpop_replayed"


def test_an_approved_answer_carries_a_token_its_holder_key_verifies(sqlite_world: World) -> None:
    w = sqlite_world
    granted = w.consent()
    answer = w.get_request(granted.request_id, w.a.key).json()
    assert answer["state"] == "approved" and answer["consentToken"] == granted.token
    holder = public_key_from_jwk(answer["holderJwk"])
    verified = ct.verify_consent(
        granted.token, holder_keys={holder.thumbprint_uri(): holder}, audience=VERIFIER_A, now=NOW
    )
    assert verified.claims.cnf_jkt == w.a.key.public_key.thumbprint()
