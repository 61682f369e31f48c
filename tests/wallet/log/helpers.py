"""What the log tests share: events of varied sizes, an RFC 9162 tree, a whole-log check.

:class:`ReferenceTree` follows the RFC 9162 §2.1 definitions literally (MTH,
PATH, SUBPROOF by recursion over leaf ranges), so the stored tree and proofs
are compared with a computation that shares no code with
:mod:`regie_protocol.tlog.merkle` or :mod:`wallet.log`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from regie_protocol.tlog.checkpoint import open_checkpoint
from regie_protocol.tlog.event import EventName, encode_event
from regie_protocol.tlog.note import NoteKey
from wallet.log import appender, checkpoints, store
from wallet.storage import Database

NOW = 1_790_000_000
ATTRIBUTES = tuple(f"attribute_{i}" for i in range(40))
VERIFIERS = ("https://verifier.example", "https://other.example/" + "x" * 200)
OWNERS = ("w1", "w2", "w3", None)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass
class ReferenceTree:
    """RFC 9162 §2.1, literally: the hashes and proofs of a list of leaf hashes."""

    leaves: list[bytes] = field(default_factory=list)
    _memo: dict[tuple[int, int], bytes] = field(default_factory=dict)

    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return _sha(b"")
        if n == 1:
            return self.leaves[start]
        found = self._memo.get((start, end))
        if found is None:
            k = 1 << ((n - 1).bit_length() - 1)
            found = _sha(b"\x01" + self.mth(start, start + k) + self.mth(start + k, end))
            self._memo[(start, end)] = found
        return found

    def root(self, size: int) -> bytes:
        return self.mth(0, size)

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return self.path(index, 0, size)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self.mth(start, end)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self.mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.mth(start, start + k)]

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        return self._subproof(size1, 0, size2, True)

    def perfect_nodes(self, size: int) -> dict[tuple[int, int], bytes]:
        """Every perfect subtree of level >= 1 inside ``[0, size)``."""
        nodes: dict[tuple[int, int], bytes] = {}
        level = 1
        while (1 << level) <= size:
            width = 1 << level
            for index in range(size // width):
                nodes[(level, index)] = self.mth(index * width, (index + 1) * width)
            level += 1
        return nodes


def random_details(rng: random.Random, i: int) -> dict[str, object]:
    """``data.released`` details of a random size (a few to 40 attribute names)."""
    return {
        "consent_id": f"consent-{i}-{rng.randrange(10**9)}",
        "verifier": rng.choice(VERIFIERS),
        "purpose": "purpose-" + "p" * rng.randrange(0, 300),
        "attributes": rng.sample(ATTRIBUTES, rng.randint(1, len(ATTRIBUTES))),
        "use": rng.randint(1, 50),
    }


def random_body(rng: random.Random, i: int) -> bytes:
    """The canonical bytes of a random event (for :func:`wallet.log.appender.append_raw`)."""
    return encode_event(
        EventName.RELEASED,
        at=NOW + i,
        subject="s" * 43,
        details=random_details(rng, i),
    )


def append_random(conn: Connection, rng: random.Random, i: int) -> appender.Appended:
    return appender.append(
        conn,
        EventName.RELEASED,
        at=NOW + i,
        owner=rng.choice(OWNERS),
        details=random_details(rng, i),
    )


def all_rows(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(text(sql)).all()]


@dataclass(frozen=True)
class LogFigures:
    size: int
    nodes: int
    checkpoint_size: int | None


def check_whole_log(db: Database, key: NoteKey | None) -> LogFigures:
    """Everything a restarted host may rely on: no gaps, hashes, nodes, head, checkpoint.

    Recomputes every leaf hash from its body, every perfect node and the root
    from the leaves (:class:`ReferenceTree`), and checks the newest checkpoint's
    signature with ``key``'s verifier and its root against the stored tree.
    """
    with db.connect(write=False) as conn:
        events = all_rows(conn, "SELECT idx, body, leaf_hash FROM log_event ORDER BY idx")
        nodes = all_rows(conn, "SELECT level, idx, hash FROM log_node")
        tree_head = store.head(conn)
        latest = checkpoints.latest_checkpoint(conn)
        if latest is not None:
            stored_root = store.root_at(conn, latest.size)
    assert [row[0] for row in events] == list(range(len(events))), "the indices have a gap"
    tree = ReferenceTree()
    for _, body, leaf in events:
        expected = _sha(b"\x00" + str(body).encode("utf-8"))
        assert bytes(leaf) == expected, "a leaf hash is not the hash of its body"
        tree.leaves.append(expected)
    size = len(events)
    if tree_head is None:
        assert size == 0 and not nodes
        return LogFigures(0, 0, None)
    assert tree_head.size == size
    assert tree_head.frontier.size == size
    assert tree_head.root == tree.root(size)
    found = {(int(level), int(index)): bytes(h) for level, index, h in nodes}
    assert found == tree.perfect_nodes(size), "the stored nodes differ from the recomputed ones"
    checkpoint_size = None
    if latest is not None:
        assert key is not None
        opened = open_checkpoint(latest.note, key.verifier())
        assert opened.checkpoint.size == latest.size <= size
        assert opened.checkpoint.root == stored_root == tree.root(latest.size)
        checkpoint_size = latest.size
    db.integrity_check()
    return LogFigures(size, len(found), checkpoint_size)


__all__ = [
    "NOW",
    "LogFigures",
    "ReferenceTree",
    "all_rows",
    "append_random",
    "check_whole_log",
    "random_body",
    "random_details",
]
