"""The verifier's store and purge: withdrawn, expired, past retention go; the rest is kept.

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
