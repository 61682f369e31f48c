"""Append events to the consent log, inside the transaction of the action they record.

::

    appended = append(conn, EventName.RELEASED, at=now, owner=wallet_id, details={...})
    appended.index, appended.leaf_hash, appended.body      # leaf index, its hash, its bytes

An append reads the log head (its size and :class:`~regie_protocol.tlog.merkle.Frontier`),
encodes the event (:func:`~regie_protocol.tlog.event.encode_event`), and writes
the ``log_event`` row, the perfect Merkle nodes the leaf completed (about one
per append) and the new head: four short statements run on the caller's
connection without SQLAlchemy's compiling (:mod:`wallet.log._sql`). It never commits: it
runs in the caller's transaction (a :meth:`wallet.storage.Database.run` unit
or a :class:`~wallet.storage.group_commit.GroupCommitter` unit), so the event
and the action it records commit together or not at all. Any failure raises,
and the caller's transaction rolls back: the action is refused, nothing is
half written. Indices have no gaps because the head is read and moved in the
same transaction as the rows.

**Lock order.** The log is one sequence, so every transaction that appends
waits for the one before it. On SQLite ``BEGIN IMMEDIATE`` already serialises
writers. On PostgreSQL (``SERIALIZABLE``) the head row is read ``FOR UPDATE``;
but a transaction that locks a row a concurrent one changed after its own
snapshot fails to serialize (SQLSTATE 40001), so under load appenders would
fail and re-run again and again. Hence the rule: a transaction that will
append calls :func:`lock_log` as its FIRST statement (``LOCK TABLE log_head IN
EXCLUSIVE MODE``, taken before its snapshot, as a revocation locks ``consent``),
and the append itself is its LAST write. Every appender then takes the log
lock first and any other lock (a consent row, the ``consent`` table of a
revocation) after it, so they cannot deadlock and never fail on the head.
Plain readers (proofs, events) are not blocked by it.

**The citizen in an event** is the keyed pseudonym of the wallet id
(:func:`~regie_protocol.tlog.event.pseudonym` with the log's random
``pseudonym_key``); the wallet id itself is kept beside the event (the
``owner`` column, for citizens' filtering) and never enters the body. An event
about no citizen (``owner=None``) carries the subject :data:`NO_SUBJECT`
(``"-"``), which no pseudonym (43 base64url characters) can equal.

The log is created by the first append (or :func:`ensure_log`): its origin is
the one given, else ``regie-wallet-host/`` and 16 random hex digits; it never
changes afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from regie_protocol.errors import MalformedInput, Misuse, Unavailable
from regie_protocol.tlog.event import (
    EventName,
    TraceParent,
    decode_event,
    encode_event,
    epoch,
    pseudonym,
)
from regie_protocol.tlog.merkle import Frontier, leaf_hash
from regie_protocol.tlog.note import check_key_name

from . import _sql
from ._sql import Sql

#: the subject of an event about no citizen
NO_SUBJECT = "-"
#: a new log's origin, followed by 16 random hex digits, when none is configured
ORIGIN_PREFIX = "regie-wallet-host/"
#: an origin at most (it is every checkpoint's first line and the log key's name)
MAX_ORIGIN = 255
PSEUDONYM_KEY_BYTES = 32
#: the lookup columns' widths (``log_event``): checked before the write on both backends
_WIDTHS = {"owner": 64, "consent_id": 128, "verifier_id": 512}

_HEAD = Sql(
    "SELECT origin, size, frontier, pseudonym_key FROM log_head WHERE id = 1",
    "SELECT origin, size, frontier, pseudonym_key FROM log_head WHERE id = 1 FOR UPDATE",
)
_HEAD_KEY = Sql("SELECT pseudonym_key FROM log_head WHERE id = 1")
_LOCK = "LOCK TABLE log_head IN EXCLUSIVE MODE"
_CREATE = Sql(
    "INSERT INTO log_head (id, origin, size, frontier, pseudonym_key, created_at) "
    "VALUES (1, ?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)
_EVENT = Sql(
    "INSERT INTO log_event (idx, leaf_hash, body, name, at, owner, consent_id, verifier_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_NODE = Sql("INSERT INTO log_node (level, idx, hash) VALUES (?, ?, ?)")
_MOVE = Sql("UPDATE log_head SET size = ?, frontier = ? WHERE id = 1 AND size = ?")


@dataclass(frozen=True, slots=True)
class Appended:
    """An event now in the log (once the caller's transaction commits)."""

    index: int
    leaf_hash: bytes
    body: bytes


@dataclass(frozen=True, slots=True, repr=False)
class _Head:
    origin: str
    size: int
    frontier: bytes
    key: bytes


def check_origin(origin: str) -> None:
    """Refuse (:class:`Misuse`) an origin a checkpoint cannot carry."""
    if len(origin) > MAX_ORIGIN:
        raise Misuse(f"a log origin is at most {MAX_ORIGIN} characters")
    try:
        check_key_name(origin, what="log origin")
    except MalformedInput as exc:
        raise Misuse(exc.message) from None


def new_origin() -> str:
    """A fresh origin: ``regie-wallet-host/`` and 16 random hex digits."""
    return ORIGIN_PREFIX + secrets.token_hex(8)


def _locked_head(conn: Connection, *, origin: str | None, now: int) -> _Head:
    """The head, locked until the transaction ends (PostgreSQL); created when there is none."""
    row = _sql.one(conn, _HEAD.text(conn))
    if row is None:
        fresh = origin if origin is not None else new_origin()
        check_origin(fresh)
        key = secrets.token_bytes(PSEUDONYM_KEY_BYTES)
        _sql.run(conn, _CREATE.text(conn), (fresh, b"", key, now))
        row = _sql.one(conn, _HEAD.text(conn))
        if row is None:  # pragma: no cover - the insert above or a concurrent one made it
            raise Unavailable("the log head could not be created; try again")
    head = _Head(str(row[0]), int(row[1]), bytes(row[2]), bytes(row[3]))
    if origin is not None and origin != head.origin:
        raise Misuse(f"the log's origin is {head.origin!r}, not {origin!r}: it never changes")
    return head


def lock_log(conn: Connection) -> None:
    """Take the log's write lock; call it as the FIRST statement of a transaction that appends.

    PostgreSQL: ``LOCK TABLE log_head IN EXCLUSIVE MODE``, held to the end of
    the transaction. Taken before the transaction's snapshot, it makes
    appenders wait for each other instead of failing to serialize on the head;
    taken later it still serialises them, but no longer prevents that failure.
    SQLite: nothing to do (``BEGIN IMMEDIATE`` holds the database's write lock).
    """
    if conn.dialect.name == "postgresql":
        _sql.run(conn, _LOCK)


def ensure_log(conn: Connection, *, now: int, origin: str | None = None) -> str:
    """The log's origin; creates the empty log first when there is none (caller's transaction).

    ``origin`` is used only at creation; given and different from the log's, it is refused.
    """
    return _locked_head(conn, origin=origin, now=now).origin


def _width(column: str, value: str | None) -> str | None:
    if value is not None and len(value) > _WIDTHS[column]:
        raise Misuse(f"a logged {column} is at most {_WIDTHS[column]} characters")
    return value


def _write(
    conn: Connection,
    head: _Head,
    body: bytes,
    *,
    name: str,
    at: int,
    owner: str | None,
    consent_id: str | None,
    verifier_id: str | None,
) -> Appended:
    leaf = leaf_hash(body)
    frontier, nodes = Frontier.from_bytes(head.size, head.frontier).append(leaf)
    index = head.size
    _sql.run(
        conn,
        _EVENT.text(conn),
        (
            index,
            leaf,
            body.decode("utf-8"),
            name,
            at,
            _width("owner", owner),
            _width("consent_id", consent_id),
            _width("verifier_id", verifier_id),
        ),
    )
    if nodes:
        node_sql = _NODE.text(conn)
        for (level, node_index), node in nodes:
            _sql.run(conn, node_sql, (level, node_index, node))
    moved = _sql.run(conn, _MOVE.text(conn), (frontier.size, frontier.to_bytes(), index))
    if moved != 1:
        raise Unavailable("the log head moved during an append; try again")
    return Appended(index, leaf, body)


def append(
    conn: Connection,
    name: EventName,
    *,
    at: int,
    owner: str | None,
    details: Mapping[str, Any],
    foreign: TraceParent | None = None,
    outcome_ok: bool = True,
    origin: str | None = None,
) -> Appended:
    """Encode and append one event in the caller's transaction (its last write); raises on failure.

    ``owner`` is the wallet id (``None``: no citizen); ``details`` the event's
    ``regie.*`` fields without the prefix (see :func:`~regie_protocol.tlog.event.encode_event`).
    """
    head = _locked_head(conn, origin=origin, now=at)
    subject = NO_SUBJECT if owner is None else pseudonym(head.key, owner)
    body = encode_event(
        name,
        at=at,
        subject=subject,
        details=details,
        foreign=foreign,
        outcome_ok=outcome_ok,
    )
    consent_id, verifier = details.get("consent_id"), details.get("verifier")
    return _write(
        conn,
        head,
        body,
        name=EventName(name).value,
        at=at,
        owner=owner,
        consent_id=consent_id if isinstance(consent_id, str) else None,
        verifier_id=verifier if isinstance(verifier, str) else None,
    )


def append_raw(
    conn: Connection, body: bytes, *, owner: str | None = None, origin: str | None = None
) -> Appended:
    """Append an already encoded event (an import, a test, the bench) in the caller's transaction.

    ``body`` must pass :func:`~regie_protocol.tlog.event.decode_event` (canonical
    JSON, a known name): the ``name``, ``at``, ``consent_id`` and ``verifier_id``
    columns are read from it, so they cannot disagree with the logged bytes.
    ``owner`` (the wallet id, never in the body) is the caller's to give.
    """
    value = decode_event(body)
    attributes: dict[str, Any] = value["attributes"]
    at = epoch(str(value["start_time"]))
    consent_id, verifier = attributes.get("regie.consent_id"), attributes.get("regie.verifier")
    head = _locked_head(conn, origin=origin, now=at)
    return _write(
        conn,
        head,
        body,
        name=str(value["name"]),
        at=at,
        owner=owner,
        consent_id=consent_id if isinstance(consent_id, str) else None,
        verifier_id=verifier if isinstance(verifier, str) else None,
    )


def subject_of(conn: Connection, owner: str) -> str:
    """The pseudonym by which ``owner`` (a wallet id) appears in this log's events."""
    row = _sql.one(conn, _HEAD_KEY.text(conn))
    if row is None:
        raise Misuse("the log has not been created yet")
    return pseudonym(bytes(row[0]), owner)


__all__ = [
    "MAX_ORIGIN",
    "NO_SUBJECT",
    "ORIGIN_PREFIX",
    "Appended",
    "append",
    "append_raw",
    "check_origin",
    "ensure_log",
    "lock_log",
    "new_origin",
    "subject_of",
]
