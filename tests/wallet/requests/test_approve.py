"""Approve and refuse: one transaction grants the consent, seals the release, answers the request.

The release is checked as the verifier will: decrypted with its encryption
key, each presentation verified by :func:`regie_protocol.sdjwt.verify` with
key binding to this consent (``nonce`` = consent id, ``aud`` = verifier).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from regie_protocol import sdjwt, vocab
from regie_protocol.consent import consent_request_hash, verify_consent
from regie_protocol.errors import ClaimRefused, Code, KeyRefused, RegieError
from regie_protocol.keys import public_key_from_jwk
from regie_protocol.registry import Registry
from tests.wallet.consents.helpers import snapshot
from tests.wallet.databases import Target
from wallet import consents, requests
from wallet.inbox import answer_for
from wallet.storage import Consent, ConsentRequest, Release, RequestState

from .helpers import DAY, GOV_TASK, HOST_URL, SERVICE, VERIFIER, World, build_registry


def approve(world: World, request_id: str, **kw: Any) -> requests.Approved:
    kw.setdefault("registry", world.registry)
    wallet = kw.pop("wallet", world.wallet)
    return requests.approve(wallet, request_id, now=world.now, host_url=HOST_URL, **kw)


def presented(world: World, jwe: str, consent_id: str) -> list[sdjwt.VerifiedSdJwt]:
    """The release as the verifier checks it."""
    content = world.open_release(jwe)
    assert content.consent_id == consent_id and content.sealed_at <= world.now + 60
    return [
        sdjwt.verify(
            p,
            issuer_keys=world.issuer_keys(),
            key_binding=sdjwt.KeyBindingRequired(audience=VERIFIER, nonce=consent_id),
            status=sdjwt.UNSAFE_SKIP_STATUS,
            now=world.now + 1,
            accepted_vcts=None,
        )
        for p in content.presentations
    ]


def _disclosed(verified: list[sdjwt.VerifiedSdJwt]) -> set[tuple[str | int, ...]]:
    return {path for v in verified for path in v.disclosed_paths}


def test_pending_requests_say_who_what_why_and_how_long(world: World) -> None:
    stored = world.send()
    (view,) = requests.pending_requests(world.wallet, now=world.now)
    assert view.id == stored.id and view.state is RequestState.PENDING
    assert (view.verifier_id, view.verifier_name) == (VERIFIER, "Gemeente Utrecht — Ouderenpas")
    assert view.attributes == ("age_over_65", "address.locality")
    assert view.optional_attributes == ("given_name",)
    assert view.purpose == SERVICE and view.purpose_text.en == "Service Provision"
    assert view.purpose_text.nl == "Een dienst leveren"
    assert view.relies_on_consent and view.legal_basis_label == "Art.6(1-a) consent"
    assert (view.valid_for, view.retention, view.max_uses, view.frequency) == (
        30 * DAY,
        "P90D",
        5,
        "P1D",
    )
    assert view.expires_at == world.now + 2 * DAY and view.not_held == ()
    assert view.to_json()["verifier_name"] == "Gemeente Utrecht — Ouderenpas"


def test_a_request_shows_its_own_words_a_legal_task_and_what_is_not_held(world: World) -> None:
    from regie_protocol.consent import LocalizedText

    text = LocalizedText(nl="Uw ouderenpas aanvragen", en="Apply for your senior pass")
    world.send(legal_basis=GOV_TASK, purpose_text=text, optional_attributes=("income_by_year",))
    (view,) = requests.pending_requests(world.wallet, now=world.now)
    assert view.purpose_text == text
    assert not view.relies_on_consent and "6(1-e)" in view.legal_basis_label
    assert view.not_held == ("income_by_year",)


def test_approve_grants_seals_and_answers_in_one_go(world: World) -> None:
    token = world.token()
    stored = world.send(token)
    done = approve(world, stored.id)
    consent = done.consent
    assert done.attributes == ("age_over_65", "address.locality", "given_name")
    assert done.left_out == () and done.request.state is RequestState.APPROVED
    assert done.request.consent_id == consent.id
    assert done.recipient_kid == world.verifier.encryption.public_key.thumbprint()

    # the consent token, checked with the public key the host stores
    (row,) = world.db.fetch_all(select(Consent))
    holder = public_key_from_jwk(json.loads(row["holder_jwk"]))
    verified = verify_consent(
        row["token"],
        holder_keys={holder.thumbprint_uri(): holder},
        audience=VERIFIER,
        now=world.now,
    )
    c = verified.claims
    assert c.jti == consent.id and c.exp == world.now + 30 * DAY
    assert c.request.id == "req-1" and c.request.sha256 == consent_request_hash(token)
    assert c.cnf_jkt == world.verifier.signing.public_key.thumbprint()
    (detail,) = c.authorization_details
    assert detail.claims == ("age_over_65", "address.locality", "given_name")
    assert (detail.max_uses, detail.frequency, detail.retention) == (5, "P1D", "P90D")
    assert detail.actions == ("present", "store") and detail.purpose == SERVICE
    assert detail.legal_basis == vocab.GDPR + "A6-1-a"

    # the request row and the history
    (req,) = world.db.fetch_all(select(ConsentRequest))
    assert (req["state"], req["consent_id"], req["answered_at"]) == (
        "approved",
        consent.id,
        world.now,
    )
    events = consents.history(world.wallet, consent.id, now=world.now)
    assert [(e.name, e.detail["request"]) for e in events] == [("consent.granted", stored.id)]

    # the release: only the consented disclosures, bound to this consent and verifier
    (release,) = world.db.fetch_all(select(Release))
    assert json.loads(release["attributes"]) == list(done.attributes)
    assert release["recipient_kid"] == done.recipient_kid and release["owner"] == world.owner
    (shown,) = presented(world, release["jwe"], consent.id)
    assert shown.key_binding is not None
    assert (shown.key_binding["aud"], shown.key_binding["nonce"]) == (VERIFIER, consent.id)
    assert shown.holder_key == world.holder.public_key
    assert shown.claims["address"] == {"locality": "Utrecht", "country": "NL"}
    assert shown.claims["given_name"] == "Anna Maria" and shown.claims["age_over_65"] is True
    disclosed = _disclosed([shown])
    assert disclosed == {("address",), ("address", "locality"), ("given_name",), ("age_over_65",)}
    for absent in ("family_name", "birthdate", "nationalities", "age_over_18"):
        assert absent not in shown.claims

    # the verifier's answer at the host
    answer = answer_for(
        world.db, stored.id, jkt=world.verifier.signing.public_key.thumbprint(), now=world.now
    )
    assert answer is not None and answer.state is RequestState.APPROVED
    assert answer.consent_token == consent.token
    assert answer.holder_jwk == holder.to_jwk()
    assert requests.pending_requests(world.wallet, now=world.now) == []


def test_one_presentation_per_credential_type(world: World) -> None:
    stored = world.send(attributes=("age_over_65",), optional_attributes=("nlqf_level",))
    done = approve(world, stored.id)
    (release,) = world.db.fetch_all(select(Release))
    shown = presented(world, release["jwe"], done.consent.id)
    assert sorted(v.vct or "" for v in shown) == sorted(
        d.credential_types[0] for d in done.consent.claims.authorization_details
    )
    assert len(shown) == 2 and _disclosed(shown) == {("age_over_65",), ("nlqf_level",)}


@pytest.mark.parametrize(
    ("optional", "leave_out"),
    [
        (("given_name",), ("given_name",)),
        (("given_name", "family_name"), ("given_name", "family_name")),
        (("given_name", "family_name"), ("family_name",)),
    ],
    ids=["the_one_optional", "every_optional", "one_of_two"],
)
def test_leaving_out_optional_attributes(
    world: World, optional: tuple[str, ...], leave_out: tuple[str, ...]
) -> None:
    stored = world.send(optional_attributes=optional)
    done = approve(world, stored.id, leave_out=leave_out)
    kept = tuple(a for a in optional if a not in leave_out)
    assert done.attributes == ("age_over_65", "address.locality", *kept)
    assert done.left_out == leave_out
    (release,) = world.db.fetch_all(select(Release))
    shown = presented(world, release["jwe"], done.consent.id)
    for name in leave_out:
        assert all(name not in v.claims for v in shown)
    for name in kept:
        assert any(name in v.claims for v in shown)


def _withdrawn(world: World) -> Registry:
    return build_registry(world.now, world.registrar, (world.other, frozenset({"address"})))


def _narrower(world: World) -> Registry:
    return build_registry(world.now, world.registrar, (world.verifier, frozenset({"age_over_65"})))


BAD: list[tuple[str, Callable[[World, str], dict[str, Any]], type[RegieError], Code]] = [
    (
        "leave_out_a_required_attribute",
        lambda w, r: {"leave_out": ("age_over_65",)},
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    (
        "leave_out_an_attribute_not_asked",
        lambda w, r: {"leave_out": ("nlqf_level",)},
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    ("unknown_request", lambda w, r: {"request_id": "nope"}, ClaimRefused, Code.REQUEST_UNKNOWN),
    (
        "another_citizens_request",
        lambda w, r: {"wallet": w.second_wallet()},
        ClaimRefused,
        Code.REQUEST_UNKNOWN,
    ),
    (
        "registration_withdrawn_since",
        lambda w, r: {"registry": _withdrawn(w)},
        ClaimRefused,
        Code.VERIFIER_UNREGISTERED,
    ),
    (
        "registration_narrowed_since",
        lambda w, r: {"registry": _narrower(w)},
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
    ),
    (
        "attribute_not_held",
        lambda w, r: {"request_id": w.send(optional_attributes=("income_by_year",)).id},
        ClaimRefused,
        Code.ATTRIBUTE_NOT_HELD,
    ),
    (
        "holder_key_gone_while_sealing",
        lambda w, r: {"delete_holder_key": True},
        KeyRefused,
        Code.KEY_UNKNOWN,
    ),
]


@pytest.mark.parametrize(("make", "exc", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_refused_approvals_change_nothing(
    world: World,
    target: Target,
    make: Callable[[World, str], dict[str, Any]],
    exc: type[RegieError],
    code: Code,
) -> None:
    approve(world, world.send().id)  # positive control
    request_id = world.send().id
    kw = make(world, request_id)
    request_id = kw.pop("request_id", request_id)
    if kw.pop("delete_holder_key", False):
        world.wallet.delete([r.id for r in world.wallet.find("holder_key")])
    before = snapshot(world.db, target.home)
    with pytest.raises(exc) as caught:
        approve(world, request_id, **kw)
    assert caught.value.code == code
    assert snapshot(world.db, target.home) == before


def test_answered_requests_cannot_be_answered_again(world: World) -> None:
    approved = world.send().id
    refused = world.send().id
    expired = world.send(exp=world.now + 60).id
    approve(world, approved)
    requests.refuse(world.wallet, refused, now=world.now)
    for request_id, state in ((approved, "approved"), (refused, "refused")):
        with pytest.raises(ClaimRefused) as again:
            approve(world, request_id)
        with pytest.raises(ClaimRefused) as no:
            requests.refuse(world.wallet, request_id, now=world.now)
        for caught in (again, no):
            assert caught.value.code == Code.REQUEST_ANSWERED and state in str(caught.value)
    later = world.now + 61
    with pytest.raises(ClaimRefused) as late:
        requests.approve(
            world.wallet, expired, registry=world.registry, now=later, host_url=HOST_URL
        )
    assert late.value.code == Code.REQUEST_ANSWERED and "expired" in str(late.value)
    assert requests.show_request(world.wallet, expired, now=later).state is RequestState.EXPIRED


def test_refuse_records_the_answer_and_shares_nothing(world: World) -> None:
    stored = world.send()
    view = requests.refuse(world.wallet, stored.id, now=world.now + 7)
    assert view.state is RequestState.REFUSED and view.answered_at == world.now + 7
    assert view.consent_id is None
    assert world.db.fetch_all(select(Consent)) == [] and world.db.fetch_all(select(Release)) == []
    answer = answer_for(
        world.db, stored.id, jkt=world.verifier.signing.public_key.thumbprint(), now=world.now
    )
    assert answer is not None and answer.state is RequestState.REFUSED
    assert answer.consent_token is None
    assert requests.pending_requests(world.wallet, now=world.now) == []


def test_request_consents_share_the_pairwise_key_with_cli_grants(world: World) -> None:
    cli = world.grant_by_cli()
    done = approve(world, world.send().id)
    assert done.consent.claims.iss == cli.claims.iss
    assert cli.claims.request.id == f"cli-{cli.id}"
    rows = {r["id"]: r["holder_jwk"] for r in world.db.fetch_all(select(Consent))}
    assert rows[cli.id] == rows[done.consent.id] is not None


def _answer(world: World, request_id: str, how: str) -> str:
    """``approve`` or ``refuse`` the request; the outcome, or the refusal's code."""
    try:
        if how == "approve":
            approve(world, request_id)
        else:
            requests.refuse(world.wallet, request_id, now=world.now)
    except ClaimRefused as exc:
        return exc.code.value
    return "ok"


def test_concurrent_answers_to_one_request_leave_one_answer(world: World) -> None:
    """Approve twice and refuse at once: one answer wins, the others are REQUEST_ANSWERED."""
    for _ in range(3):
        request_id = world.send().id
        with ThreadPoolExecutor(max_workers=3) as pool:
            outcomes = list(
                pool.map(
                    lambda how, rid=request_id: _answer(world, rid, how),
                    ["approve", "approve", "refuse"],
                )
            )
        assert sorted(outcomes) == ["ok", "request_answered", "request_answered"]
        view = requests.show_request(world.wallet, request_id, now=world.now)
        linked = [r for r in world.db.fetch_all(select(Consent)) if r["id"] == view.consent_id]
        assert len(linked) == (1 if view.state is RequestState.APPROVED else 0)
    consent_ids = {r["id"] for r in world.db.fetch_all(select(Consent))}
    release_ids = {r["consent_id"] for r in world.db.fetch_all(select(Release))}
    assert consent_ids == release_ids  # no consent without its release, no orphan release
