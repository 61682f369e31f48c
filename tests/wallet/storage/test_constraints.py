"""What the schema refuses (T23 status index reuse, T17 ownership, closed lists).

Each case writes a good row (accepted: the positive control), then the same row
with ONE change, which must be refused as :class:`Misuse` and write nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from regie_protocol.errors import Code, Misuse
from wallet.storage import (
    Consent,
    ConsentEvent,
    Database,
    Record,
    StatusAllocation,
    StatusList,
    TrustedIssuer,
)
from wallet.storage.models import StorageModel

from .conftest import NOW, seed

GOOD_CONSENT = {
    "id": "jti-1",
    "owner": "w1",
    "verifier_id": "https://verifier.example",
    "state": "given",
    "token": "eyJ.x.y",
    "status_list_id": "L1",
    "status_idx": 7,
    "granted_at": NOW,
    "expires_at": NOW + 3600,
}
GOOD_RECORD = {
    "id": "r1",
    "owner": "w1",
    "kind": "credential",
    "ref": None,
    "schema_version": 1,
    "sealed": b"\x00" * 40,
    "created_at": NOW,
    "updated_at": NOW,
}


def _allocate(conn: Connection, *idxs: int) -> None:
    for idx in idxs:
        conn.execute(
            insert(StatusAllocation).values(status_list_id="L1", idx=idx, allocated_at=NOW)
        )


def _consent_setup(conn: Connection) -> None:
    _allocate(conn, 7, 8)


def _event_setup(conn: Connection) -> None:
    _consent_setup(conn)
    conn.execute(insert(Consent).values(**GOOD_CONSENT))


# (id, table, good row, change, setup)
CASES: list[Any] = [
    pytest.param(Consent, GOOD_CONSENT, {"id": "jti-2"}, _consent_setup, id="status-index-reused"),
    pytest.param(
        Consent,
        GOOD_CONSENT,
        {"id": "jti-2", "status_idx": 99},
        _consent_setup,
        id="status-index-not-allocated",
    ),
    pytest.param(
        Consent,
        GOOD_CONSENT,
        {"id": "jti-2", "status_idx": 8, "owner": "nobody"},
        _consent_setup,
        id="consent-of-unknown-owner",
    ),
    pytest.param(Consent, GOOD_CONSENT, {"status_idx": 8}, _consent_setup, id="consent-id-reused"),
    pytest.param(
        Consent,
        GOOD_CONSENT,
        {"id": "jti-2", "status_idx": 8, "state": "active"},
        _consent_setup,
        id="consent-state-outside-dpv-list",
    ),
    pytest.param(
        Consent,
        GOOD_CONSENT,
        {"id": "jti-2", "status_idx": 8, "uses": -1},
        _consent_setup,
        id="consent-uses-negative",
    ),
    pytest.param(
        StatusAllocation,
        {"status_list_id": "L1", "idx": 5, "allocated_at": NOW},
        {},
        None,
        id="status-allocation-repeated",
    ),
    pytest.param(
        StatusAllocation,
        {"status_list_id": "L1", "idx": 5, "allocated_at": NOW},
        {"idx": 6, "status_list_id": "L404"},
        None,
        id="allocation-in-unknown-list",
    ),
    pytest.param(
        StatusAllocation,
        {"status_list_id": "L1", "idx": 5, "allocated_at": NOW},
        {"idx": -1},
        None,
        id="allocation-index-negative",
    ),
    pytest.param(
        StatusList,
        {"id": "L2", "bits": 1, "size": 8, "lst": b"\x00", "iat": NOW},
        {"id": "L3", "bits": 3},
        None,
        id="status-list-bits-not-1-2-4-8",
    ),
    pytest.param(
        Record, GOOD_RECORD, {"id": "r2", "owner": "nobody"}, None, id="record-of-unknown-owner"
    ),
    pytest.param(Record, GOOD_RECORD, {"kind": "holder_key"}, None, id="record-id-reused"),
    pytest.param(
        Record,
        GOOD_RECORD,
        {"id": "r2", "schema_version": 0},
        None,
        id="record-schema-version-zero",
    ),
    pytest.param(
        TrustedIssuer,
        {"owner": "w1", "issuer_id": "https://i.example", "jwks": "{}", "added_at": NOW},
        {"jwks": '{"keys":[]}'},
        None,
        id="trusted-issuer-twice",
    ),
    pytest.param(
        ConsentEvent,
        {"consent_id": "jti-1", "owner": "w1", "name": "consent.granted", "at": NOW},
        {"name": "consent.deleted"},
        _event_setup,
        id="event-name-outside-closed-list",
    ),
    pytest.param(
        ConsentEvent,
        {"consent_id": "jti-1", "owner": "w1", "name": "consent.granted", "at": NOW},
        {"consent_id": "jti-404"},
        _event_setup,
        id="event-for-unknown-consent",
    ),
]


@pytest.mark.parametrize(("table", "good", "change", "setup"), CASES)
def test_schema_refuses(
    db: Database,
    table: type[StorageModel],
    good: dict[str, Any],
    change: dict[str, Any],
    setup: Any,
) -> None:
    def prepare(conn: Connection) -> None:
        seed(conn)
        if setup is not None:
            setup(conn)

    db.run(prepare)

    def count() -> int:
        return db.run(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())

    before = count()
    db.run(lambda c: c.execute(insert(table).values(**good)))  # positive control
    assert count() == before + 1

    def bad(conn: Connection) -> None:
        conn.execute(insert(table).values(**{**good, **change}))

    with pytest.raises(Misuse) as info:
        db.run(bad)
    assert info.value.code is Code.MISUSE
    assert "constraint" in info.value.message
    assert count() == before + 1  # the refused transaction wrote nothing
