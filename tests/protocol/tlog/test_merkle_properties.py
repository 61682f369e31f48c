"""Our proofs verify for every index and size up to 70, and one changed bit breaks each."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie_protocol.errors import LogRefused, Misuse
from regie_protocol.tlog import merkle

N = 70


def _tree(n: int) -> tuple[dict[merkle.NodeId, bytes], list[bytes], list[bytes]]:
    nodes: dict[merkle.NodeId, bytes] = {}
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    roots = [merkle.EMPTY_ROOT]
    frontier = merkle.Frontier.empty()
    for i, leaf in enumerate(leaves):
        nodes[(0, i)] = leaf
        frontier, completed = frontier.append(leaf)
        nodes.update(completed)
        roots.append(frontier.root())
    return nodes, leaves, roots


NODES, LEAVES, ROOTS = _tree(N)


def test_roots_agree_with_a_recursive_definition() -> None:
    def mth(leaves: list[bytes]) -> bytes:
        if len(leaves) == 1:
            return leaves[0]
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))

    for n in range(1, N + 1):
        assert ROOTS[n] == mth(LEAVES[:n])
        hasher = merkle.TreeHasher()
        for leaf in LEAVES[:n]:
            hasher.add_leaf_hash(leaf)
        assert hasher.root() == ROOTS[n]


def test_every_inclusion_and_consistency_proof_verifies() -> None:
    for n in range(1, N + 1):
        for i in range(n):
            proof = merkle.build(merkle.inclusion_plan(i, n), NODES)
            merkle.verify_inclusion(LEAVES[i], i, n, proof, ROOTS[n])
        for m in range(1, n + 1):
            proof = merkle.build(merkle.consistency_plan(m, n), NODES)
            merkle.verify_consistency(m, n, proof, ROOTS[m], ROOTS[n])


@given(st.integers(1, N), st.data())
def test_a_flipped_bit_or_a_wrong_index_is_refused(n: int, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.build(merkle.inclusion_plan(i, n), NODES)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bad = bytearray(proof[at])
        bad[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        with pytest.raises(LogRefused):
            merkle.verify_inclusion(
                LEAVES[i], i, n, [*proof[:at], bytes(bad), *proof[at + 1 :]], ROOTS[n]
            )
    other = data.draw(st.integers(0, n - 1))
    if other != i:
        with pytest.raises(LogRefused):
            merkle.verify_inclusion(LEAVES[i], other, n, proof, ROOTS[n])


@given(st.integers(1, N), st.data())
def test_a_consistency_proof_for_another_old_root_is_refused(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n))
    proof = merkle.build(merkle.consistency_plan(m, n), NODES)
    other = data.draw(st.integers(1, N).filter(lambda k: ROOTS[k] != ROOTS[m]))
    with pytest.raises(LogRefused):
        merkle.verify_consistency(m, n, proof, ROOTS[other], ROOTS[n])


def test_frontier_round_trips_and_names_its_nodes() -> None:
    frontier = merkle.Frontier.empty()
    for i, leaf in enumerate(LEAVES):
        frontier, _ = frontier.append(leaf)
        again = merkle.Frontier.from_bytes(frontier.size, frontier.to_bytes())
        assert again == frontier
        assert [NODES[node] for node in frontier.node_ids()] == list(frontier.hashes)
        assert frontier.size == i + 1


def test_impossible_plans_are_the_callers_bug() -> None:
    with pytest.raises(Misuse):
        merkle.inclusion_plan(5, 5)
    with pytest.raises(Misuse):
        merkle.consistency_plan(0, 5)
    with pytest.raises(Misuse):
        merkle.Frontier.from_bytes(3, b"x" * 32)
