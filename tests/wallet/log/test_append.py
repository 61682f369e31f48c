"""Appends: in the caller's transaction (rolled back with it), the pseudonym, the lookup columns."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from regie_protocol.errors import ClaimRefused, Code, LogRefused, Misuse
from regie_protocol.tlog.event import EventName, EventView, TraceParent, pseudonym
from wallet.log import appender, store
from wallet.storage import Database
from wallet.storage.group_commit import GroupCommitter

from .helpers import NOW, all_rows, append_random, check_whole_log, random_body

_COUNTS = (
    "SELECT (SELECT count(*) FROM log_event), (SELECT count(*) FROM log_node), "
    "(SELECT size FROM log_head), (SELECT frontier FROM log_head)"
)


def _state(db: Database) -> tuple[object, ...]:
    with db.connect(write=False) as conn:
        return all_rows(conn, _COUNTS)[0]


def _details(consent_id: str = "c1") -> dict[str, object]:
    return {"consent_id": consent_id, "verifier": "https://v.example", "attributes": ["a"]}


def test_an_append_in_a_rolled_back_transaction_leaves_nothing(db: Database) -> None:
    rng = random.Random(3)
    db.run(lambda c: [append_random(c, rng, i) for i in range(7)])  # 7 events, 4 nodes
    before = _state(db)

    class Refused(Exception):
        pass

    def refused_action() -> None:
        with db.connect() as conn:
            for i in range(9):  # would complete nodes up to level 4
                append_random(conn, rng, 100 + i)
            raise Refused

    with pytest.raises(Refused):
        refused_action()
    assert _state(db) == before
    # the next append takes the next index: no gap was left
    assert db.run(lambda c: append_random(c, rng, 200)).index == 7
    assert check_whole_log(db, None).size == 8


def test_a_failing_group_commit_unit_rolls_back_its_events_only(db: Database) -> None:
    rng = random.Random(4)
    committer = GroupCommitter(db)
    gate, entered = threading.Event(), threading.Event()

    def hold(conn: Connection) -> int:
        entered.set()
        gate.wait(timeout=30)
        return append_random(conn, rng, 0).index

    def refused_after_append(conn: Connection) -> None:
        append_random(conn, rng, 1)
        append_random(conn, rng, 2)
        raise ClaimRefused("the action is refused after its events", code=Code.NOT_CONSENTED)

    def good(i: int) -> Callable[[Connection], int]:
        return lambda conn: append_random(conn, rng, 10 + i).index

    try:
        first = committer.submit(hold)
        assert entered.wait(timeout=30)
        bad = committer.submit(refused_after_append)
        rest = [committer.submit(good(i)) for i in range(5)]
        gate.set()
        assert first.result(timeout=30) == 0
        with pytest.raises(ClaimRefused):
            bad.result(timeout=30)
        assert sorted(f.result(timeout=30) for f in rest) == [1, 2, 3, 4, 5]
    finally:
        committer.close()
    assert check_whole_log(db, None).size == 6


def test_the_citizen_is_a_pseudonym_in_the_body_and_the_wallet_id_beside_it(db: Database) -> None:
    trace = TraceParent("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    made = db.run(
        lambda c: appender.append(
            c, EventName.RELEASED, at=NOW, owner="w1", details=_details(), foreign=trace
        )
    )
    none = db.run(
        lambda c: appender.append(
            c,
            EventName.READ_REFUSED,
            at=NOW + 1,
            owner=None,
            details={"refusal_type": "dpop_invalid", "outcome": "refused"},
            outcome_ok=False,
        )
    )
    with db.connect(write=False) as conn:
        key = bytes(all_rows(conn, "SELECT pseudonym_key FROM log_head")[0][0])
        row = store.event_at(conn, made.index)
        assert appender.subject_of(conn, "w1") == pseudonym(key, "w1")
    assert len(key) == 32
    view = EventView.of(made.index, made.body)
    assert view.subject == pseudonym(key, "w1") != "w1"
    assert b'"w1"' not in made.body
    assert view.raw["foreign_operation"] == {"trace_id": trace.trace_id, "span_id": trace.span_id}
    assert (row.owner, row.consent_id, row.verifier_id, row.name, row.at) == (
        "w1",
        "c1",
        "https://v.example",
        "data.released",
        NOW,
    )
    assert row.body == made.body and row.leaf_hash == made.leaf_hash
    refused = EventView.of(none.index, none.body)
    assert refused.subject == appender.NO_SUBJECT
    assert refused.raw["status_code"] == "ERROR"


def test_append_raw_takes_the_columns_from_the_body(db: Database) -> None:
    body = random_body(random.Random(8), 5)
    made = db.run(lambda c: appender.append_raw(c, body, owner="w2"))
    view = EventView.of(0, body)
    with db.connect(write=False) as conn:
        row = store.event_at(conn, made.index)
    assert (row.name, row.at, row.owner, row.consent_id, row.verifier_id) == (
        view.name.value,
        view.at,
        "w2",
        view.consent_id,
        view.verifier,
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"name":"data.released"}', LogRefused),  # lacks fields
        (b"not json", LogRefused),
        (random_body(random.Random(1), 1).replace(b'{"attributes"', b'{ "attributes"'), LogRefused),
        (random_body(random.Random(1), 1).replace(b"data.released", b"data.leaked"), LogRefused),
    ],
    ids=["missing-fields", "not-json", "not-canonical", "unknown-name"],
)
def test_append_raw_refuses_what_is_not_a_canonical_event(
    db: Database, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        db.run(lambda c: appender.append_raw(c, body))
    assert db.run(store.head, write=False) is None


def test_the_origin_never_changes(db: Database) -> None:
    assert db.run(lambda c: appender.ensure_log(c, now=NOW, origin="host.example/log")) == (
        "host.example/log"
    )
    with pytest.raises(Misuse, match="never changes"):
        db.run(lambda c: appender.append_raw(c, random_body(random.Random(1), 0), origin="x/y"))
    generated = appender.new_origin()
    assert generated.startswith(appender.ORIGIN_PREFIX) and len(generated) == 18 + 16


@pytest.mark.parametrize("origin", ["", "has space", "a+b", "x" * 256])
def test_an_origin_a_checkpoint_cannot_carry_is_refused(db: Database, origin: str) -> None:
    with pytest.raises(Misuse):
        db.run(lambda c: appender.ensure_log(c, now=NOW, origin=origin))
    assert db.run(store.head, write=False) is None


def test_lookup_columns_wider_than_the_table_are_refused_on_both_backends(db: Database) -> None:
    with pytest.raises(Misuse, match="owner"):
        db.run(
            lambda c: appender.append(
                c, EventName.WITHDRAWN, at=NOW, owner="w" * 65, details=_details()
            )
        )
    with pytest.raises(Misuse, match="consent_id"):
        db.run(
            lambda c: appender.append(
                c, EventName.WITHDRAWN, at=NOW, owner="w1", details=_details("c" * 129)
            )
        )
    assert _state(db)[0] == 0


def _snapshot_then_append(db: Database, *, lock_first: bool, others: Callable[[], object]) -> int:
    """One transaction: (lock), take its snapshot, let ``others`` append, then append itself."""
    rng = random.Random(21)

    def work(conn: Connection) -> int:
        if lock_first:
            appender.lock_log(conn)
        conn.execute(text("SELECT count(*) FROM wallet")).one()  # the snapshot is taken here
        others()
        return append_random(conn, rng, 1).index

    return db.run(work, attempts=1)


def _append_alone(db: Database, rng: random.Random, *, lock: bool) -> int:
    def work(conn: Connection) -> int:
        if lock:
            appender.lock_log(conn)
        return append_random(conn, rng, 3).index

    return db.run(work, attempts=1)


@pytest.mark.parametrize("target", ["postgresql"], indirect=True)  # SQLite: BEGIN IMMEDIATE
def test_appenders_wait_for_each_other_instead_of_failing_on_the_head(db: Database) -> None:
    """Every PostgreSQL write transaction locks the log first (``Database``), before its
    snapshot: a second appender waits for the first and then appends after it, where
    without the lock it would fail to serialize on the head row."""
    rng = random.Random(20)
    db.run(lambda c: append_random(c, rng, 0))
    done: list[int] = []
    other = threading.Thread(target=lambda: done.append(_append_alone(db, rng, lock=True)))
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE relation = 'log_head'::regclass AND NOT granted"
    )

    def start_other() -> None:
        other.start()
        while not db.run(lambda c: c.execute(waiting).scalar_one(), write=False):
            threading.Event().wait(0.01)  # until the other appender queues for the lock

    first = _snapshot_then_append(db, lock_first=False, others=start_other)
    other.join(timeout=30)
    assert done == [first + 1]
    assert check_whole_log(db, None).size == first + 2


def test_readers_are_not_blocked_by_the_log_lock(db: Database) -> None:
    rng = random.Random(22)
    db.run(lambda c: append_random(c, rng, 0))

    def work(conn: Connection) -> None:
        appender.lock_log(conn)
        append_random(conn, rng, 1)
        # another connection still reads the committed log meanwhile (SQLite: WAL)
        tree_head = db.run(store.head, write=False)
        assert tree_head is not None and tree_head.size == 1

    db.run(work)
