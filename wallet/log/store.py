"""Read the consent log: its head, events, leaf hashes, roots and Merkle proofs.

Every function reads on the caller's :class:`~sqlalchemy.engine.Connection`
(any transaction, read-only is enough) and writes nothing. Proofs come from
the stored perfect nodes (``log_node``, and ``log_event.leaf_hash`` for level
0): :mod:`regie_protocol.tlog.merkle` says which nodes a proof needs, and
they are fetched with ONE query (:func:`node_hashes`), which also reads the
head's size, so a proof costs one round trip: about ``log2(size)`` primary-key
lookups.

Bounds are checked against the head: an ``index`` below ``size``, a ``size``
at most the log's. A request outside them (which a remote party may send)
is :class:`~regie_protocol.errors.MalformedInput`; a stored node or leaf that
should be there and is not means the database lost rows:
:class:`~regie_protocol.errors.LogRefused` (``LOG_INCONSISTENT``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from regie_protocol.errors import Code, LogRefused, MalformedInput
from regie_protocol.tlog.merkle import (
    EMPTY_ROOT,
    Frontier,
    NodeId,
    build,
    consistency_plan,
    fold,
    inclusion_plan,
    plan_nodes,
    root_plan,
)

from . import _sql
from ._sql import Sql

_HEAD = Sql("SELECT origin, size, frontier, created_at FROM log_head WHERE id = 1")
_LEAVES = Sql("SELECT idx, leaf_hash FROM log_event WHERE idx >= ? AND idx < ? ORDER BY idx")
_EVENTS = Sql("SELECT idx, body FROM log_event WHERE idx >= ? AND idx < ? ORDER BY idx")
_OWN_EVENTS = Sql(
    "SELECT idx, body FROM log_event WHERE owner = ? AND idx >= ? AND idx < ? ORDER BY idx"
)
_EVENT = Sql(
    "SELECT idx, body, leaf_hash, name, at, owner, consent_id, verifier_id "
    "FROM log_event WHERE idx = ?"
)
#: the head's size (level -1) and the nodes asked for: leaves from log_event, the rest from log_node
_NODES = Sql(
    "SELECT -1, size, NULL FROM log_head WHERE id = 1 "
    "UNION ALL SELECT 0, e.idx, e.leaf_hash FROM json_each(?) AS j "
    "JOIN log_event AS e ON e.idx = j.value "
    "UNION ALL SELECT n.level, n.idx, n.hash FROM json_each(?) AS j "
    "JOIN log_node AS n ON n.level = j.value ->> 0 AND n.idx = j.value ->> 1",
    "SELECT -1, size, NULL FROM log_head WHERE id = 1 "
    "UNION ALL SELECT 0, e.idx, e.leaf_hash FROM log_event AS e WHERE e.idx = ANY(?::bigint[]) "
    "UNION ALL SELECT n.level, n.idx, n.hash "
    "FROM unnest(?::smallint[], ?::bigint[]) AS v(level, idx) "
    "JOIN log_node AS n ON n.level = v.level AND n.idx = v.idx",
)


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The log's origin and current tree: ``size`` entries with ``root`` (from the frontier)."""

    origin: str
    size: int
    root: bytes
    frontier: Frontier
    created_at: int


@dataclass(frozen=True, slots=True)
class EventRow:
    """One stored event with its lookup columns (``owner`` is the wallet id, never in ``body``)."""

    index: int
    body: bytes
    leaf_hash: bytes
    name: str
    at: int
    owner: str | None
    consent_id: str | None
    verifier_id: str | None


@dataclass(frozen=True, slots=True)
class NodeLookup:
    """The log's size when the nodes were read, and the nodes found."""

    size: int
    nodes: dict[NodeId, bytes]


def head(conn: Connection) -> TreeHead | None:
    """The log's head, or ``None`` before the first append."""
    row = _sql.one(conn, _HEAD.text(conn))
    if row is None:
        return None
    frontier = Frontier.from_bytes(int(row[1]), bytes(row[2]))
    return TreeHead(str(row[0]), frontier.size, frontier.root(), frontier, int(row[3]))


def node_hashes(conn: Connection, ids: Iterable[NodeId]) -> NodeLookup:
    """The hashes of perfect nodes ``ids`` (those stored), and the log's size, in one query.

    The statement's text does not depend on the nodes (they travel as one JSON
    text on SQLite, two arrays on PostgreSQL), so it is prepared once and each
    node costs one primary-key lookup.
    """
    leaves: list[int] = []
    levels: list[int] = []
    indices: list[int] = []
    for level, index in set(ids):
        if level == 0:
            leaves.append(index)
        else:
            levels.append(level)
            indices.append(index)
    params: tuple[object, ...]
    if conn.dialect.name == "sqlite":
        pairs = ",".join(f"[{level},{index}]" for level, index in zip(levels, indices, strict=True))
        params = ("[" + ",".join(map(str, leaves)) + "]", "[" + pairs + "]")
    else:
        params = (leaves, levels, indices)
    size = 0
    nodes: dict[NodeId, bytes] = {}
    for level, index, value in _sql.rows(conn, _NODES.text(conn), params):
        if level == -1:
            size = int(index)
        else:
            nodes[(int(level), int(index))] = bytes(value)
    return NodeLookup(size, nodes)


