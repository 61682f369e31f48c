"""The verifier's store and purge: withdrawn, expired, past retention go; the rest is kept.

A consent the store knows has ended (the host said so on a read) goes without
the status list; one whose list cannot be had, and that the store knows
nothing about, is reported and kept (fail closed).

Real signed consents and status lists, a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import pytest

from regie_protocol.consent import StatusRef
from regie_protocol.errors import ClaimRefused, Code, Misuse
from regie_protocol.statuslist import Status
from tests.verifier.world import HOST, STATUS_URI, World, detail, make_world
from verifier.purge import PurgeReason, purge
from verifier.store import ConsentRowState, VerifierStore
from verifier.verify import VerifiedConsentToken, verify_consent_token

UNREACHABLE = HOST + "/v1/status-lists/consents-2"
ADDRESS = {"street": "Kerkstraat 1", "locality": "Utrecht"}


def collect(
    world: World, store: VerifierStore, jti: str, idx: int, uri: str = STATUS_URI, **changes: Any
) -> VerifiedConsentToken:
    token = world.token(jti=jti, status=StatusRef(idx=idx, uri=uri), **changes)
    verified = verify_consent_token(token, world.policy(), status=world.cache())
    store.save_consent(verified, world.holder.public_key.to_jwk(), now=world.clock.now)
    return verified


def test_purge_withdrawn_expired_past_retention_and_kept(store: VerifierStore) -> None:
    world = make_world()
    now = world.clock.now
    collect(world, store, "kept", 1)
    collect(world, store, "withdrawn", 2)
    collect(world, store, "expired", 3, exp=now + 100)
    collect(world, store, "retention", 4, authorization_details=(detail(retention="PT60S"),))
    collect(world, store, "suspended", 5)
    for jti in ("kept", "withdrawn", "expired", "retention", "suspended"):
        store.keep(jti, {"address": ADDRESS}, now=now)
    world.server.set(STATUS_URI, 2, Status.INVALID)
    world.server.set(STATUS_URI, 5, Status.SUSPENDED)
    world.clock.now = now + 200

    report = purge(store, now=world.clock.now, status=world.cache())

    reasons = {item.consent_id: item.reason for item in report.purged}
    assert reasons == {
        "withdrawn": PurgeReason.WITHDRAWN,
        "expired": PurgeReason.EXPIRED,
        "retention": PurgeReason.RETENTION,
    }
    assert report.remaining == 2
    assert report.suspended == ("suspended",)
    assert report.unchecked == ()
    assert {row.consent_jti for row in store.kept()} == {"kept", "suspended"}
    assert store.kept("kept")[0].values == {"address": ADDRESS}
    states = {c.jti: c.state for c in store.consents()}
    assert states["withdrawn"] == ConsentRowState.WITHDRAWN
    assert states["expired"] == ConsentRowState.EXPIRED
    assert states["kept"] == ConsentRowState.GIVEN
    assert report.to_json()["purged"][0]["attributes"] == ["address"]
    assert "Kerkstraat" not in str(report.to_json())  # names, never values

    again = purge(store, now=world.clock.now, status=world.cache())
    assert again.purged == ()
    assert again.remaining == 2


def test_unreachable_status_is_reported_not_guessed(store: VerifierStore) -> None:
    world = make_world()
    now = world.clock.now
    world.server.add(UNREACHABLE, world.host_key)
    collect(world, store, "dark", 1, uri=UNREACHABLE)
    store.keep("dark", {"address": ADDRESS}, now=now)
    del world.server.lists[UNREACHABLE]
    report = purge(store, now=now + 10, status=world.cache())
    assert report.purged == ()
    assert [jti for jti, _ in report.unchecked] == ["dark"]
    assert report.remaining == 1
    # past retention it goes all the same
    report = purge(store, now=now + 31 * 86400, status=world.cache())
    assert [(p.consent_id, p.reason) for p in report.purged] == [("dark", PurgeReason.RETENTION)]


def test_purge_acts_on_what_the_store_knows_without_the_status_list(
    store: VerifierStore,
) -> None:
    """A consent the host said is over goes at once: its list fresh (still VALID) or
    unreachable. One the store knows nothing about still fails closed."""
    world = make_world()
    now = world.clock.now
    world.server.add(UNREACHABLE, world.host_key)
    collect(world, store, "told-fresh", 1)
    collect(world, store, "told-dark", 2, uri=UNREACHABLE)
    collect(world, store, "dark", 3, uri=UNREACHABLE)
    for jti in ("told-fresh", "told-dark", "dark"):
        store.keep(jti, {"address": ADDRESS}, now=now)
    cache = world.cache()
    assert cache.get(STATUS_URI).list.get(1) == Status.VALID  # fresh, and it says yes
    del world.server.lists[UNREACHABLE]
    assert store.note_ended("told-fresh") is True
    assert store.note_ended("told-dark") is True

    report = purge(store, now=now + 10, status=cache)

    reasons = {(item.consent_id, item.reason) for item in report.purged}
    assert reasons == {("told-fresh", PurgeReason.WITHDRAWN), ("told-dark", PurgeReason.WITHDRAWN)}
    assert [jti for jti, _ in report.unchecked] == ["dark"]
    assert report.remaining == 1
    assert [row.consent_jti for row in store.kept()] == ["dark"]


def test_note_ended_marks_a_given_consent_once(store: VerifierStore) -> None:
    world = make_world()
    collect(world, store, "given", 1)
    collect(world, store, "expired", 2)
    store.set_consent_state("expired", ConsentRowState.EXPIRED)
    assert store.note_ended("given") is True
    assert store.note_ended("given") is False  # already known
    assert store.note_ended("expired") is False  # ended otherwise: stays as it is
    assert store.note_ended("unknown") is False  # not collected here: nothing to mark
    states = {c.jti: c.state for c in store.consents()}
    assert states == {"given": ConsentRowState.WITHDRAWN, "expired": ConsentRowState.EXPIRED}
    with pytest.raises(ClaimRefused) as caught:
        store.keep("given", {"address": ADDRESS}, now=world.clock.now)
    assert caught.value.code is Code.CONSENT_ENDED


def test_save_answer_records_the_answer_in_one_transaction(store: VerifierStore) -> None:
    world = make_world()
    now = world.clock.now
    token = world.token(jti="c1", status=StatusRef(idx=1, uri=STATUS_URI))
    verified = verify_consent_token(token, world.policy(), status=world.cache())
    jwk = world.holder.public_key.to_jwk()
    store.add_request(HOST, "host-req-1", "req-1", now=now)
    store.add_request(HOST, "host-req-2", "req-2", now=now)

    assert store.save_answer(HOST, "host-req-2", "refused", now=now) is None
    saved = store.save_answer(
        HOST, "host-req-1", "approved", consent=verified, holder_jwk=jwk, now=now
    )
    assert saved is not None
    assert (saved.jti, saved.host_request_id, saved.state) == ("c1", "host-req-1", "given")
    states = {r.host_request_id: (r.state, r.consent_jti) for r in store.requests()}
    assert states == {"host-req-1": ("approved", "c1"), "host-req-2": ("refused", None)}
    # again: the same consent, no second row
    store.save_answer(HOST, "host-req-1", "approved", consent=verified, holder_jwk=jwk, now=now)
    assert [c.jti for c in store.consents()] == ["c1"]


@pytest.mark.parametrize(
    ("state", "with_consent"),
    [
        pytest.param("approved", False, id="approved-without-consent"),
        pytest.param("refused", True, id="refused-with-consent"),
    ],
)
def test_save_answer_refuses_an_answer_that_does_not_fit(
    store: VerifierStore, state: str, with_consent: bool
) -> None:
    world = make_world()
    now = world.clock.now
    verified = verify_consent_token(world.token(), world.policy(), status=world.cache())
    store.add_request(HOST, "host-req-1", "req-1", now=now)
    consent = verified if with_consent else None
    jwk = world.holder.public_key.to_jwk() if with_consent else None
    with pytest.raises(Misuse):
        store.save_answer(HOST, "host-req-1", state, consent=consent, holder_jwk=jwk, now=now)
    assert store.consents() == []


def test_save_answer_for_an_unknown_request_saves_no_consent(store: VerifierStore) -> None:
    world = make_world()
    verified = verify_consent_token(world.token(), world.policy(), status=world.cache())
    with pytest.raises(Misuse):
        store.save_answer(
            HOST,
            "not-sent-from-here",
            "approved",
            consent=verified,
            holder_jwk=world.holder.public_key.to_jwk(),
            now=world.clock.now,
        )
    assert store.consents() == []  # the consent went with the failed transaction


def test_keep_needs_a_consent_that_allows_store(store: VerifierStore) -> None:
    world = make_world()
    now = world.clock.now
    collect(
        world,
        store,
        "present-only",
        1,
        authorization_details=(detail(actions=("present",), retention="P0D"),),
    )
    with pytest.raises(ClaimRefused) as caught:
        store.keep("present-only", {"address": ADDRESS}, now=now)
    assert caught.value.code is Code.NOT_CONSENTED
    collect(world, store, "ok", 2)
    with pytest.raises(ClaimRefused) as caught:
        store.keep("ok", {"income": 1}, now=now)
    assert caught.value.code is Code.NOT_CONSENTED
    with pytest.raises(ClaimRefused) as caught:
        store.keep("ok", {"address": ADDRESS}, now=world.claims().exp + 1)
    assert caught.value.code is Code.CONSENT_ENDED
    with pytest.raises(Misuse):
        store.keep("unknown", {"address": ADDRESS}, now=now)
    kept = store.keep("ok", {"address.locality": "Utrecht"}, now=now)
    assert kept.keep_until == now + 30 * 86400
    assert "Utrecht" not in repr(kept)


def test_store_round_trips_consents_and_requests(store: VerifierStore) -> None:
    world = make_world()
    verified = collect(world, store, "c1", 1)
    stored = store.consent("c1")
    assert stored is not None
    assert stored.token == verified.token
    assert stored.host == HOST
    assert stored.retention == "P30D"
    assert stored.claims == verified.claims
    assert store.holder_key(verified.claims.iss) == world.holder.public_key
    assert store.holder_key("urn:unknown") is None
    # saving the same consent again is a no-op; another token under one id is refused
    store.save_consent(verified, world.holder.public_key.to_jwk(), now=world.clock.now)
    assert len(store.consents()) == 1
    store.add_request(HOST, "host-req-1", "req-1", now=world.clock.now)
    store.add_request(HOST, "host-req-1", "req-1", now=world.clock.now)
    store.set_request_state(HOST, "host-req-1", "approved", consent_jti="c1")
    request = store.request("host-req-1")
    assert request is not None
    assert (request.state, request.consent_jti) == ("approved", "c1")
    assert store.request("nope") is None
    assert [r.host_request_id for r in store.requests()] == ["host-req-1"]
    with pytest.raises(Misuse):
        store.set_request_state(HOST, "nope", "approved")
    with pytest.raises(Misuse):
        store.set_consent_state("nope", ConsentRowState.WITHDRAWN)
    assert store.delete_kept([]) == 0
