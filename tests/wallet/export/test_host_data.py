"""Exports carry what the wallet host serves from; after an import elsewhere it serves reads.

On SQLite and PostgreSQL: holder keys, the last read, sealed releases and
verifiers' requests come along (export version 2), move only forward on a
second import, and an export of version 1 (without them) still imports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from regie_protocol.errors import ClaimRefused, Code, MalformedInput, RegieError, StatusRefused
from regie_protocol.keys import Alg, SigningKey, Unprotected
from tests.wallet.consents.helpers import new_wallet, snapshot
from tests.wallet.databases import Target
from tests.wallet.requests.helpers import DAY, HOST_URL, make_world
from tests.wallet.requests.test_reseal import MOVED
from wallet import requests
from wallet.export import build_export, encrypt_export, export_wallet
from wallet.inbox import answer_for
from wallet.restore import import_wallet
from wallet.storage import Database, RequestState

from .helpers import export_passphrase, sibling
from .host_helpers import Answered, answered_world, host_contents, read, release_sources

PP = export_passphrase()


def _export(a: Answered, now: int) -> bytes:
    return export_wallet(a.world.wallet, PP, now=now).encode()


def _approve_pending(a: Answered, now: int) -> requests.Approved:
    return requests.approve(
        a.world.wallet, a.pending_request.id, registry=a.world.registry, now=now, host_url=HOST_URL
    )


def _move(a: Answered, now: int) -> None:
    """A new address: every release made from the old BRP credential is sealed again."""
    a.world.store_credential("brp", now=now, claims=MOVED)
    assert requests.reseal(a.world.wallet, now=now) >= 1


def test_a_restored_wallets_host_serves_reads(db: Database, other_db: Database, now: int) -> None:
    a = answered_world(db, now=now)
    assert read(db, a.token, a.key, now=now + 10).use == 1
    text = _export(a, now + 20)
    restored = new_wallet(other_db, now=now + 30)
    summary = import_wallet(restored, text, PP, now=now + 30)
    assert (summary.releases_added, summary.requests_added) == (1, 3)
    assert (summary.releases_replaced, summary.requests_answered) == (0, 0)
    assert host_contents(other_db) == host_contents(db)
    assert release_sources(restored) == release_sources(a.world.wallet)
    # the last read came along: the consent's frequency (one read a day) still holds
    with pytest.raises(StatusRefused) as caught:
        read(other_db, a.token, a.key, now=now + 3600)
    assert caught.value.code is Code.TOO_FREQUENT
    later = read(other_db, a.token, a.key, now=now + DAY + 20)
    assert later.use == 2 and sorted(later.attributes) == sorted(a.approved.attributes)
    assert a.world.open_release(later.release).consent_id == a.approved.consent.id
    # the verifier collects its answer at the restored host: the token and the holder key
    answer = answer_for(
        other_db, a.approved_request.id, jkt=a.key.public_key.thumbprint(), now=now + 40
    )
    assert answer is not None and answer.state is RequestState.APPROVED
    assert answer.consent_token == a.token and answer.holder_jwk is not None
    # the citizen still sees the pending request; the refused one stays refused
    pending = requests.pending_requests(restored, now=now + 40)
    assert [v.id for v in pending] == [a.pending_request.id]
    refused = requests.show_request(restored, a.refused_request.id, now=now + 40)
    assert refused.state is RequestState.REFUSED


def test_an_older_export_moves_no_host_data_back(db: Database, now: int) -> None:
    """T26 for the host's rows: answered stays answered, a newer release and read stay."""
    a = answered_world(db, now=now)
    old = _export(a, now + 10)
    _approve_pending(a, now + 20)
    read(db, a.token, a.key, now=now + 30)
    _move(a, now + 40)
    before, sources = host_contents(db), release_sources(a.world.wallet)
    summary = import_wallet(a.world.wallet, old, PP, now=now + 50)
    assert (summary.releases_added, summary.releases_replaced) == (0, 0)
    assert (summary.requests_added, summary.requests_answered) == (0, 0)
    assert host_contents(db) == before
    assert release_sources(a.world.wallet) == sources


def test_a_newer_export_moves_a_restored_wallet_forward(
    db: Database, other_db: Database, now: int
) -> None:
    a = answered_world(db, now=now)
    first = _export(a, now + 10)
    restored = new_wallet(other_db, now=now + 20)
    import_wallet(restored, first, PP, now=now + 20)
    _approve_pending(a, now + 30)
    read(db, a.token, a.key, now=now + 40)
    _move(a, now + 50)
    second = _export(a, now + 60)
    summary = import_wallet(restored, second, PP, now=now + 70)
    assert (summary.requests_added, summary.requests_answered) == (0, 1)
    assert (summary.releases_added, summary.releases_replaced) == (1, 1)
    assert host_contents(other_db) == host_contents(db)
    assert release_sources(restored) == release_sources(a.world.wallet)
    for text in (second, first):  # again, and the older one: nothing moves back
        import_wallet(restored, text, PP, now=now + 80)
        assert host_contents(other_db) == host_contents(db)
        assert release_sources(restored) == release_sources(a.world.wallet)


def _as_version_1(doc: dict[str, Any]) -> dict[str, Any]:
    """The same document as Regie wrote it before the wallet host (export version 1)."""
    old = {k: v for k, v in doc.items() if k not in ("releases", "requests")}
    old["version"] = 1
    old["consents"] = [
        {k: v for k, v in c.items() if k not in ("holder_jwk", "last_used_at")}
        for c in doc["consents"]
    ]
    return old


