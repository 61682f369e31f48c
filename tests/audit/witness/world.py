"""A small log for witness tests: leaves, signed checkpoints and consistency proofs.

The tree is recomputed from its leaves here (every perfect node by the RFC 9162
recursion), so a proof is built from the plan of :mod:`regie_protocol.tlog.merkle`
and node hashes this module computed itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from regie_protocol.tlog import merkle
from regie_protocol.tlog.checkpoint import Checkpoint, sign_checkpoint
from regie_protocol.tlog.note import NoteKey
from regie_protocol.tlog.witness_wire import AddCheckpoint

#: a fixed "now" for cosignatures (POSIX seconds)
T0 = 1_790_000_000


class Clock:
    """A clock a test sets: each call returns :attr:`now`."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@dataclass
class TestLog:
    """A log of ``leaves`` signed by ``key`` (its name is the origin)."""

    __test__ = False  # not a test class

    key: NoteKey
    leaves: list[bytes] = field(default_factory=list)

    @classmethod
    def create(cls, origin: str, count: int, *, salt: str = "") -> TestLog:
        return cls(NoteKey.generate(origin), [f"{salt}event {i}".encode() for i in range(count)])

    @property
    def origin(self) -> str:
        return self.key.name

    def node(self, level: int, index: int) -> bytes:
        return _node(tuple(self.leaves), level, index)

    def root(self, size: int) -> bytes:
        if size == 0:
            return merkle.EMPTY_ROOT
        return merkle.fold([self.node(*n) for n in merkle.root_plan(size)])

    def proof(self, old: int, new: int) -> list[bytes]:
        if old == 0:
            return []
        plan = merkle.consistency_plan(old, new)
        return merkle.build(plan, {n: self.node(*n) for n in merkle.plan_nodes(plan)})

    def checkpoint(self, size: int, *, key: NoteKey | None = None) -> bytes:
        """The signed checkpoint of the first ``size`` leaves (by ``key``, else the log's)."""
        return sign_checkpoint(Checkpoint(self.origin, size, self.root(size)), key or self.key)

    def request(self, old: int, new: int) -> bytes:
        """An add-checkpoint body from ``old`` to ``new`` with the right proof."""
        return AddCheckpoint(old, tuple(self.proof(old, new)), self.checkpoint(new)).render()


@cache
def _node(leaves: tuple[bytes, ...], level: int, index: int) -> bytes:
    if level == 0:
        return merkle.leaf_hash(leaves[index])
    return merkle.node_hash(
        _node(leaves, level - 1, 2 * index), _node(leaves, level - 1, 2 * index + 1)
    )


def raw_body(old: str, proof_lines: list[str], checkpoint: bytes) -> bytes:
    """A request body written by hand (for bodies AddCheckpoint would refuse to render)."""
    return ("\n".join([old, *proof_lines]) + "\n\n").encode() + checkpoint


__all__ = ["T0", "Clock", "TestLog", "raw_body"]
