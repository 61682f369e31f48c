"""The host's inbox: a verifier's signed request in; the answer out, only to the key that signed."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from regie_protocol import vocab
from regie_protocol._encoding import b64url_decode, b64url_encode, dumps_compact
from regie_protocol.errors import ClaimRefused, Code, RegieError, SignatureRefused, TimeRefused
from regie_protocol.keys import Alg, SigningKey
from tests.wallet.consents.helpers import UNREGISTERED, snapshot
from tests.wallet.databases import Target
from wallet.inbox import accept_request, answer_for
from wallet.storage import ConsentRequest, RequestState

from .helpers import DAY, HOST_URL, OTHER_VERIFIER, VERIFIER, World


def _count(world: World) -> int:
    return len(world.db.fetch_all(select(ConsentRequest.id)))


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload, what="payload"))
    claims["attributes"] = ["age_over_18"]
    return ".".join((header, b64url_encode(dumps_compact(claims)), signature))


def test_accept_stores_a_pending_request(world: World) -> None:
    token = world.token()
    stored = world.send(token)
    assert stored.created and stored.state is RequestState.PENDING
    assert (stored.owner, stored.verifier_id, stored.request_jti) == (
        world.owner,
        VERIFIER,
        "req-1",
    )
    assert stored.expires_at == world.now + 2 * DAY and stored.received_at == world.now
    assert stored.id != stored.request_jti and len(stored.id) >= 22
    assert stored.to_json() == {"id": stored.id, "state": "pending", "expiresAt": stored.expires_at}
    (row,) = world.db.fetch_all(select(ConsentRequest))
    assert (row["token"], row["state"], row["consent_id"]) == (token, "pending", None)


def test_the_same_request_again_is_the_stored_one(world: World) -> None:
    token = world.token()
    first = world.send(token)
    again = accept_request(world.db, "  " + token + "\n", host_url=HOST_URL, now=world.now + 5)
    assert again.id == first.id and not again.created and again.received_at == world.now
    assert _count(world) == 1


def test_another_request_under_a_used_id_is_refused(world: World, target: Target) -> None:
    world.send(world.token(jti="fixed"))
    before = snapshot(world.db, target.home)
    with pytest.raises(ClaimRefused) as caught:
        world.send(world.token(jti="fixed", attributes=("age_over_18",)))
    assert caught.value.code == Code.IDEMPOTENCY_CONFLICT
    assert snapshot(world.db, target.home) == before


BAD: list[tuple[str, Callable[[World], str], type[RegieError], Code]] = [
    ("unknown_inbox", lambda w: w.token(inbox="nobody-here"), ClaimRefused, Code.REQUEST_UNKNOWN),
    (
        "unregistered_verifier",
        lambda w: w.token(iss=UNREGISTERED, key=SigningKey.generate(Alg.EDDSA)),
        ClaimRefused,
        Code.VERIFIER_UNREGISTERED,
    ),
    (
        "signed_by_another_verifiers_key",
        lambda w: w.token(key=w.other.signing),
        SignatureRefused,
        Code.KEY_UNKNOWN,
    ),
    (
        "signed_by_an_unregistered_key",
        lambda w: w.token(key=SigningKey.generate(Alg.ES256)),
        SignatureRefused,
        Code.KEY_UNKNOWN,
    ),
    ("tampered_claims", lambda w: _tampered(w.token()), SignatureRefused, Code.SIGNATURE_INVALID),
    (
        "attribute_beyond_registration",
        lambda w: w.token(attributes=("diploma_name",)),
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "optional_attribute_beyond_registration",
        lambda w: w.token(optional_attributes=("diploma_name",)),
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "purpose_beyond_registration",
        lambda w: w.token(purpose=vocab.DPV + "Marketing"),
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "other_verifier_over_asking",
        lambda w: w.token(iss=OTHER_VERIFIER, key=w.other.signing, optional_attributes=()),
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "for_another_host",
        lambda w: w.token(aud="https://other-wallet-host.example"),
        ClaimRefused,
        Code.AUDIENCE_MISMATCH,
    ),
    (
        "expired",
        lambda w: w.token(iat=w.now - 3 * DAY, exp=w.now - DAY),
        TimeRefused,
        Code.EXPIRED,
    ),
    (
        "not_a_request",
        lambda w: w.registry.sign(w.registrar),
        SignatureRefused,
        Code.TYP_MISMATCH,
    ),
]


@pytest.mark.parametrize(("make", "exc", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_requests_are_refused_and_write_nothing(
    world: World,
    target: Target,
    make: Callable[[World], str],
    exc: type[RegieError],
    code: Code,
) -> None:
    world.send()  # positive control
    before = snapshot(world.db, target.home)
    with pytest.raises(exc) as caught:
        world.send(make(world))
    assert caught.value.code == code
    assert snapshot(world.db, target.home) == before


def test_a_wallet_without_registry_trusts_no_verifier(world: World) -> None:
    other = world.second_wallet(with_registry=False)
    with pytest.raises(ClaimRefused) as caught:
        world.send(inbox=other.owner)
    assert caught.value.code == Code.VERIFIER_UNREGISTERED
    assert _count(world) == 0


def test_answer_goes_only_to_the_key_that_signed(world: World) -> None:
    stored = world.send()
    jkt = world.verifier.signing.public_key.thumbprint()
    answer = answer_for(world.db, stored.id, jkt=jkt, now=world.now)
    assert answer is not None and answer.state is RequestState.PENDING
    assert answer.consent_token is None and answer.holder_jwk is None
    assert answer.to_json() == {"id": stored.id, "state": "pending"}
    for request_id, key in (
        (stored.id, world.other.signing.public_key.thumbprint()),
        (stored.id, ""),
        ("no-such-request", jkt),
        ("x" * 500, jkt),
        ("../" + stored.id, jkt),
    ):
        assert answer_for(world.db, request_id, jkt=key, now=world.now) is None


def test_a_pending_request_past_exp_is_expired_when_looked_at(world: World) -> None:
    stored = world.send()
    jkt = world.verifier.signing.public_key.thumbprint()
    later = stored.expires_at
    for _ in range(2):
        answer = answer_for(world.db, stored.id, jkt=jkt, now=later)
        assert answer is not None and answer.state is RequestState.EXPIRED
    (row,) = world.db.fetch_all(select(ConsentRequest))
    assert row["state"] == "expired" and row["answered_at"] is None


def test_one_verifier_cannot_take_another_wallets_request_id(world: World) -> None:
    """Request ids are unique per verifier across the whole host."""
    world.send(jti="shared")
    second = world.second_wallet()
    with pytest.raises(ClaimRefused) as caught:
        world.send(jti="shared", inbox=second.owner)
    assert caught.value.code == Code.IDEMPOTENCY_CONFLICT


def test_the_same_request_sent_concurrently_is_stored_once(world: World) -> None:
    token = world.token()
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = list(
            pool.map(
                lambda _: accept_request(world.db, token, host_url=HOST_URL, now=world.now),
                range(16),
            )
        )
    assert len({s.id for s in stored}) == 1
    assert sum(s.created for s in stored) == 1
    assert _count(world) == 1
