"""Checkpoints: one per size, never one that rewinds or rewrites history; receipts; cosignatures."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from regie_protocol.errors import Code, LogRefused, Misuse
from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from regie_protocol.tlog.event import EventName, encode_event
from regie_protocol.tlog.note import CosignerKey, NoteKey
from regie_protocol.tlog.receipt import Receipt, verify_receipt
from wallet.log import appender, checkpoints, store
from wallet.log.checkpoints import PublishedState, StoredCheckpoint
from wallet.storage import Database

from .helpers import NOW, all_rows, append_random, check_whole_log

ORIGIN = "wallet.example/log"


@pytest.fixture
def key() -> NoteKey:
    return NoteKey.generate(ORIGIN)


@pytest.fixture
def state(tmp_path: Path) -> PublishedState:
    return PublishedState(tmp_path / "log-published.json")


def _append(db: Database, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)

    def work(conn: Connection) -> None:
        appender.ensure_log(conn, now=NOW, origin=ORIGIN)
        for i in range(count):
            append_random(conn, rng, i)

    db.run(work)


def _sign(db: Database, key: NoteKey, state: PublishedState | None) -> StoredCheckpoint:
    row = db.run(lambda c: checkpoints.sign_checkpoint(c, key, now=NOW, state=state))
    if state is not None:
        state.record(row)
    return row


def _bodies(conn: Connection) -> list[bytes]:
    return [
        str(b).encode() for (b,) in conn.execute(text("SELECT body FROM log_event ORDER BY idx"))
    ]


def _rebuild(conn: Connection, bodies: list[bytes]) -> None:
    """What a DBA (or an intruder with database access) can do: put back a consistent tree.

    Every event, node and the head are rewritten from ``bodies``, so the rows
    agree with each other; only the signed checkpoints can tell.
    """
    conn.execute(text("DELETE FROM log_node"))
    conn.execute(text("DELETE FROM log_event"))
    frontier = merkle.Frontier.empty()
    for index, body in enumerate(bodies):
        leaf = merkle.leaf_hash(body)
        frontier, nodes = frontier.append(leaf)
        conn.execute(
            text(
                "INSERT INTO log_event (idx, leaf_hash, body, name, at) "
                "VALUES (:i, :h, :b, 'data.released', 0)"
            ),
            {"i": index, "h": leaf, "b": body.decode()},
        )
        for (level, node_index), value in nodes:
            conn.execute(
                text("INSERT INTO log_node (level, idx, hash) VALUES (:l, :i, :h)"),
                {"l": level, "i": node_index, "h": value},
            )
    conn.execute(
        text("UPDATE log_head SET size = :s, frontier = :f"),
        {"s": frontier.size, "f": frontier.to_bytes()},
    )


def _roll_back_to(db: Database, size: int) -> None:
    """Restore the log as an old backup had it: the first ``size`` events and their checkpoints."""

    def work(conn: Connection) -> None:
        _rebuild(conn, _bodies(conn)[:size])
        conn.execute(text("DELETE FROM log_checkpoint WHERE size > :s"), {"s": size})

    db.run(work)


def _rewrite_event(db: Database, index: int) -> None:
    """Replace event ``index`` by another (well-formed) one and recompute the tree."""
    other = encode_event(
        EventName.WITHDRAWN,
        at=NOW,
        subject="s" * 43,
        details={"consent_id": "forged", "verifier": "https://v.example"},
    )

    def work(conn: Connection) -> None:
        bodies = _bodies(conn)
        bodies[index] = other
        _rebuild(conn, bodies)

    db.run(work)


def test_signing_at_one_size_twice_gives_the_same_checkpoint(
    db: Database, key: NoteKey, state: PublishedState
) -> None:
    _append(db, 13)
    first = _sign(db, key, state)
    again = _sign(db, key, state)
    assert again == first
    opened = open_checkpoint(first.note, key.verifier())
    assert (opened.checkpoint.size, opened.checkpoint.origin) == (13, ORIGIN)
    assert opened.checkpoint.root == db.run(lambda c: store.root_at(c, 13), write=False)
    with db.connect(write=False) as conn:
        assert all_rows(conn, "SELECT count(*) FROM log_checkpoint") == [(1,)]


def test_the_empty_log_can_be_signed(db: Database, key: NoteKey, state: PublishedState) -> None:
    row = _sign(db, key, state)  # creates the log, named after the key
    assert (row.origin, row.size, row.root) == (ORIGIN, 0, merkle.EMPTY_ROOT)
    _append(db, 3)
    assert _sign(db, key, state).size == 3
    assert state.current() is not None and state.current().size == 3  # type: ignore[union-attr]


def test_a_database_rolled_back_below_the_published_state_is_refused(
    db: Database, key: NoteKey, state: PublishedState
) -> None:
    _append(db, 10)
    _sign(db, key, state)
    _append(db, 5, seed=1)
    _sign(db, key, state)  # size 15 recorded outside the database
    _roll_back_to(db, 10)
    check_whole_log(db, key)  # the restored rows are consistent among themselves
    with pytest.raises(LogRefused, match="has 15") as refused:
        _sign(db, key, state)
    assert refused.value.code is Code.LOG_ROLLBACK
    # the database alone cannot tell: its own copy of what was signed went back with it
    assert _sign(db, key, None).size == 10
    # growing past the recorded size does not hide the rewind: entries 10..14 differ
    _append(db, 8, seed=2)
    with pytest.raises(LogRefused, match="does not extend") as refused:
        _sign(db, key, state)
    assert refused.value.code is Code.LOG_INCONSISTENT
    with db.connect(write=False) as conn:
        assert all_rows(conn, "SELECT max(size) FROM log_checkpoint") == [(10,)]


def test_a_rewritten_event_is_refused_against_the_stored_checkpoint(
    db: Database, key: NoteKey
) -> None:
    _append(db, 12)
    _sign(db, key, None)
    _rewrite_event(db, 3)
    with pytest.raises(LogRefused) as refused:
        _sign(db, key, None)  # the same size, another root
    assert refused.value.code is Code.LOG_INCONSISTENT
    _append(db, 9, seed=1)
    with pytest.raises(LogRefused, match="does not extend its latest checkpoint") as refused:
        _sign(db, key, None)
    assert refused.value.code is Code.LOG_INCONSISTENT


def test_a_removed_tail_with_the_head_left_is_refused(db: Database, key: NoteKey) -> None:
    _append(db, 20)
    _sign(db, key, None)
    db.run(lambda c: c.execute(text("DELETE FROM log_node WHERE level = 2 AND idx = 4")))
    _append(db, 1, seed=3)
    with pytest.raises(LogRefused, match="lacks stored nodes") as refused:
        _sign(db, key, None)
    assert refused.value.code is Code.LOG_INCONSISTENT


def test_a_tampered_checkpoint_row_is_refused(db: Database, key: NoteKey) -> None:
    _append(db, 4)
    _sign(db, key, None)
    forged = _signed_by(NoteKey.generate(ORIGIN), 4, db)  # the same tree, another key
    _append(db, 4, seed=5)
    db.run(lambda c: c.execute(text("UPDATE log_checkpoint SET note = :n"), {"n": forged.decode()}))
    with pytest.raises(LogRefused, match="not one this log key signed"):
        _sign(db, key, None)


def _signed_by(key: NoteKey, size: int, db: Database) -> bytes:
    root = db.run(lambda c: store.root_at(c, size), write=False)
    return sign_checkpoint(Checkpoint(ORIGIN, size, root), key)


def test_a_key_of_another_log_cannot_sign(db: Database, key: NoteKey) -> None:
    _append(db, 2)
    with pytest.raises(Misuse, match="cannot sign for it"):
        _sign(db, NoteKey.generate("other.example/log"), None)


def test_receipts_verify_against_the_checkpoint_they_carry(
    db: Database, key: NoteKey, state: PublishedState
) -> None:
    _append(db, 21)
    made = db.run(lambda c: checkpoints.receipts(c, [0, 7, 20], key, now=NOW, state=state))
    assert sorted(made) == [0, 7, 20]
    leaves = db.run(lambda c: store.leaf_hashes(c, 0, 21), write=False)
    for index, rendered in made.items():
        receipt = Receipt.parse(rendered)
        assert receipt.index == index
        opened = verify_receipt(receipt, leaf_hash=leaves[index], log=key.verifier())
        assert opened.checkpoint.size == 21
    with pytest.raises(LogRefused):
        verify_receipt(Receipt.parse(made[7]), leaf_hash=leaves[8], log=key.verifier())
    with db.connect(write=False) as conn:
        stored = checkpoints.receipt(conn, 7)
        assert stored is not None and Receipt.parse(stored).index == 7
        assert checkpoints.receipt(conn, 21) is None


def test_cosignatures_are_kept_once_per_witness_and_shown_with_the_checkpoint(
    db: Database, key: NoteKey
) -> None:
    _append(db, 5)
    row = _sign(db, key, None)
    witness = CosignerKey.generate("witness.example/w1")
    body = open_checkpoint(row.note, key.verifier()).note.text
    line = witness.cosign_line(body, NOW)
    assert db.run(
        lambda c: checkpoints.add_cosignature(c, 5, witness=witness.name, line=line, now=NOW)
    )
    again = witness.cosign_line(body, NOW + 9)
    assert not db.run(
        lambda c: checkpoints.add_cosignature(c, 5, witness=witness.name, line=again, now=NOW)
    )
    with pytest.raises(Misuse, match="no checkpoint of size 6"):
        db.run(
            lambda c: checkpoints.add_cosignature(c, 6, witness=witness.name, line=line, now=NOW)
        )
    latest = db.run(checkpoints.latest_checkpoint, write=False)
    assert latest is not None
    opened = open_checkpoint(latest.note, key.verifier(), witnesses=[witness.verifier()], quorum=1)
    assert opened.cosigned_by == {witness.verifier(): NOW}


def test_the_checkpoint_at_or_after_a_size(db: Database, key: NoteKey) -> None:
    _append(db, 5)
    _sign(db, key, None)
    _append(db, 4, seed=1)
    _sign(db, key, None)
    with db.connect(write=False) as conn:
        assert checkpoints.checkpoint_at_or_after(conn, 0).size == 5  # type: ignore[union-attr]
        assert checkpoints.checkpoint_at_or_after(conn, 6).size == 9  # type: ignore[union-attr]
        assert checkpoints.checkpoint_at_or_after(conn, 10) is None
        assert checkpoints.latest_checkpoint(conn).size == 9  # type: ignore[union-attr]


# --- the published state file ---


def _row(size: int, root: bytes = b"\x01" * 32, origin: str = ORIGIN) -> StoredCheckpoint:
    return StoredCheckpoint(origin, size, root, b"", NOW)


def test_the_published_state_only_moves_forward(state: PublishedState) -> None:
    assert state.current() is None
    state.record(_row(5))
    state.record(_row(3, b"\x02" * 32))
    found = state.current()
    assert found is not None and (found.size, found.root) == (5, b"\x01" * 32)
    # another process (another object on the same file) sees it and adds to it
    other = PublishedState(state.path)
    other.record(_row(9))
    assert state.current().size == 9  # type: ignore[union-attr]
    assert state.path.stat().st_mode & 0o077 == 0
    document = json.loads(state.path.read_text())
    assert document["format"] == "regie-log-published" and document["version"] == 1


def test_two_roots_for_one_size_are_refused(state: PublishedState) -> None:
    state.record(_row(5))
    with pytest.raises(LogRefused) as refused:
        state.record(_row(5, b"\x03" * 32))
    assert refused.value.code is Code.LOG_SPLIT_VIEW


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"format": "other", "version": 1, "origin": "o", "size": 1, "root": "AA=="}',
        '{"format": "regie-log-published", "version": 2, "origin": "o", "size": 1, "root": ""}',
        '{"format": "regie-log-published", "version": 1, "origin": "o", "size": -1, "root": ""}',
        '{"format": "regie-log-published", "version": 1, "origin": "o", "size": 1, "root": "!"}',
        '{"format": "regie-log-published", "version": 1, "origin": "o", "size": 1, "root": "AA=="}',
    ],
    ids=["not-json", "not-object", "format", "version", "size", "root-not-b64", "root-short"],
)
def test_a_damaged_published_state_refuses_signing(
    db: Database, key: NoteKey, state: PublishedState, content: str
) -> None:
    _append(db, 2)
    state.path.write_text(content)
    with pytest.raises(LogRefused, match="damaged") as refused:
        _sign(db, key, state)
    assert refused.value.code is Code.LOG_INCONSISTENT


def test_a_published_state_of_another_log_refuses_signing(
    db: Database, key: NoteKey, state: PublishedState
) -> None:
    _append(db, 2)
    state.record(_row(1, origin="other.example/log"))
    with pytest.raises(LogRefused, match=r"other\.example/log"):
        _sign(db, key, state)
