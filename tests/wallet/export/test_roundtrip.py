"""Export and import on SQLite and PostgreSQL: a faithful restore, no revocation undone (T26)."""

from __future__ import annotations

import json

from regie_protocol._encoding import b64url_decode
from regie_protocol.statuslist import Status
from tests.wallet.consents.helpers import HOST_URL, new_wallet
from wallet import consents
from wallet.export import EXPORT_ALG, EXPORT_CTY, EXPORT_ENC, EXPORT_P2C, export_wallet
from wallet.registry_store import load_registry
from wallet.restore import import_wallet, imported_origins
from wallet.storage import Database

from .helpers import contents, export_passphrase, full_wallet, row_counts, terms


def test_export_is_one_pbes2_jwe(db: Database, now: int) -> None:
    setup, _ = full_wallet(db, now=now)
    text = export_wallet(setup.wallet, export_passphrase(), now=now + 10)
    parts = text.split(".")
    assert len(parts) == 5
    header = json.loads(b64url_decode(parts[0]))
    assert header["alg"] == EXPORT_ALG == "PBES2-HS512+A256KW"
    assert header["enc"] == EXPORT_ENC == "A256GCM"
    assert header["cty"] == EXPORT_CTY and header["p2c"] == EXPORT_P2C >= 210_000
    assert len(b64url_decode(header["p2s"])) >= 16
    for secret in ("Utrecht", "age_over_65", setup.holder_kid):
        assert secret not in text


def test_round_trip_into_a_new_wallet(db: Database, other_db: Database, now: int) -> None:
    setup, ids = full_wallet(db, now=now)
    before = contents(setup.wallet, now=now + 10)
    text = export_wallet(setup.wallet, export_passphrase(), now=now + 10)
    restored = new_wallet(other_db, now=now + 20)
    summary = import_wallet(restored, text.encode(), export_passphrase(), now=now + 20)
    assert summary.source_wallet == setup.wallet.owner != restored.owner
    assert summary.consents_added == 3 and summary.records_added == len(before["records"])
    assert summary.registry == "added" and summary.issuers_added == 1
    after = contents(restored, now=now + 10)
    assert after == before  # every record opened, same tokens, states, events, bits
    assert imported_origins(restored) == [setup.wallet.owner]
    assert load_registry(restored, now=now + 30).version == setup.registry.version
    # the restored wallet keeps working: a new grant reuses the same pairwise key
    new = consents.grant(
        restored, terms(), registry=setup.registry, now=now + 30, host_url=HOST_URL
    )
    old = consents.show(restored, ids[0], now=now + 30)
    assert new.claims.iss == old.claims["iss"]
    assert (new.status_list_id, new.status_idx) not in {
        (c.status_list_id, c.status_idx)
        for c in consents.list_consents(restored, now=now + 30)
        if c.id != new.id
    }


def test_importing_twice_adds_nothing(db: Database, other_db: Database, now: int) -> None:
    setup, _ = full_wallet(db, now=now)
    text = export_wallet(setup.wallet, export_passphrase(), now=now + 10).encode()
    restored = new_wallet(other_db, now=now + 20)
    import_wallet(restored, text, export_passphrase(), now=now + 20)
    counts = row_counts(other_db)
    again = import_wallet(restored, text, export_passphrase(), now=now + 30)
    assert (again.records_added, again.consents_added, again.events_added) == (0, 0, 0)
    assert row_counts(other_db) == counts
    same = import_wallet(setup.wallet, text, export_passphrase(), now=now + 40)
    assert (same.records_added, same.consents_added, same.events_added) == (0, 0, 0)


def test_an_old_export_does_not_undo_a_revocation(db: Database, now: int) -> None:
    """T26: revoke after the export, import the old export: the consent stays withdrawn."""
    setup, ids = full_wallet(db, now=now)
    old = export_wallet(setup.wallet, export_passphrase(), now=now + 10).encode()
    consents.revoke(setup.wallet, ids[0], now=now + 20)
    import_wallet(setup.wallet, old, export_passphrase(), now=now + 30)
    view = consents.show(setup.wallet, ids[0], now=now + 40)
    assert view.state.value == "withdrawn" and view.ended_at == now + 20
    assert consents.status_of(setup.wallet, view) == Status.INVALID
    names = [e.name for e in consents.history(setup.wallet, ids[0], now=now + 40)]
    assert names == ["consent.granted", "consent.withdrawn"]
    assert consents.show(setup.wallet, ids[1], now=now + 40).state.value == "given"


def test_a_newer_export_ends_consents_in_a_restored_wallet(
    db: Database, other_db: Database, now: int
) -> None:
    """A revocation made after a restore is applied by the next import, and stays."""
    setup, ids = full_wallet(db, now=now)
    first = export_wallet(setup.wallet, export_passphrase(), now=now + 10).encode()
    restored = new_wallet(other_db, now=now + 20)
    import_wallet(restored, first, export_passphrase(), now=now + 20)
    assert consents.show(restored, ids[0], now=now + 20).state.value == "given"
    consents.revoke(setup.wallet, ids[0], now=now + 30)
    second = export_wallet(setup.wallet, export_passphrase(), now=now + 40).encode()
    summary = import_wallet(restored, second, export_passphrase(), now=now + 50)
    assert summary.consents_ended == 1 and summary.consents_added == 0
    for text in (second, first):  # and the older one again: nothing moves back
        import_wallet(restored, text, export_passphrase(), now=now + 60)
        view = consents.show(restored, ids[0], now=now + 60)
        assert view.state.value == "withdrawn" and view.ended_at == now + 30
        assert consents.status_of(restored, view) == Status.INVALID
    names = [e.name for e in consents.history(restored, ids[0], now=now + 60)]
    assert names == ["consent.granted", "consent.withdrawn"]
