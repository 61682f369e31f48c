"""Transactions: all or nothing, no lost update under concurrent writers (FI-09 in small)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import col

from regie_protocol.errors import Code, Misuse, Unavailable
from wallet.storage import Consent, Database, Record, StatusAllocation, Wallet

from .conftest import NOW, add_wallet, record_row, seed

ROOT = Path(__file__).resolve().parents[3]


def _count(db: Database, table: type[Wallet] | type[Record]) -> int:
    return db.run(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())


class Boom(Exception):
    pass


def test_core_transaction_that_raises_writes_nothing(db: Database) -> None:
    db.run(add_wallet)

    def work(conn: Connection) -> None:
        conn.execute(insert(Record).values(**record_row(1)))
        raise Boom

    with pytest.raises(Boom):
        db.run(work)

    def in_block() -> None:
        with db.connect() as conn:
            conn.execute(insert(Record).values(**record_row(2)))
            raise Boom

    with pytest.raises(Boom):
        in_block()
    assert _count(db, Record) == 0
    db.run(lambda c: c.execute(insert(Record).values(**record_row(3))))  # positive control
    assert _count(db, Record) == 1


def test_session_transaction_that_raises_writes_nothing(db: Database) -> None:
    def in_block() -> None:
        with db.transaction() as session:
            session.add(Wallet(id="w9", created_at=NOW, kdf_header=b"h", wrapped_master=b"m"))
            session.commit()  # only a flush: the block decides
            raise Boom

    with pytest.raises(Boom):
        in_block()
    assert _count(db, Wallet) == 0
    with db.transaction() as session:
        session.add(Wallet(id="w9", created_at=NOW, kdf_header=b"h", wrapped_master=b"m"))
    assert _count(db, Wallet) == 1
    got = db.run_session(lambda s: s.get(Wallet, "w9"), write=False)
    assert got is not None
    assert got.wrapped_master == b"m"


def test_execute_and_fetch_helpers(db: Database) -> None:
    db.run(add_wallet)
    assert db.execute(update(Wallet).where(col(Wallet.id) == "w1").values(created_at=NOW + 1)) == 1
    rows = db.fetch_all(select(col(Wallet.id), col(Wallet.created_at)))
    assert [dict(r) for r in rows] == [{"id": "w1", "created_at": NOW + 1}]


def test_attempts_below_one_is_misuse(db: Database) -> None:
    with pytest.raises(Misuse) as info:
        db.run(lambda c: None, attempts=0)
    assert info.value.code is Code.MISUSE


def _setup_counter(db: Database) -> None:
    def work(conn: Connection) -> None:
        seed(conn)
        conn.execute(insert(StatusAllocation).values(status_list_id="L1", idx=0, allocated_at=NOW))
        conn.execute(
            insert(Consent).values(
                id="c",
                owner="w1",
                verifier_id="v",
                state="given",
                token="t",
                status_list_id="L1",
                status_idx=0,
                granted_at=NOW,
                expires_at=NOW + 10,
            )
        )

    db.run(work)


def _increment(conn: Connection) -> None:
    uses = conn.execute(select(col(Consent.uses)).where(col(Consent.id) == "c")).scalar_one()
    conn.execute(update(Consent).where(col(Consent.id) == "c").values(uses=uses + 1))


def _uses(db: Database) -> int:
    return db.run(lambda c: c.execute(select(col(Consent.uses))).scalar_one(), write=False)


def test_concurrent_read_modify_write_loses_no_update(db: Database) -> None:
    # read then write in one transaction: lost updates if isolation were too weak
    _setup_counter(db)
    threads, each = 8, 15

    def worker(_: int) -> None:
        for _ in range(each):
            db.run(_increment)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    assert _uses(db) == threads * each


@pytest.mark.parametrize("target", ["postgresql"], indirect=True)
def test_postgresql_conflict_without_retry_is_unavailable(db: Database) -> None:
    # SQLite has no such conflict: BEGIN IMMEDIATE makes the second writer wait
    _setup_counter(db)

    def interleaved() -> None:
        # a transaction opened as read-only (a write one would take the log lock first,
        # and the concurrent writer below would wait for it instead of conflicting)
        with db.connect(write=False) as first:
            first.execute(select(col(Consent.uses))).scalar_one()
            db.run(_increment, attempts=1)  # a concurrent transaction commits in between
            _increment(first)

    with pytest.raises(Unavailable) as info:
        interleaved()
    assert info.value.code is Code.UNAVAILABLE
    assert _uses(db) == 1  # only the committed one counted


_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sqlalchemy import select, update
    from wallet.storage import Consent, open_database

    def inc(conn):
        uses = conn.execute(select(Consent.uses).where(Consent.id == "c")).scalar_one()
        conn.execute(update(Consent).where(Consent.id == "c").values(uses=uses + 1))

    db = open_database(None, home=Path(sys.argv[1]))
    for _ in range(int(sys.argv[2])):
        db.run(inc)
    db.dispose()
    """
)


def test_sqlite_writer_processes_lose_no_update(tmp_path: Path) -> None:
    from wallet.storage import open_database

    db = open_database(None, home=tmp_path)
    _setup_counter(db)
    procs, each = 3, 20
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path), str(each)], cwd=ROOT)
        for _ in range(procs)
    ]
    assert [child.wait(timeout=60) for child in children] == [0] * procs
    assert _uses(db) == procs * each
    db.integrity_check()
    db.dispose()