def _complete(lookup: NodeLookup, wanted: set[NodeId]) -> dict[NodeId, bytes]:
    missing = wanted.difference(lookup.nodes)
    if missing:
        level, index = min(missing)
        raise LogRefused(
            f"the log has {lookup.size} entries but lacks {len(missing)} stored node(s), "
            f"e.g. level {level} index {index}: rows were lost or removed",
            code=Code.LOG_INCONSISTENT,
        )
    return lookup.nodes


def _check_size(size: int, log_size: int) -> None:
    if not 0 <= size <= log_size:
        raise MalformedInput(f"the log has {log_size} entries; there is no tree of {size}")


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise MalformedInput(f"entry {index} is not in a tree of {size} entries")


def root_at(conn: Connection, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` entries (``size`` at most the log's)."""
    plan = root_plan(size) if size > 0 else []
    lookup = node_hashes(conn, plan)
    _check_size(size, lookup.size)
    if not plan:
        return EMPTY_ROOT
    nodes = _complete(lookup, set(plan))
    return fold([nodes[node] for node in plan])


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries."""
    return inclusion_proofs(conn, [index], size)[index]


def inclusion_proofs(conn: Connection, indices: Iterable[int], size: int) -> dict[int, list[bytes]]:
    """Inclusion proofs of several entries in the tree of ``size``, from one node query."""
    wanted = sorted(set(indices))
    for index in wanted:
        _check_index(index, size)
    plans = {index: inclusion_plan(index, size) for index in wanted}
    ids = plan_nodes(group for plan in plans.values() for group in plan)
    lookup = node_hashes(conn, ids)
    _check_size(size, lookup.size)
    nodes = _complete(lookup, ids)
    return {index: build(plan, nodes) for index, plan in plans.items()}


def consistency_proof(conn: Connection, size1: int, size2: int) -> list[bytes]:
    """The RFC 9162 consistency proof from ``size1`` to ``size2`` entries.

    Empty when ``size1`` is 0 (the empty tree needs no proof, as in C2SP
    tlog-witness) or equals ``size2``.
    """
    if not 0 <= size1 <= size2:
        raise MalformedInput(f"no consistency proof from {size1} to {size2} entries")
    plan = consistency_plan(size1, size2) if 0 < size1 < size2 else []
    ids = plan_nodes(plan)
    lookup = node_hashes(conn, ids)
    _check_size(size2, lookup.size)
    return build(plan, _complete(lookup, ids))


def leaf_hashes(conn: Connection, start: int, end: int) -> list[bytes]:
    """The leaf hashes of entries ``[start, end)`` (``end`` at most the log's size)."""
    found = _range(conn, _LEAVES, start, end)
    return [bytes(value) for _, value in found]


def events(
    conn: Connection, start: int, end: int, *, owner: str | None = None
) -> list[tuple[int, bytes]]:
    """``(index, canonical bytes)`` of the events in ``[start, end)``; only ``owner``'s if given."""
    if owner is None:
        found = _range(conn, _EVENTS, start, end)
    else:
        _check_range(conn, start, end)
        found = _sql.rows(conn, _OWN_EVENTS.text(conn), (owner, start, end))
    return [(int(index), str(body).encode("utf-8")) for index, body in found]


def event_at(conn: Connection, index: int) -> EventRow:
    """Entry ``index`` with its lookup columns."""
    row = _sql.one(conn, _EVENT.text(conn), (index,))
    if row is None:
        _check_index(index, _size(conn))
        raise _lost(index)
    idx, body, leaf, name, at, owner, consent_id, verifier_id = row
    return EventRow(
        int(idx), str(body).encode("utf-8"), bytes(leaf), str(name), int(at),
        owner, consent_id, verifier_id,
    )  # fmt: skip


def _size(conn: Connection) -> int:
    found = head(conn)
    return 0 if found is None else found.size


def _check_range(conn: Connection, start: int, end: int) -> None:
    if not 0 <= start <= end:
        raise MalformedInput(f"[{start}, {end}) is not a range of entries")
    _check_size(end, _size(conn))


def _range(conn: Connection, sql: Sql, start: int, end: int) -> list[tuple[int, Any]]:
    if not 0 <= start <= end:
        raise MalformedInput(f"[{start}, {end}) is not a range of entries")
    found = [(int(row[0]), row[1]) for row in _sql.rows(conn, sql.text(conn), (start, end))]
    if len(found) != end - start:
        _check_size(end, _size(conn))
        present = {index for index, _ in found}
        raise _lost(next(i for i in range(start, end) if i not in present))
    return found


def _lost(index: int) -> LogRefused:
    return LogRefused(
        f"entry {index} is below the log's size but not stored: rows were lost or removed",
        code=Code.LOG_INCONSISTENT,
    )


__all__ = [
    "EventRow",
    "NodeLookup",
    "TreeHead",
    "consistency_proof",
    "event_at",
    "events",
    "head",
    "inclusion_proof",
    "inclusion_proofs",
    "leaf_hashes",
    "node_hashes",
    "root_at",
]