def test_a_version_1_export_still_imports(db: Database, other_db: Database, now: int) -> None:
    a = answered_world(db, now=now)
    read(db, a.token, a.key, now=now + 10)
    v1 = encrypt_export(_as_version_1(build_export(a.world.wallet, now=now + 20)), PP).encode()
    before = host_contents(db)
    same = import_wallet(a.world.wallet, v1, PP, now=now + 30)
    assert (same.consents_added, same.releases_added, same.requests_added) == (0, 0, 0)
    assert host_contents(db) == before  # nothing of the host's is lost or moved back
    restored = new_wallet(other_db, now=now + 40)
    summary = import_wallet(restored, v1, PP, now=now + 40)
    assert summary.consents_added == 1
    assert (summary.releases_added, summary.requests_added) == (0, 0)
    consent = a.approved.consent.id
    assert host_contents(other_db) == {
        "releases": [],
        "requests": [],
        "consents": [(consent, None, 1, None)],
    }
    assert release_sources(restored) == []  # no release came, so no record of its sources
    # a version 2 export later fills in the holder key, the last read, releases, requests
    import_wallet(restored, _export(a, now + 50), PP, now=now + 50)
    assert host_contents(other_db) == host_contents(db)
    assert release_sources(restored) == release_sources(a.world.wallet)


# --- refusals: each a MalformedInput before storage, the vault unchanged -----------------


def _approved(doc: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in doc["requests"] if r["state"] == "approved")


def _pending(doc: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in doc["requests"] if r["state"] == "pending")


def _swap_request_tokens(doc: dict[str, Any]) -> None:
    _approved(doc)["token"], _pending(doc)["token"] = (
        _pending(doc)["token"],
        _approved(doc)["token"],
    )


def _another_key(doc: dict[str, Any]) -> None:
    doc["consents"][0]["holder_jwk"] = SigningKey.generate(Alg.EDDSA).public_key.to_jwk()


def _private_key(doc: dict[str, Any]) -> None:
    key = SigningKey.generate(Alg.EDDSA)
    doc["consents"][0]["holder_jwk"] = json.loads(key.export_private_jwk(protection=Unprotected()))


Change = Callable[[dict[str, Any]], object]
HOST_BAD: list[tuple[str, Change | None, type[RegieError] | None]] = [
    ("good", None, None),
    ("holder_jwk_of_another_key", _another_key, MalformedInput),
    ("holder_jwk_private", _private_key, MalformedInput),
    (
        "last_used_at_not_a_time",
        lambda d: d["consents"][0].update(last_used_at="x"),
        MalformedInput,
    ),
    (
        "release_of_unknown_consent",
        lambda d: d["releases"][0].update(consent_id="c-unknown"),
        MalformedInput,
    ),
    ("release_twice", lambda d: d["releases"].append(dict(d["releases"][0])), MalformedInput),
    (
        "release_attributes_widened",
        lambda d: d["releases"][0]["attributes"].append("family_name"),
        MalformedInput,
    ),
    (
        "release_recipient_changed",
        lambda d: d["releases"][0].update(recipient_kid="A" * 43),
        MalformedInput,
    ),
    ("release_not_a_jwe", lambda d: d["releases"][0].update(jwe="not.a.release"), MalformedInput),
    ("request_token_swapped", _swap_request_tokens, MalformedInput),
    ("request_unknown_state", lambda d: _pending(d).update(state="forgotten"), MalformedInput),
    ("approved_without_consent", lambda d: _approved(d).update(consent_id=None), MalformedInput),
    (
        "pending_with_consent",
        lambda d: _pending(d).update(consent_id=_approved(d)["consent_id"]),
        MalformedInput,
    ),
    (
        "request_of_unknown_consent",
        lambda d: _approved(d).update(consent_id="c-unknown"),
        MalformedInput,
    ),
    ("version_2_members_in_version_1", lambda d: d.update(version=1), MalformedInput),
    ("version_2_without_requests", lambda d: d.pop("requests"), MalformedInput),
]


@pytest.mark.parametrize(("case", "change", "error"), HOST_BAD, ids=[b[0] for b in HOST_BAD])
def test_bad_host_data_refused_and_vault_unchanged(
    target: Target, now: int, case: str, change: Change | None, error: type[RegieError] | None
) -> None:
    db = target.open()
    try:
        a = answered_world(db, now=now)
        doc = json.loads(json.dumps(build_export(a.world.wallet, now=now)))
        if change is not None:
            change(doc)
        data = encrypt_export(doc, PP).encode()
        before = snapshot(db, target.home)
        if error is None:  # the unchanged document imports (into the wallet that made it)
            summary = import_wallet(a.world.wallet, data, PP, now=now + 100)
            assert (summary.releases_added, summary.requests_added) == (0, 0)
            return
        with pytest.raises(error) as caught:
            import_wallet(a.world.wallet, data, PP, now=now + 100)
        assert type(caught.value) is error and caught.value.code is Code.MALFORMED
        assert "\n" not in str(caught.value)
        assert snapshot(db, target.home) == before
    finally:
        db.dispose()


def test_a_request_held_by_another_wallet_here_is_refused(target: Target, now: int) -> None:
    """Request ids are the host's: one another wallet in this database holds refuses all."""
    db = target.open()
    try:
        world = make_world(db, now=now)
        world.send()
        text = export_wallet(world.wallet, PP, now=now).encode()
        neighbour = world.second_wallet()  # empty, so it may take another wallet's export
        before = snapshot(db, target.home)
        with pytest.raises(ClaimRefused) as caught:
            import_wallet(neighbour, text, PP, now=now + 10)
        assert caught.value.code is Code.CLAIM_INVALID
        assert snapshot(db, target.home) == before
    finally:
        db.dispose()
    with sibling(target) as other:  # positive control: at another host it imports
        other_db = other.open()
        try:
            restored = new_wallet(other_db, now=now)
            assert import_wallet(restored, text, PP, now=now + 10).requests_added == 1
        finally:
            other_db.dispose()
