"""The Merkle tree of the consent log (RFC 9162 §2.1, SHA-256): hashes, proofs, their checks.

::

    frontier, nodes = Frontier.empty().append(leaf_hash(event_bytes))   # what a log stores
    proof = build(inclusion_plan(index, size), fetched_nodes)           # a proof from stored nodes
    verify_inclusion(leaf_hash(event_bytes), index, size, proof, root)  # anyone, offline

A tree of ``size`` leaves is described by *perfect* subtrees: a node ``(level,
index)`` is the subtree of ``2**level`` leaves that starts at leaf ``index *
2**level`` (level 0 is a leaf). Every subtree the RFC's recursion names, the
ragged right edge included, is the right fold of the perfect subtrees its leaf
range splits into (largest first), so a log that stores each perfect node once
(about one per leaf) can answer any proof with one lookup of at most ``2 *
log2(size)`` nodes: the ``*_plan`` functions say which, :func:`build` folds them.

:class:`Frontier` is the compact range ``[0, size)``: the perfect subtrees a
tree of ``size`` leaves splits into. Appending a leaf gives the next frontier
and the perfect nodes the leaf completed; its :meth:`~Frontier.root` is the
tree head. :class:`TreeHasher` is the same, mutable and lean, for an auditor
recomputing a million-leaf tree.

The checks follow RFC 9162 §2.1.3.2 and §2.1.4.2, with the two rules of the
transparency-dev verifier: a consistency proof from size 0 is refused (the
empty tree needs no proof: a caller skips it), and every hash must be 32 bytes.
A failed check raises :class:`~regie_protocol.errors.LogRefused`; a plan asked
for impossible sizes is the caller's bug (:class:`~regie_protocol.errors.Misuse`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import Code, LogRefused, Misuse

HASH_SIZE = 32
#: the root of the empty tree: SHA-256 of nothing
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one logged entry."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """The right fold of subtree hashes: ``fold([a, b, c]) == node_hash(a, node_hash(b, c))``."""
    if not hashes:
        raise Misuse("nothing to fold")
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = _sha256(b"\x01" + left + result).digest()
    return result


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_plan(start: int, end: int) -> list[NodeId]:
    """The perfect subtrees of ``[start, end)``, largest first (``start`` aligned, RFC 9162)."""
    if not 0 <= start < end:
        raise Misuse(f"no leaves in [{start}, {end})")
    nodes: list[NodeId] = []
    at = start
    remaining = end - start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            if at % (1 << level):
                raise Misuse(f"[{start}, {end}) is not a subtree of a left-balanced tree")
            nodes.append((level, at >> level))
            at += 1 << level
    return nodes


def root_plan(size: int) -> list[NodeId]:
    """The perfect subtrees whose fold is the root of a tree of ``size`` leaves (``size >= 1``)."""
    return range_plan(0, size)


def inclusion_plan(index: int, size: int) -> list[list[NodeId]]:
    """For each hash of leaf ``index``'s inclusion proof in a tree of ``size``: nodes to fold."""
    if not 0 <= index < size:
        raise Misuse(f"leaf {index} is not in a tree of {size} leaves")
    path: list[list[NodeId]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        level = k.bit_length() - 1
        if index < start + k:
            rest = end - start - k
            if rest & (rest - 1):  # the ragged right edge (at most once per proof)
                path.append(range_plan(start + k, end))
            else:
                path.append([(rest.bit_length() - 1, (start + k) >> (rest.bit_length() - 1))])
            end = start + k
        else:  # the left sibling is a whole aligned subtree
            path.append([(level, start >> level)])
            start += k
    path.reverse()  # from the leaf's sibling up to the root's child
    return path


def consistency_plan(size1: int, size2: int) -> list[list[NodeId]]:
    """For each hash of the consistency proof from ``size1`` to ``size2``: the nodes to fold."""
    if not 0 < size1 <= size2:
        raise Misuse(f"no consistency proof from {size1} to {size2} leaves")
    path: list[list[NodeId]] = []
    start, end, whole = 0, size2, True
    while True:
        n, m = end - start, size1 - start
        if m == n:
            if not whole:
                path.append(range_plan(start, end))
            break
        k = _split(n)
        if m <= k:
            path.append(range_plan(start + k, end))
            end = start + k
        else:
            path.append(range_plan(start, start + k))
            start += k
            whole = False
    path.reverse()
    return path


def plan_nodes(plan: Iterable[Iterable[NodeId]]) -> set[NodeId]:
    """Every node a plan needs: fetch them in one lookup."""
    return {node for group in plan for node in group}


def build(plan: Sequence[Sequence[NodeId]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The proof hashes of ``plan`` from the node hashes in ``nodes``."""
    try:
        return [fold([nodes[node] for node in group]) for group in plan]
    except KeyError as exc:
        raise Misuse(f"node {exc.args[0]} is missing from the lookup") from None


@dataclass(frozen=True, slots=True)
class Frontier:
    """The perfect subtrees of ``[0, size)`` (leftmost, largest first): all an append needs."""

    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise Misuse(f"a frontier of {self.size} leaves has {self.size.bit_count()} hashes")

    @classmethod
    def empty(cls) -> Frontier:
        return cls(0, ())

    def append(self, leaf: bytes) -> tuple[Frontier, list[tuple[NodeId, bytes]]]:
        """The frontier with ``leaf`` (a leaf hash) added, and the perfect nodes it completed."""
        if len(leaf) != HASH_SIZE:
            raise Misuse("a leaf hash is 32 bytes")
        stack = list(self.hashes)
        stack.append(leaf)
        size = self.size + 1
        completed: list[tuple[NodeId, bytes]] = []
        level, rest = 0, size
        while not rest & 1:
            right = stack.pop()
            left = stack.pop()
            parent = _sha256(b"\x01" + left + right).digest()
            stack.append(parent)
            level += 1
            rest >>= 1
            completed.append(((level, rest - 1), parent))
        return Frontier(size, tuple(stack)), completed

    def root(self) -> bytes:
        """The tree head: the root hash of the tree of :attr:`size` leaves."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT

    def node_ids(self) -> list[NodeId]:
        return root_plan(self.size) if self.size else []

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        if len(blob) != HASH_SIZE * size.bit_count():
            raise Misuse(f"a stored frontier of {size} leaves has the wrong length {len(blob)}")
        return cls(size, tuple(blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)))


class TreeHasher:
    """A tree recomputed leaf by leaf, as an auditor does: :meth:`root` at any point."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    def add_leaf_hash(self, leaf: bytes) -> None:
        stack = self._stack
        stack.append(leaf)
        self.size = rest = self.size + 1
        while not rest & 1:
            right = stack.pop()
            stack[-1] = _sha256(b"\x01" + stack[-1] + right).digest()
            rest >>= 1

    def add_leaves(self, entries: Iterable[bytes]) -> None:
        """Hash each entry as a leaf and add it (the fast path for a whole log)."""
        stack = self._stack
        push, pop, sha = stack.append, stack.pop, _sha256
        size = self.size
        for data in entries:
            push(sha(b"\x00" + data).digest())
            size += 1
            rest = size
            while not rest & 1:
                right = pop()
                stack[-1] = sha(b"\x01" + stack[-1] + right).digest()
                rest >>= 1
        self.size = size

    def root(self) -> bytes:
        return fold(self._stack) if self._stack else EMPTY_ROOT


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise LogRefused(
            f"{what} is {len(value)} bytes, not a SHA-256 hash", code=Code.LOG_PROOF_INVALID
        )


def _lsb(value: int) -> int:
    return value & 1


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: ``leaf`` (a leaf hash) is entry ``index`` of the tree with ``root``."""
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root hash")
    for element in proof:
        _check_hash(element, "a proof hash")
    if not 0 <= index < size:
        raise LogRefused(
            f"entry {index} cannot be in a tree of {size} entries", code=Code.LOG_PROOF_INVALID
        )
    fn, sn, result = index, size - 1, leaf
    for element in proof:
        if sn == 0:
            raise LogRefused("the inclusion proof is too long", code=Code.LOG_PROOF_INVALID)
        if _lsb(fn) or fn == sn:
            result = node_hash(element, result)
            while not _lsb(fn) and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogRefused("the inclusion proof is too short", code=Code.LOG_PROOF_INVALID)
    if result != root:
        raise LogRefused(
            f"entry {index} is not in the tree of {size} entries with this root",
            code=Code.LOG_PROOF_INVALID,
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: the tree of ``size2`` with ``root2`` extends the one of ``size1``."""
    if size1 <= 0 or size2 < size1:
        raise LogRefused(
            f"no consistency proof exists from {size1} to {size2} entries",
            code=Code.LOG_INCONSISTENT,
        )
    if size1 == size2:
        if proof:
            raise LogRefused(
                "a consistency proof between equal sizes must be empty",
                code=Code.LOG_INCONSISTENT,
            )
        if root1 != root2:
            raise LogRefused(
                f"two different roots for the same size {size1}", code=Code.LOG_SPLIT_VIEW
            )
        return
    _check_hash(root1, "the first root hash")
    _check_hash(root2, "the second root hash")
    for element in proof:
        _check_hash(element, "a proof hash")
    if not proof:
        raise LogRefused("the consistency proof is empty", code=Code.LOG_INCONSISTENT)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise LogRefused("the consistency proof is too long", code=Code.LOG_INCONSISTENT)
        if _lsb(fn) or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            while not _lsb(fn) and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogRefused("the consistency proof is too short", code=Code.LOG_INCONSISTENT)
    if fr != root1 or sr != root2:
        raise LogRefused(
            f"the tree of {size2} entries does not extend the tree of {size1} entries",
            code=Code.LOG_INCONSISTENT,
        )


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "NodeId",
    "TreeHasher",
    "build",
    "consistency_plan",
    "fold",
    "inclusion_plan",
    "leaf_hash",
    "node_hash",
    "plan_nodes",
    "range_plan",
    "root_plan",
    "verify_consistency",
    "verify_inclusion",
]
