"""Grant, look, revoke, expire: the library on SQLite and PostgreSQL, with real keys and tokens."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from regie_protocol import vocab
from regie_protocol._encoding import b64url_encode
from regie_protocol.consent import verify_consent
from regie_protocol.errors import ClaimRefused, Code, Misuse, RegieError
from regie_protocol.statuslist import Status
from tests.wallet.databases import Target
from wallet import consent_status, consents
from wallet.consent_terms import CLI_NOTICE_NL, CLI_NOTICE_SHA256, GDPR_CONSENT
from wallet.consents import GrantTerms
from wallet.storage import Consent, ConsentEvent, StatusAllocation

from .helpers import AGE, HOST_URL, OTHER_VERIFIER, SERVICE, UNREGISTERED, VERIFIER, Setup, snapshot

DAY = 86400


def terms(**changes: Any) -> GrantTerms:
    base = GrantTerms(
        verifier_id=VERIFIER,
        attributes=("age_over_65", "address.locality"),
        purpose=SERVICE,
        valid_for=30 * DAY,
    )
    return dataclasses.replace(base, **changes)


def do_grant(setup: Setup, now: int, **kw: Any) -> consents.GrantedConsent:
    return consents.grant(
        setup.wallet,
        kw.pop("t", terms()),
        registry=setup.registry,
        now=now,
        host_url=HOST_URL,
        **kw,
    )


def test_grant_signs_a_consent_with_every_field(setup: Setup, now: int) -> None:
    granted = do_grant(setup, now)
    key = consents.pairwise_public_key(setup.wallet, VERIFIER, granted.claims.iss)
    verified = verify_consent(
        granted.token, holder_keys={key.thumbprint_uri(): key}, audience=VERIFIER, now=now + 60
    )
    c = verified.claims
    assert c.jti == granted.id and c.aud == VERIFIER and c.iss == key.thumbprint_uri()
    assert (c.iat, c.nbf, c.exp) == (now, now, now + 30 * DAY)
    assert c.cnf_jkt == setup.verifier_key.public_key.thumbprint()
    assert c.status.uri == f"{HOST_URL}/v1/status-lists/consents-1"
    assert c.status.idx == granted.status_idx and granted.status_list_id == "consents-1"
    (detail,) = c.authorization_details
    assert detail.credential_types == (
        "https://credentials.regie.example/vct/brp-persoonsgegevens",
    )
    assert detail.claims == ("age_over_65", "address.locality")
    assert detail.actions == ("present",) and detail.retention == "P0D"
    assert detail.legal_basis == GDPR_CONSENT == "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a"
    assert detail.processing_activity == VERIFIER and detail.recipients == ()
    assert detail.purpose_text.en == "Service Provision" and detail.purpose_text.nl
    assert c.request.id == f"cli-{granted.id}"
    expected = hashlib.sha256(consents.grant_request_json(terms())).digest()
    assert c.request.sha256 == b64url_encode(expected)
    assert c.notice.sha256 == CLI_NOTICE_SHA256 and c.notice.lang == "nl"
    assert b64url_encode(hashlib.sha256(CLI_NOTICE_NL.encode()).digest()) == CLI_NOTICE_SHA256


def test_allocation_consent_and_event_are_written_together(setup: Setup, now: int) -> None:
    granted = do_grant(setup, now)
    db = setup.wallet.db
    (row,) = db.fetch_all(select(Consent))
    assert (row["id"], row["state"], row["status_idx"]) == (granted.id, "given", granted.status_idx)
    alloc = db.fetch_all(select(StatusAllocation))
    assert [(a["status_list_id"], a["idx"]) for a in alloc] == [("consents-1", granted.status_idx)]
    events = consents.history(setup.wallet, granted.id, now=now)
    assert [e.name for e in events] == ["consent.granted"]
    assert events[0].detail["idx"] == granted.status_idx


def test_one_entry_per_credential_type_and_store_with_retention(setup: Setup, now: int) -> None:
    granted = do_grant(
        setup,
        now,
        t=terms(
            attributes=("age_over_18", "given_name"), purpose=AGE, retention="P90D", max_uses=3
        ),
    )
    details = granted.claims.authorization_details
    # given_name is in both BRP and diploma: it goes with age_over_18 to BRP (fewest sources)
    assert len(details) == 1 and details[0].claims == ("age_over_18", "given_name")
    assert details[0].actions == ("present", "store") and details[0].retention == "P90D"
    assert details[0].max_uses == 3


def test_pairwise_keys_differ_per_verifier_and_are_reused(setup: Setup, now: int) -> None:
    first = do_grant(setup, now)
    second = do_grant(setup, now)
    other = do_grant(
        setup, now, t=terms(verifier_id=OTHER_VERIFIER, attributes=("address.locality",))
    )
    assert first.claims.iss == second.claims.iss != other.claims.iss
    refs = sorted(r.ref or "" for r in setup.wallet.find(consents.PAIRWISE_KIND))
    assert refs == sorted([VERIFIER, OTHER_VERIFIER])
    assert first.status_idx != second.status_idx


BAD: list[tuple[str, Callable[[GrantTerms], GrantTerms], type[RegieError], Code]] = [
    (
        "unknown_verifier",
        lambda t: dataclasses.replace(t, verifier_id=UNREGISTERED),
        ClaimRefused,
        Code.VERIFIER_UNREGISTERED,
    ),
    (
        "attribute_beyond_registration",
        lambda t: dataclasses.replace(t, attributes=("age_over_65", "nlqf_level")),
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "purpose_beyond_registration",
        lambda t: dataclasses.replace(t, purpose=vocab.DPV + "Marketing"),
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "attribute_not_held",
        lambda t: dataclasses.replace(t, attributes=("age_over_65", "income_by_year")),
        ClaimRefused,
        Code.ATTRIBUTE_NOT_HELD,
    ),
    (
        "nested_attribute_not_held",
        lambda t: dataclasses.replace(t, attributes=("address.municipality",)),
        ClaimRefused,
        Code.ATTRIBUTE_NOT_HELD,
    ),
    (
        "unknown_purpose_iri",
        lambda t: dataclasses.replace(t, purpose=vocab.DPV + "ServiceProvisioning"),
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    (
        "unknown_legal_basis",
        lambda t: dataclasses.replace(t, legal_basis=vocab.GDPR + "A6-1-z"),
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    (
        "attribute_not_canonical",
        lambda t: dataclasses.replace(t, attributes=("Age_over_65",)),
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    ("zero_validity", lambda t: dataclasses.replace(t, valid_for=0), Misuse, Code.MISUSE),
    ("too_long", lambda t: dataclasses.replace(t, valid_for=401 * DAY), Misuse, Code.MISUSE),
    ("zero_max_uses", lambda t: dataclasses.replace(t, max_uses=0), Misuse, Code.MISUSE),
]


@pytest.mark.parametrize(("change", "exc", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_grants_are_refused_and_write_nothing(
    setup: Setup,
    target: Target,
    now: int,
    change: Callable[[GrantTerms], GrantTerms],
    exc: type[RegieError],
    code: Code,
) -> None:
    do_grant(setup, now)  # positive control, and a list that exists
    before = snapshot(setup.wallet.db, target.home)
    with pytest.raises(exc) as caught:
        do_grant(setup, now, t=change(terms()))
    assert caught.value.code == code
    assert snapshot(setup.wallet.db, target.home) == before


def test_an_expired_credential_does_not_count_as_held(setup: Setup, now: int) -> None:
    later = now + 366 * DAY  # the BRP sample lives 365 days; the diploma 10 years
    with pytest.raises(ClaimRefused) as caught:
        do_grant(setup, later)
    assert caught.value.code == Code.ATTRIBUTE_NOT_HELD
    assert do_grant(setup, later, t=terms(attributes=("given_name",))).claims.exp > later


def test_revoke_sets_state_time_bit_and_event(setup: Setup, now: int) -> None:
    granted = do_grant(setup, now)
    view = consents.revoke(setup.wallet, granted.id, now=now + 10)
    assert view.state.value == "withdrawn" and view.ended_at == now + 10
    assert consents.status_of(setup.wallet, view) == Status.INVALID
    names = [e.name for e in consents.history(setup.wallet, granted.id, now=now + 10)]
    assert names == ["consent.granted", "consent.withdrawn"]
    assert consents.list_consents(setup.wallet, now=now + 10) == []
    assert [
        v.id for v in consents.list_consents(setup.wallet, now=now + 10, include_ended=True)
    ] == [granted.id]


@pytest.mark.parametrize("case", ["unknown", "twice"])
def test_revoke_refuses_unknown_and_ended(
    setup: Setup, target: Target, now: int, case: str
) -> None:
    granted = do_grant(setup, now)
    consent_id = "no-such-consent" if case == "unknown" else granted.id
    if case == "twice":
        consents.revoke(setup.wallet, granted.id, now=now)
    before = snapshot(setup.wallet.db, target.home)
    with pytest.raises(ClaimRefused) as caught:
        consents.revoke(setup.wallet, consent_id, now=now + 1)
    assert caught.value.code == (Code.CONSENT_UNKNOWN if case == "unknown" else Code.CONSENT_ENDED)
    assert snapshot(setup.wallet.db, target.home) == before


def test_expiry_is_noticed_once(setup: Setup, now: int) -> None:
    granted = do_grant(setup, now, t=terms(valid_for=3600))
    assert [v.state.value for v in consents.list_consents(setup.wallet, now=now + 3599)] == [
        "given"
    ]
    after = now + 3600
    assert consents.list_consents(setup.wallet, now=after) == []
    view = consents.show(setup.wallet, granted.id, now=after + 5)
    assert view.state.value == "expired" and view.ended_at == after
    events = consents.history(setup.wallet, now=after + 10)
    assert [e.name for e in events] == ["consent.granted", "consent.expired"]
    with pytest.raises(ClaimRefused) as caught:
        consents.revoke(setup.wallet, granted.id, now=after + 20)
    assert caught.value.code == Code.CONSENT_ENDED


def _draws(values: list[int]) -> Callable[[int], int]:
    it: Iterator[int] = iter(values)
    return lambda n: next(it)


def test_a_taken_index_is_skipped(setup: Setup, now: int) -> None:
    first = do_grant(setup, now, randbelow=_draws([5]))
    second = do_grant(setup, now, randbelow=_draws([5, 5, 9]))
    assert (first.status_idx, second.status_idx) == (5, 9)


def test_a_full_list_rolls_over_to_the_next(setup: Setup, now: int) -> None:
    do_grant(setup, now, randbelow=lambda n: 5)
    second = do_grant(setup, now, randbelow=lambda n: 5)
    assert (second.status_list_id, second.status_idx) == ("consents-2", 5)
    assert second.claims.status.uri.endswith("/v1/status-lists/consents-2")


def test_status_list_has_the_agreed_shape(setup: Setup, now: int) -> None:
    do_grant(setup, now)
    assert consent_status.LIST_SIZE == 2**17 and consent_status.LIST_BITS == 2
    with setup.wallet.db.connect(write=False) as conn:
        assert consent_status.current_list(conn, now=now) == "consents-1"


def test_history_of_all_consents_is_oldest_first(setup: Setup, now: int) -> None:
    a = do_grant(setup, now)
    b = do_grant(setup, now + 1)
    consents.revoke(setup.wallet, a.id, now=now + 2)
    events = consents.history(setup.wallet, now=now + 3)
    assert [(e.consent_id, e.name) for e in events] == [
        (a.id, "consent.granted"),
        (b.id, "consent.granted"),
        (a.id, "consent.withdrawn"),
    ]
    rows = setup.wallet.db.fetch_all(select(ConsentEvent))
    assert len(rows) == 3
