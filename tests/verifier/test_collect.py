"""A verifier's context asks, collects and hears that a consent is over, with its store.

:meth:`~verifier.context.VerifierContext.collect` against the real wallet host
app (the desk of :mod:`tests.verifier.desk_world`), the desk's store on SQLite
and PostgreSQL. When the host refuses a read because the consent is over, the
store knows at once and the purge follows without the status list; a refusal
that does not end the consent (a credential revoked by its issuer, a use
limit) changes nothing in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from regie_protocol.errors import ClaimRefused, Code, Misuse, RegieError, StatusRefused
from regie_protocol.statuslist import Status
from tests.verifier.desk_world import Desk, desk_world
from tests.verifier.host_world import DAY, HOST_URL
from verifier.client import CONSENT_OVER
from verifier.context import Collected
from verifier.purge import PurgeReason, purge
from verifier.store import ConsentRowState
from wallet.consents import revoke
from wallet.requests import refuse

ADDRESS = ["address"]


@pytest.fixture
def desk(tmp_path: Path, store_location: str | Path) -> Iterator[Desk]:
    url = store_location if isinstance(store_location, str) else None
    with desk_world(tmp_path, database_url=url) as built:
        yield built


@pytest.fixture
def sqlite_desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_world(tmp_path) as built:
        yield built


def test_submit_then_collect_pending_then_approved(desk: Desk) -> None:
    context, world = desk.context, desk.world
    claims = world.request_claims()
    request_id = context.submit_request(claims)
    sent = context.store.request(request_id)
    assert sent is not None
    assert (sent.host, sent.request_jti, sent.state) == (HOST_URL, claims.jti, "pending")

    assert context.collect(request_id) == Collected(request_id, HOST_URL, "pending")
    assert context.store.consents() == []

    consent_id = world.approve(request_id)
    collected = context.collect(request_id)
    assert (collected.state, collected.host) == ("approved", HOST_URL)
    assert collected.consent is not None
    assert collected.consent.jti == consent_id
    assert collected.consent.consented == frozenset(ADDRESS)
    stored = context.store.consent(consent_id)
    assert stored is not None
    assert (stored.state, stored.host_request_id) == (ConsentRowState.GIVEN, request_id)
    answered = context.store.request(request_id)
    assert answered is not None
    assert (answered.state, answered.consent_jti) == ("approved", consent_id)
    # collecting again is harmless: the same consent, one row
    again = context.collect(request_id)
    assert again.consent is not None
    assert again.consent.token == collected.consent.token
    assert [c.jti for c in context.store.consents()] == [consent_id]


def test_collect_records_a_refusal(sqlite_desk: Desk) -> None:
    context, world = sqlite_desk.context, sqlite_desk.world
    request_id = context.submit_request(world.request_claims())
    refuse(world.wallet, request_id, now=world.clock.now)
    assert context.collect(request_id) == Collected(request_id, HOST_URL, "refused")
    stored = context.store.request(request_id)
    assert stored is not None
    assert stored.state == "refused"
    assert context.store.consents() == []


def test_collect_of_a_request_not_sent_from_here_is_misuse(sqlite_desk: Desk) -> None:
    with pytest.raises(Misuse):
        sqlite_desk.context.collect("no-such-request")


def test_a_consent_that_answers_another_request_is_not_saved(sqlite_desk: Desk) -> None:
    context, world = sqlite_desk.context, sqlite_desk.world
    # sent with the desk's key, but the store remembers another request id for it
    request_id = context.client(HOST_URL).submit_request(world.request_claims())
    context.store.add_request(HOST_URL, request_id, "req-another", now=world.clock.now)
    world.approve(request_id)
    with pytest.raises(ClaimRefused):
        context.collect(request_id)
    assert context.store.consents() == []
    stored = context.store.request(request_id)
    assert stored is not None
    assert stored.state == "pending"


def test_a_withdrawal_the_host_reports_is_stored_and_purged_at_once(desk: Desk) -> None:
    context, world = desk.context, desk.world
    token = desk.collect()
    assert desk.apply(token).status_code == 201  # the desk keeps the address
    (consent,) = context.store.consents()
    assert len(context.store.kept(consent.jti)) == 1
    revoke(world.wallet, consent.jti, now=world.clock.now)
    # the desk's copy of the consent's status list is fresh and still says yes
    assert context.status.get(consent.status_uri).list.get(consent.status_idx) == Status.VALID

    with pytest.raises(StatusRefused) as caught:
        context.client(HOST_URL).read(token, ADDRESS, policy=context.policy())
    assert caught.value.code in CONSENT_OVER

    ended = context.store.consent(consent.jti)
    assert ended is not None
    assert ended.state == ConsentRowState.WITHDRAWN
    report = purge(context.store, now=world.clock.now, status=context.status)
    assert [(p.consent_id, p.reason) for p in report.purged] == [
        (consent.jti, PurgeReason.WITHDRAWN)
    ]
    assert report.unchecked == ()
    assert context.store.kept() == []


# --- refusals that do not end the consent: the store keeps it given ------------------------


def _read_twice(desk: Desk) -> None:
    desk.context.client(HOST_URL).read(
        desk.context.store.consents()[0].token, ADDRESS, policy=desk.context.policy()
    )


def _credential_revoked(desk: Desk) -> None:
    desk.world.issuer.set_status(desk.world.status_index, Status.INVALID)


@dataclass(frozen=True)
class Case:
    consent: dict[str, object]
    setup: Callable[[Desk], None]
    code: Code | None = None


NOT_OVER: dict[str, Case] = {
    "good": Case({}, lambda d: None),
    "credential-revoked-by-its-issuer": Case({}, _credential_revoked, Code.REVOKED),
    "uses-exhausted": Case({"max_uses": 1}, _read_twice, Code.USES_EXHAUSTED),
    "too-frequent": Case({"frequency": "P1D"}, _read_twice, Code.TOO_FREQUENT),
}


@pytest.mark.parametrize("name", list(NOT_OVER))
def test_refusals_that_do_not_end_the_consent_change_nothing(sqlite_desk: Desk, name: str) -> None:
    case = NOT_OVER[name]
    desk = sqlite_desk
    token = desk.collect(**case.consent)
    case.setup(desk)
    read = desk.context.client(HOST_URL).read
    if case.code is None:
        assert read(token, ADDRESS, policy=desk.context.policy()).use >= 1
    else:
        with pytest.raises(RegieError) as caught:
            read(token, ADDRESS, policy=desk.context.policy())
        assert caught.value.code is case.code
    assert [c.state for c in desk.context.store.consents()] == [ConsentRowState.GIVEN]


def test_an_expired_consent_is_left_to_the_clock(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    token = desk.collect(valid_for=DAY)
    desk.world.clock.now += 2 * DAY
    with pytest.raises(RegieError):
        desk.context.client(HOST_URL).read(token, ADDRESS, policy=desk.context.policy())
    # not marked withdrawn: purge sees the expiry itself and says so
    assert [c.state for c in desk.context.store.consents()] == [ConsentRowState.GIVEN]
