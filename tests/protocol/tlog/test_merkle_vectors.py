"""The transparency-dev/merkle proof probes through Regie's Merkle verifier and proof builder.

Every probe goes to :func:`merkle.verify_inclusion` or
:func:`merkle.verify_consistency`; the verifier must raise
:class:`LogRefused` for exactly the probes marked ``wantErr``. The happy-path
probes also check the other side: the proofs Regie *builds* (plans folded from
node hashes computed here) are byte for byte the upstream ones.

Source: transparency-dev/merkle ``testdata`` (commit in ``SOURCE_COMMIT``, Apache-2.0).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from regie_protocol.errors import LogRefused
from regie_protocol.tlog import merkle

VECTORS = Path(__file__).parent.parent.parent / "vectors" / "transparency-dev-merkle"
TESTDATA = VECTORS / "testdata"
#: the RFC 6962 test leaves the probes' trees are built from
RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
RFC6962_ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


def _probes(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).rglob("*.json"))


def _param(path: Path) -> Any:
    return pytest.param(path, id=str(path.relative_to(TESTDATA)))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(probe: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in probe["proof"] or []]


def test_all_probes_are_there() -> None:
    assert len(_probes("inclusion")) == 98
    assert len(_probes("consistency")) == 98


@pytest.mark.parametrize("path", [_param(p) for p in _probes("inclusion")])
def test_inclusion_probe(path: Path) -> None:
    probe = _load(path)
    args = (
        _b64(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        _proof(probe),
        _b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(LogRefused):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", [_param(p) for p in _probes("consistency")])
def test_consistency_probe(path: Path) -> None:
    probe = _load(path)
    args = (
        probe["size1"],
        probe["size2"],
        _proof(probe),
        _b64(probe["root1"]),
        _b64(probe["root2"]),
    )
    if probe["wantErr"]:
        with pytest.raises(LogRefused):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def _rfc6962_tree() -> tuple[dict[merkle.NodeId, bytes], list[bytes]]:
    """Every perfect node of the eight-leaf tree, and the root at each size 0..8."""
    nodes: dict[merkle.NodeId, bytes] = {}
    roots = [merkle.EMPTY_ROOT]
    frontier = merkle.Frontier.empty()
    for index, data in enumerate(RFC6962_LEAVES):
        leaf = merkle.leaf_hash(data)
        nodes[(0, index)] = leaf
        frontier, completed = frontier.append(leaf)
        nodes.update(completed)
        roots.append(frontier.root())
    return nodes, roots


def test_rfc6962_root() -> None:
    _, roots = _rfc6962_tree()
    assert roots[8] == RFC6962_ROOT
    hasher = merkle.TreeHasher()
    hasher.add_leaves(RFC6962_LEAVES)
    assert hasher.root() == RFC6962_ROOT


HAPPY_INCLUSION = [p for p in _probes("inclusion") if p.name == "happy-path.json"]
HAPPY_CONSISTENCY = [p for p in _probes("consistency") if p.name == "happy-path.json"]


def test_happy_paths_are_there() -> None:
    assert len(HAPPY_INCLUSION) == 5
    assert len(HAPPY_CONSISTENCY) == 5


@pytest.mark.parametrize("path", [_param(p) for p in HAPPY_INCLUSION])
def test_built_inclusion_proof_equals_probe(path: Path) -> None:
    probe = _load(path)
    nodes, roots = _rfc6962_tree()
    index, size = probe["leafIdx"], probe["treeSize"]
    assert nodes[(0, index)] == _b64(probe["leafHash"])
    assert roots[size] == _b64(probe["root"])
    assert merkle.build(merkle.inclusion_plan(index, size), nodes) == _proof(probe)


@pytest.mark.parametrize("path", [_param(p) for p in HAPPY_CONSISTENCY])
def test_built_consistency_proof_equals_probe(path: Path) -> None:
    probe = _load(path)
    nodes, roots = _rfc6962_tree()
    size1, size2 = probe["size1"], probe["size2"]
    assert roots[size1] == _b64(probe["root1"])
    assert roots[size2] == _b64(probe["root2"])
    assert merkle.build(merkle.consistency_plan(size1, size2), nodes) == _proof(probe)
