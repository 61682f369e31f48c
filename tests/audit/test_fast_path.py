"""The auditor's fast path: the level-by-level tree, worker processes, and the export format."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import _parallel, export_dir
from audit._tree import LeafTree
from audit.export_dir import ExportWriter
from audit.trusted import TrustPolicy, load_trust, save_trust
from audit.verify import check_event_hashes, verify_export, verify_export_tree
from regie_protocol.errors import LogRefused, MalformedInput, Misuse
from regie_protocol.tlog import merkle
from regie_protocol.tlog.note import NoteKey

from .logs import T0, Log, clean_events, released, trusted_file


def _leaves(n: int) -> bytes:
    return b"".join(merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n))


def _reference_root(blob: bytes, size: int) -> bytes:
    tree = merkle.TreeHasher()
    for i in range(size):
        tree.add_leaf_hash(blob[32 * i : 32 * i + 32])
    return tree.root()


@given(st.integers(min_value=0, max_value=300))
@settings(max_examples=60, deadline=None)
def test_the_level_tree_agrees_with_treehasher_at_every_prefix(n: int) -> None:
    blob = _leaves(n)
    tree = LeafTree(blob)
    assert tree.root() == _reference_root(blob, n)
    for size in {0, min(1, n), n // 3, n // 2, max(n - 1, 0), n}:
        assert tree.root(size) == _reference_root(blob, size)


def test_the_level_tree_nodes_are_the_frontier_nodes() -> None:
    blob = _leaves(37)
    tree = LeafTree(blob)
    frontier = merkle.Frontier.empty()
    for i in range(37):
        frontier, done = frontier.append(blob[32 * i : 32 * i + 32])
        for node, value in done:
            assert tree.node(node) == value
    with pytest.raises(Misuse):
        tree.node((1, 18))  # leaves 36..37: not a perfect subtree of 37 leaves
    with pytest.raises(Misuse):
        tree.root(38)


def test_progress_counts_every_interior_node() -> None:
    steps: list[int] = []
    LeafTree(_leaves(1000), steps.append)
    assert sum(steps) == 1000 - 1  # each hash joins two nodes into one


def _big_export(tmp: Path, n: int = 300) -> tuple[Log, Path]:
    log = Log([released(f"c-{i}", T0 + i, 1) for i in range(n)])
    return log, log.export(tmp / "big")


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Workers for logs of any size; records how many each pool had."""
    monkeypatch.setattr(_parallel, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(_parallel, "worker_count", lambda entries: 2)
    pools: list[int] = []
    original = _parallel.new_pool

    def recording(workers: int) -> object:
        pool = original(workers)
        if pool is not None:
            pools.append(workers)
        return pool

    monkeypatch.setattr("audit.verify.new_pool", recording)
    monkeypatch.setattr("audit.verify.worker_count", lambda entries: 2)
    return pools


def test_workers_give_the_same_answer(tmp_path: Path, parallel: list[int]) -> None:
    log, export = _big_export(tmp_path)
    assert verify_export_tree(export) == (300, log.root())
    assert parallel == [2]
    trusted = load_trust(trusted_file(tmp_path / "t.json", log))
    result = verify_export(export, trusted)
    assert (result.size, result.events_checked, result.hidden_events) == (300, 300, 0)


def test_workers_fall_back_to_the_precise_check_on_damage(
    tmp_path: Path, parallel: list[int]
) -> None:
    _, export = _big_export(tmp_path)
    lines = (export / "events.jsonl").read_bytes().split(b"\n")
    lines[200], lines[201] = lines[201], lines[200]
    (export / "events.jsonl").write_bytes(b"\n".join(lines))
    with pytest.raises(LogRefused, match=r"event 200 .* the log's event 201"):
        verify_export_tree(export)
    assert parallel == [2]


def test_workers_report_a_badly_signed_event_by_its_index(
    tmp_path: Path, parallel: list[int]
) -> None:
    events = [released(f"c-{i}", T0 + i, 1) for i in range(300)]
    events[250] = events[250].replace(b'"regie.use":1', b'"regie.use":01')
    assert events[250].count(b":01") == 1
    log = Log(events)
    export = log.export(tmp_path / "e")
    policy = load_trust(trusted_file(tmp_path / "t.json", log))
    assert verify_export(export, policy).events_checked == 300  # hashes alone hold
    with pytest.raises(LogRefused, match=r"^log_event_mismatch: event 250: "):
        verify_export(export, policy, decode=True)
    assert parallel == [2, 2]


def test_a_partial_export_takes_the_sequential_path(tmp_path: Path, parallel: list[int]) -> None:
    log = Log([released(f"c-{i}", T0 + i, 1) for i in range(300)])
    export = log.export(tmp_path / "e", hidden=set(range(0, 300, 2)))
    assert verify_export_tree(export) == (300, log.root())
    policy = load_trust(trusted_file(tmp_path / "t.json", log))
    result = verify_export(export, policy, decode=True)
    assert (result.events_checked, result.hidden_events) == (150, 150)


def test_split_ranges_cut_at_line_starts(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [b"x" * (i % 17 + 1) for i in range(1000)]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    ranges = _parallel.split_ranges(path, 4)
    assert ranges is not None
    assert ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    data = path.read_bytes()
    results = [_parallel.hash_range(str(path), a, b, False) for a, b in ranges]
    assert all(data[a - 1 : a] == b"\n" for a, _ in ranges[1:])
    assert sum(r.lines for r in results) == 1000
    expected = b"".join(hashlib.sha256(b"\x00" + line).digest() for line in lines)
    assert b"".join(r.hashes for r in results) == expected


def test_check_event_hashes_counts_hidden_lines_and_refuses_jumps() -> None:
    events = clean_events()
    leaves = b"".join(merkle.leaf_hash(e) for e in events)
    shown = [b"" if i % 3 == 0 else e for i, e in enumerate(events)]
    seen: list[int] = []
    assert check_event_hashes([(0, shown)], leaves, on_event=lambda i, _: seen.append(i)) == (6, 4)
    assert seen == [1, 2, 4, 5, 7, 8]
    with pytest.raises(LogRefused, match="jump"):
        check_event_hashes([(0, shown[:5]), (6, shown[6:])], leaves)


# -- the export format ---------------------------------------------------------------------------


def test_the_writer_writes_what_the_format_says(tmp_path: Path) -> None:
    log = Log(clean_events())
    by_hand = log.export(tmp_path / "by-hand", hidden={1, 9}, older=[log.checkpoint(4)])
    target = tmp_path / "written"
    target.mkdir()  # an empty directory may be the target
    with ExportWriter(target) as writer:
        writer.add_leaf_hashes(b"".join(log.leaf_hashes()[:4]))
        writer.add_leaf_hashes(b"".join(log.leaf_hashes()[4:]))
        for index, data in enumerate(log.events):
            if index not in (1, 9):
                writer.add_event(index, data)
        writer.finish(
            origin=log.origin, size=10, checkpoint=log.checkpoint(), older=[log.checkpoint(4)]
        )
    assert not (tmp_path / "written.tmp").exists()
    for name in ("events.jsonl", "leaf-hashes.bin", "checkpoint.txt", "checkpoints.txt"):
        assert (target / name).read_bytes() == (by_hand / name).read_bytes(), name
    assert json.loads((target / "log.json").read_text()) == json.loads(
        (by_hand / "log.json").read_text()
    )
    assert export_dir.read_older_checkpoints(target) == [log.checkpoint(4)]


def test_the_writer_refuses_to_overwrite_and_cleans_up_on_failure(tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "something").write_text("x")
    with pytest.raises(Misuse, match="not an empty directory"):
        ExportWriter(full)
    target = tmp_path / "out"
    with ExportWriter(target) as writer:
        writer.add_event(0, b"{}")
        with pytest.raises(Misuse):
            writer.finish(origin="o", size=1, checkpoint=b"")  # no leaf hashes: refused
    assert not target.exists() and not (tmp_path / "out.tmp").exists()
    with ExportWriter(target) as writer:
        with pytest.raises(MalformedInput):
            writer.add_event(0, b"two\nlines")
        with pytest.raises(Misuse):
            writer.add_leaf_hashes(b"short")
    (tmp_path / "again.tmp").mkdir()
    with pytest.raises(Misuse, match="interrupted"):
        ExportWriter(tmp_path / "again")


def test_export_reading_refuses_damaged_files(tmp_path: Path) -> None:
    log = Log(clean_events())
    export = log.export(tmp_path / "e")
    (export / "log.json").write_text('{"format": "other", "version": 1, "origin": "o", "size": 1}')
    with pytest.raises(MalformedInput, match=r"log\.json"):
        export_dir.read_header(export)
    (export / "checkpoints.txt").write_bytes(log.checkpoint(3))  # no "~~~" after it
    with pytest.raises(MalformedInput, match="~~~"):
        export_dir.read_older_checkpoints(export)
    (export / "events.jsonl").write_bytes(b"x" * 9000)
    with pytest.raises(LogRefused, match="longer than an event"):
        list(export_dir.iter_event_lines(export))
    (export / "leaf-hashes.bin").write_bytes(b"\x00" * 33)
    with pytest.raises(LogRefused, match="1 stray bytes"):
        export_dir.read_leaf_hashes(export, 1)


def test_an_export_of_an_empty_log_verifies(tmp_path: Path) -> None:
    log = Log([])
    export = log.export(tmp_path / "e")
    policy = load_trust(trusted_file(tmp_path / "t.json", log))
    result = verify_export(export, policy)
    assert (result.size, result.root) == (0, merkle.EMPTY_ROOT)


def test_trust_policy_round_trips_and_checks_its_keys(tmp_path: Path) -> None:
    key = NoteKey.generate("log.example/l")
    policy = TrustPolicy(log=key.verifier(), checkpoint=b"note\n")
    save_trust(tmp_path / "t.json", policy)
    assert load_trust(tmp_path / "t.json") == policy
    with pytest.raises(Misuse, match="quorum"):
        TrustPolicy(log=key.verifier(), quorum=1)
