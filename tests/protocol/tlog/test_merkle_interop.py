"""Regie's Merkle tree against pymerkle, an implementation Regie did not write.

pymerkle (``InmemoryTree``, SHA-256, its second-preimage protection on: the
RFC 9162 ``0x00``/``0x01`` prefixes) must agree with Regie on every root, and
proofs must cross over both ways: Regie's proofs pass pymerkle's verifier,
pymerkle's proofs pass Regie's. Every size up to 70 leaves, every index and
every pair of sizes is tried.

pymerkle writes proofs in its own layout: a path that starts with the leaf (or
a node of the old tree) and a list of fold directions. Inclusion proofs are
otherwise the RFC's. Consistency proofs differ in two ways, which the helpers
below translate: pymerkle always writes the old tree's node that the RFC leaves
out when the old tree is a perfect left subtree, and where the old tree ends
exactly at a split point it descends into the new right subtree and writes its
pieces where the RFC writes the subtree's hash. Going from Regie's proof to
pymerkle's, those pieces come from pymerkle's own proof and must fold (with
pymerkle's hasher) to the hash Regie wrote; every other hash is Regie's.
"""

from __future__ import annotations

import pytest
from pymerkle import ConsistencyProof, InclusionProof, InmemoryTree, InvalidProof
from pymerkle import verify_consistency as pm_verify_consistency
from pymerkle import verify_inclusion as pm_verify_inclusion

from regie_protocol.errors import LogRefused
from regie_protocol.tlog import merkle

pytestmark = pytest.mark.interop

MAX_SIZE = 70
RFC6962_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
RFC6962_ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


class Trees:
    """The same entries in both implementations: pymerkle's tree, Regie's nodes and roots."""

    def __init__(self, entries: list[bytes]) -> None:
        self.entries = entries
        self.pm = InmemoryTree(algorithm="sha256")
        self.nodes: dict[merkle.NodeId, bytes] = {}
        self.roots = [merkle.EMPTY_ROOT]
        frontier = merkle.Frontier.empty()
        for index, data in enumerate(entries):
            self.pm.append_entry(data)
            leaf = merkle.leaf_hash(data)
            self.nodes[(0, index)] = leaf
            frontier, completed = frontier.append(leaf)
            self.nodes.update(completed)
            self.roots.append(frontier.root())

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.build(merkle.inclusion_plan(index, size), self.nodes)

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        return merkle.build(merkle.consistency_plan(size1, size2), self.nodes)


@pytest.fixture(scope="module")
def trees() -> Trees:
    return Trees([b"entry %d" % i for i in range(MAX_SIZE)])


def test_pymerkle_is_rfc6962() -> None:
    tree = Trees([bytes.fromhex(h) for h in RFC6962_LEAVES])
    assert tree.pm.get_root() == RFC6962_ROOT
    assert tree.roots[8] == RFC6962_ROOT


def test_roots_agree(trees: Trees) -> None:
    for size in range(MAX_SIZE + 1):
        assert trees.pm.get_root(size) == trees.roots[size], size
    hasher = merkle.TreeHasher()
    hasher.add_leaves(trees.entries)
    assert hasher.root() == trees.pm.get_root()


def test_inclusion_proofs_cross_over(trees: Trees) -> None:
    for size in range(1, MAX_SIZE + 1):
        root = trees.roots[size]
        for index in range(size):
            leaf = merkle.leaf_hash(trees.entries[index])
            theirs = trees.pm.prove_inclusion(index + 1, size)
            ours = trees.inclusion(index, size)
            # pymerkle's path is the leaf followed by the RFC 9162 proof
            assert theirs.path == [leaf, *ours], (index, size)
            merkle.verify_inclusion(leaf, index, size, theirs.path[1:], root)
            translated = InclusionProof("sha256", True, size, index + 1, theirs.rule, [leaf, *ours])
            pm_verify_inclusion(leaf, root, translated, index=index + 1, size=size)


def test_pymerkle_refuses_a_tampered_proof_of_ours(trees: Trees) -> None:
    """The cross-check has teeth: pymerkle's verifier does look at Regie's hashes."""
    size, index = 37, 21
    leaf = merkle.leaf_hash(trees.entries[index])
    ours = trees.inclusion(index, size)
    ours[2] = bytes(32)
    rule = trees.pm.prove_inclusion(index + 1, size).rule
    with pytest.raises(InvalidProof):
        pm_verify_inclusion(
            leaf,
            trees.roots[size],
            InclusionProof("sha256", True, size, index + 1, rule, [leaf, *ours]),
        )
    with pytest.raises(LogRefused):
        merkle.verify_inclusion(leaf, index, size, ours, trees.roots[size])


