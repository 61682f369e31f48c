"""Group commit: units share a transaction, each keeps its own outcome, nothing is early."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from regie_protocol.errors import ClaimRefused, Code, Misuse, Unavailable
from tests.wallet.databases import Target
from wallet.storage import Database, Record, open_database
from wallet.storage.group_commit import GroupCommitter

from .conftest import add_wallet, record_row


def _ids(db: Database) -> set[str]:
    rows = db.fetch_all(select(Record.id))  # type: ignore[call-overload]
    return {row["id"] for row in rows}


def _insert(i: int) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute(insert(Record).values(**record_row(i)))
        return i

    return work


@pytest.fixture
def committer(db: Database) -> Iterator[GroupCommitter]:
    db.run(add_wallet)
    committer = GroupCommitter(db)
    yield committer
    committer.close()


def test_units_queued_together_commit_in_one_transaction(
    db: Database, committer: GroupCommitter
) -> None:
    gate, entered = threading.Event(), threading.Event()

    def first(conn: Connection) -> str:
        entered.set()
        gate.wait(timeout=30)  # hold the writer until the others are queued
        conn.execute(insert(Record).values(**record_row(0)))
        return "first"

    with ThreadPoolExecutor(max_workers=21) as pool:
        head = pool.submit(committer.run, first)
        assert entered.wait(timeout=30)
        rest = [pool.submit(committer.run, _insert(i)) for i in range(1, 21)]
        while committer._queue.qsize() < 20:  # the only way to see the queue
            threading.Event().wait(0.01)
        gate.set()
        assert head.result() == "first"
        assert sorted(f.result() for f in rest) == list(range(1, 21))
    assert _ids(db) == {f"r{i}" for i in range(21)}
    assert committer.units == 21
    assert committer.batches == 2  # the held unit alone, then the twenty together


def test_a_refused_unit_is_rolled_back_and_only_its_caller_hears_of_it(
    db: Database, committer: GroupCommitter
) -> None:
    gate, entered = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        entered.set()
        gate.wait(timeout=30)

    def refused(conn: Connection) -> None:
        conn.execute(insert(Record).values(**record_row(99)))
        raise ClaimRefused("no", code=Code.USES_EXHAUSTED)

    def duplicate(conn: Connection) -> None:
        conn.execute(insert(Record).values(**record_row(1)))  # r1 is inserted before it

    with ThreadPoolExecutor(max_workers=5) as pool:
        held = pool.submit(committer.run, hold)
        assert entered.wait(timeout=30)
        ok1 = pool.submit(committer.run, _insert(1))
        bad = pool.submit(committer.run, refused)
        dup = pool.submit(committer.run, duplicate)
        ok2 = pool.submit(committer.run, _insert(2))
        while committer._queue.qsize() < 4:
            threading.Event().wait(0.01)
        gate.set()
        held.result()
        assert ok1.result() == 1
        assert ok2.result() == 2
        with pytest.raises(ClaimRefused) as refusal:
            bad.result()
        assert refusal.value.code is Code.USES_EXHAUSTED
        with pytest.raises(Misuse):  # an integrity error, translated as Database.run does
            dup.result()
    assert _ids(db) == {"r1", "r2"}


def test_results_are_handed_out_only_after_the_commit(
    db: Database, committer: GroupCommitter
) -> None:
    seen_by_other: list[set[str]] = []

    def work(conn: Connection) -> str:
        conn.execute(insert(Record).values(**record_row(7)))
        seen_by_other.append(_ids(db))  # another connection: not committed yet
        return "done"

    assert committer.run(work) == "done"
    assert seen_by_other == [set()]
    assert _ids(db) == {"r7"}


def test_a_closed_committer_refuses_new_work(db: Database) -> None:
    committer = GroupCommitter(db)
    committer.close()
    with pytest.raises(Misuse):
        committer.run(lambda conn: None)
    with pytest.raises(Misuse):
        GroupCommitter(db, max_batch=0)


def test_a_unit_alone_that_fails_in_the_database_writes_nothing(db: Database) -> None:
    committer = GroupCommitter(db)
    try:

        def no_wallet(conn: Connection) -> int:
            # the owner does not exist: the foreign key fails at the insert on both backends
            conn.execute(insert(Record).values(**{**record_row(5), "owner": "nobody"}))
            return 1

        with pytest.raises((Misuse, Unavailable)):
            committer.run(no_wallet)
        count = db.run(lambda c: c.execute(select(func.count()).select_from(Record)).scalar_one())
        assert count == 0
    finally:
        committer.close()


def test_a_unit_cancelled_while_queued_never_runs(db: Database, committer: GroupCommitter) -> None:
    gate, entered = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        entered.set()
        gate.wait(timeout=30)

    held = committer.submit(hold)
    assert entered.wait(timeout=30)
    cancelled = committer.submit(_insert(1))
    kept = committer.submit(_insert(2))
    assert cancelled.cancel()
    gate.set()
    held.result(timeout=30)
    assert kept.result(timeout=30) == 2
    assert cancelled.cancelled()
    assert _ids(db) == {"r2"}


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_a_foreground_writer_is_not_starved_by_back_to_back_batches(
    target: Target, db: Database, committer: GroupCommitter
) -> None:
    # SQLite only: PostgreSQL has row locks and a queue; SQLite's busy handler only polls.
    # Each batch holds the write lock for about 20 ms and the next starts at once; another
    # writer with a 300 ms busy timeout still gets its turn (wallet.storage._turns).
    other = open_database(None, home=target.home, busy_timeout_ms=300)
    stop = threading.Event()
    counter = iter(range(1000, 100_000))

    def slow(conn: Connection) -> None:
        conn.execute(insert(Record).values(**record_row(next(counter))))
        threading.Event().wait(0.02)

    def reader_loop() -> None:
        while not stop.is_set():
            committer.run(slow)

    loops = [threading.Thread(target=reader_loop) for _ in range(2)]
    for loop in loops:
        loop.start()
    try:
        while committer.batches < 5:
            threading.Event().wait(0.01)
        for i in range(5):
            other.run(_insert(i))  # each must get the lock between two batches
    finally:
        stop.set()
        for loop in loops:
            loop.join()
        other.dispose()
    assert {f"r{i}" for i in range(5)} <= _ids(db)
