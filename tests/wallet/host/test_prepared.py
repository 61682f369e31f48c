"""Statements on the DBAPI cursor (:mod:`wallet.host.prepared`), on SQLite and PostgreSQL.

Values are bound, never formatted into the SQL; the statement's own literals
keep their values; a DBAPI error leaves as SQLAlchemy's, so
:meth:`~wallet.storage.Database.run` still turns a constraint violation into
``Misuse`` and re-runs the transaction after a PostgreSQL serialization failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.engine import Connection

from regie_protocol.errors import Misuse
from tests.wallet.databases import postgres_database
from tests.wallet.storage.conftest import NOW, add_wallet
from wallet.host.prepared import Prepared
from wallet.storage import Database, open_database
from wallet.storage.models import metadata

_W = metadata.tables["wallet"]
_EVENT = metadata.tables["consent_event"]
_OWNER_AND_LATER = Prepared.of(
    select(_W.c.id, (_W.c.created_at + 5).label("later")).where(_W.c.id == bindparam("id"))
)
_ADD_EVENT = Prepared.of(
    insert(_EVENT).values(
        consent_id=bindparam("consent_id"),
        owner=bindparam("owner"),
        name="consent.used",
        at=bindparam("at"),
        detail="{}",
    )
)


def test_values_are_bound_and_literals_kept(db: Database) -> None:
    db.run(add_wallet)
    hostile = "w1' OR '1'='1"
    assert db.run(lambda conn: _OWNER_AND_LATER.first(conn, {"id": "w1"})) == ("w1", NOW + 5)
    assert db.run(lambda conn: _OWNER_AND_LATER.first(conn, {"id": hostile})) is None


def test_a_constraint_violation_is_misuse(db: Database) -> None:
    db.run(add_wallet)
    params = {"consent_id": "no-such-consent", "owner": "w1", "at": NOW}
    with pytest.raises(Misuse):
        db.run(lambda conn: _ADD_EVENT.run(conn, params))
    assert db.fetch_all(select(_EVENT)) == []


def test_a_serialization_failure_reruns_the_transaction(tmp_path: Path) -> None:
    conflict = Prepared.of(
        text("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$")
    )
    attempts: list[int] = []

    def work(conn: Connection) -> int:
        attempts.append(1)
        add_wallet(conn)
        if len(attempts) == 1:
            conflict.run(conn, {})  # PostgreSQL's SQLSTATE 40001, as from a conflicting writer
        return len(attempts)

    with postgres_database() as (_, url):
        db = open_database(url, home=tmp_path)
        try:
            assert db.run(work) == 2
            assert [row["id"] for row in db.fetch_all(select(_W.c.id))] == ["w1"]
        finally:
            db.dispose()