def _split_point(proof: ConsistencyProof) -> int | None:
    """Where pymerkle wrote pieces of a new subtree instead of its hash (None: it did not)."""
    if proof.subset[0] == 1:
        return None
    return proof.subset.index(1)  # the old tree's node just above the pieces


def _fold_pieces(proof: ConsistencyProof, count: int) -> bytes:
    """The hash of the new subtree pymerkle wrote as ``count`` pieces (pymerkle's hasher)."""
    result = proof.path[0]
    for bit, piece in zip(proof.rule[: count - 1], proof.path[1:count], strict=True):
        assert bit == 0  # the pieces are right siblings all the way up
        result = proof.hasher.hash_pair(result, piece)
    return result


def pymerkle_to_rfc(proof: ConsistencyProof) -> list[bytes]:
    """pymerkle's consistency proof in RFC 9162 form."""
    split = _split_point(proof)
    if split is None:
        left_edge = not any(proof.subset[1:])  # the old tree is a perfect left subtree
        return list(proof.path[1:] if left_edge else proof.path)
    written_old = any(proof.subset[split + 1 :])
    subtree = _fold_pieces(proof, split)
    old = [proof.path[split]] if written_old else []
    return [*old, subtree, *proof.path[split + 1 :]]


def rfc_to_pymerkle(
    ours: list[bytes], root1: bytes, size1: int, size2: int, reference: ConsistencyProof
) -> ConsistencyProof:
    """Regie's consistency proof in pymerkle's layout (``reference`` gives the layout)."""
    split = _split_point(reference)
    if split is None:
        left_edge = not any(reference.subset[1:])
        path = [root1, *ours] if left_edge else list(ours)
    else:
        written_old = any(reference.subset[split + 1 :])
        old = ours[0] if written_old else root1
        subtree = ours[1 if written_old else 0]
        rest = ours[2 if written_old else 1 :]
        assert _fold_pieces(reference, split) == subtree
        path = [*reference.path[:split], old, *rest]
    return ConsistencyProof(
        "sha256", True, size2, size1, list(reference.rule), list(reference.subset), path
    )


def test_consistency_proofs_cross_over(trees: Trees) -> None:
    for size2 in range(1, MAX_SIZE + 1):
        for size1 in range(1, size2 + 1):
            root1, root2 = trees.roots[size1], trees.roots[size2]
            theirs = trees.pm.prove_consistency(size1, size2)
            ours = trees.consistency(size1, size2)
            assert pymerkle_to_rfc(theirs) == ours, (size1, size2)
            merkle.verify_consistency(size1, size2, pymerkle_to_rfc(theirs), root1, root2)
            translated = rfc_to_pymerkle(ours, root1, size1, size2, theirs)
            pm_verify_consistency(root1, root2, translated, prior_size=size1, later_size=size2)


def test_pymerkle_refuses_a_tampered_consistency_proof_of_ours(trees: Trees) -> None:
    size1, size2 = 13, 50
    ours = trees.consistency(size1, size2)
    ours[-1] = bytes(32)
    reference = trees.pm.prove_consistency(size1, size2)
    with pytest.raises(InvalidProof):
        pm_verify_consistency(
            trees.roots[size1],
            trees.roots[size2],
            rfc_to_pymerkle(ours, trees.roots[size1], size1, size2, reference),
        )
    with pytest.raises(LogRefused):
        merkle.verify_consistency(size1, size2, ours, trees.roots[size1], trees.roots[size2])


@pytest.mark.parametrize("size", [127, 128, 129, 1000])
def test_larger_trees_agree(size: int) -> None:
    tree = Trees([b"large %d" % i for i in range(size)])
    assert tree.pm.get_root() == tree.roots[size]
    for index in (0, 1, size // 3, size // 2, size - 2, size - 1):
        assert tree.pm.prove_inclusion(index + 1).path[1:] == tree.inclusion(index, size)
    for size1 in (1, 2, 64, size // 2, size - 1, size):
        theirs = tree.pm.prove_consistency(size1, size)
        assert pymerkle_to_rfc(theirs) == tree.consistency(size1, size)
