"""The stored tree is RFC 9162 computed in memory: roots, proofs, frontier, nodes, every size."""

from __future__ import annotations

import contextlib
import functools
import random
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Connection

from regie_protocol.errors import MalformedInput
from regie_protocol.tlog import merkle
from tests.wallet.databases import postgres_database
from wallet.log import appender, store
from wallet.log.appender import Appended
from wallet.storage import Database, open_database

from .helpers import NOW, ReferenceTree, append_random, check_whole_log, random_body

#: events appended in the full sweep (every size, every index)
SWEEP = 300
#: sizes up to which every consistency pair is checked
PAIRS_UP_TO = 64


def _fill(db: Database, rng: random.Random, count: int) -> list[bytes]:
    """Append ``count`` random events in transactions of random length; their leaf hashes."""
    leaves: list[bytes] = []
    frontier = merkle.Frontier.empty()
    while len(leaves) < count:
        batch = min(rng.randint(1, 40), count - len(leaves))
        start = len(leaves)

        def work(conn: Connection, start: int = start, batch: int = batch) -> list[Appended]:
            return [append_random(conn, rng, start + i) for i in range(batch)]

        made = db.run(work)
        assert [a.index for a in made] == list(range(start, start + batch))
        for a in made:
            assert a.leaf_hash == merkle.leaf_hash(a.body)
            frontier, _ = frontier.append(a.leaf_hash)
            leaves.append(a.leaf_hash)
        # the stored frontier is the one built in memory, and survives its byte form
        tree_head = db.run(store.head, write=False)
        assert tree_head is not None
        assert tree_head.frontier == frontier
        assert merkle.Frontier.from_bytes(frontier.size, frontier.to_bytes()) == frontier
    return leaves


def test_every_root_and_inclusion_proof_equals_rfc_9162(db: Database) -> None:
    rng = random.Random(9162)
    leaves = _fill(db, rng, SWEEP)
    ref = ReferenceTree(leaves)
    check_whole_log(db, None)

    def sweep(conn: Connection) -> None:
        for size in range(SWEEP + 1):
            root = store.root_at(conn, size)
            assert root == ref.root(size)
            if size == 0:
                assert root == merkle.EMPTY_ROOT
                continue
            proofs = store.inclusion_proofs(conn, range(size), size)
            assert sorted(proofs) == list(range(size))
            for index, proof in proofs.items():
                assert proof == ref.inclusion(index, size), (index, size)
                merkle.verify_inclusion(leaves[index], index, size, proof, root)

    db.run(sweep, write=False)


def test_consistency_proofs_equal_rfc_9162(db: Database) -> None:
    rng = random.Random(6962)
    leaves = _fill(db, rng, SWEEP)
    ref = ReferenceTree(leaves)
    pairs = [(a, b) for b in range(1, PAIRS_UP_TO + 1) for a in range(1, b + 1)]
    pairs += [(rng.randint(1, b), b) for b in range(PAIRS_UP_TO + 1, SWEEP + 1) for _ in range(3)]
    pairs += [(1, SWEEP), (SWEEP - 1, SWEEP), (SWEEP, SWEEP), (256, SWEEP), (128, 256)]

    def sweep(conn: Connection) -> None:
        for size1, size2 in pairs:
            proof = store.consistency_proof(conn, size1, size2)
            assert proof == ref.consistency(size1, size2), (size1, size2)
            merkle.verify_consistency(size1, size2, proof, ref.root(size1), ref.root(size2))
        assert store.consistency_proof(conn, 0, SWEEP) == []

    db.run(sweep, write=False)


def test_one_proof_reads_only_what_it_needs(db: Database) -> None:
    rng = random.Random(5)
    leaves = _fill(db, rng, 37)
    ref = ReferenceTree(leaves)
    with db.connect(write=False) as conn:
        assert store.inclusion_proof(conn, 36, 37) == ref.inclusion(36, 37)
        assert store.inclusion_proof(conn, 0, 1) == []
        lookup = store.node_hashes(conn, [(0, 3), (1, 2), (5, 0), (6, 0)])
        assert lookup.size == 37
        # (6, 0) would be 64 leaves: not in a tree of 37, so not stored
        assert set(lookup.nodes) == {(0, 3), (1, 2), (5, 0)}
        assert lookup.nodes[(5, 0)] == ref.mth(0, 32)


def test_leaf_hashes_and_events_by_range_and_owner(db: Database) -> None:
    rng = random.Random(11)
    leaves = _fill(db, rng, 50)
    with db.connect(write=False) as conn:
        assert store.leaf_hashes(conn, 0, 50) == leaves
        assert store.leaf_hashes(conn, 7, 19) == leaves[7:19]
        assert store.leaf_hashes(conn, 50, 50) == []
        every = store.events(conn, 0, 50)
        assert [i for i, _ in every] == list(range(50))
        assert [merkle.leaf_hash(body) for _, body in every] == leaves
        rows = [store.event_at(conn, i) for i in range(50)]
        mine = store.events(conn, 0, 50, owner="w1")
        assert mine == [(r.index, r.body) for r in rows if r.owner == "w1"]
        assert mine and len(mine) < 50
        assert store.events(conn, 10, 20, owner="w1") == [(i, b) for i, b in mine if 10 <= i < 20]
        assert store.events(conn, 0, 50, owner="nobody") == []


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ten_events(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A log of ten events, shared by the read-only cases of one backend."""
    home = tmp_path_factory.mktemp("log")
    with contextlib.ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            _, url = stack.enter_context(postgres_database())
        db = stack.enter_context(open_database(url, home=home))
        _fill(db, random.Random(1), 10)
        yield db


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: store.inclusion_proof(c, 5, 5), "not in a tree"),
        (lambda c: store.inclusion_proof(c, -1, 5), "not in a tree"),
        (lambda c: store.inclusion_proof(c, 3, 11), "there is no tree of 11"),
        (lambda c: store.inclusion_proofs(c, [0, 10], 10), "not in a tree"),
        (lambda c: store.root_at(c, 11), "there is no tree of 11"),
        (lambda c: store.root_at(c, -1), "there is no tree of -1"),
        (lambda c: store.consistency_proof(c, 4, 3), "no consistency proof"),
        (lambda c: store.consistency_proof(c, 3, 12), "there is no tree of 12"),
        (lambda c: store.leaf_hashes(c, 5, 11), "there is no tree of 11"),
        (lambda c: store.leaf_hashes(c, 6, 5), "not a range"),
        (lambda c: store.events(c, 0, 11), "there is no tree of 11"),
        (lambda c: store.events(c, 0, 11, owner="w1"), "there is no tree of 11"),
        (lambda c: store.event_at(c, 10), "not in a tree"),
    ],
    ids=[
        "index-equals-size",
        "negative-index",
        "size-beyond-log",
        "one-of-many-beyond",
        "root-beyond-log",
        "negative-size",
        "consistency-backwards",
        "consistency-beyond-log",
        "leaves-beyond-log",
        "leaves-reversed",
        "events-beyond-log",
        "own-events-beyond-log",
        "event-beyond-log",
    ],
)
def test_requests_outside_the_log_are_refused(
    ten_events: Database, call: Callable[[Connection], object], message: str
) -> None:
    with ten_events.connect(write=False) as conn, pytest.raises(MalformedInput, match=message):
        call(conn)


def test_an_empty_log_has_the_empty_root(db: Database) -> None:
    with db.connect(write=False) as conn:
        assert store.head(conn) is None
        assert store.root_at(conn, 0) == merkle.EMPTY_ROOT
        assert store.leaf_hashes(conn, 0, 0) == []
        with pytest.raises(MalformedInput):
            store.inclusion_proof(conn, 0, 1)


def test_concurrent_appenders_never_share_or_skip_an_index(db: Database) -> None:
    # separate transactions at once, each taking the log lock first: they queue for it
    # and none fails to serialize (one attempt each), on SQLite and PostgreSQL alike
    def worker(seed: int) -> list[int]:
        rng = random.Random(seed)

        def one(conn: Connection, i: int) -> int:
            appender.lock_log(conn)
            return appender.append_raw(conn, random_body(rng, i), owner="w1").index

        return [db.run(functools.partial(one, i=i), attempts=1) for i in range(15)]

    results: list[list[int]] = []
    threads = [threading.Thread(target=lambda s=s: results.append(worker(s))) for s in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    indices = sorted(i for r in results for i in r)
    assert indices == list(range(60))
    assert check_whole_log(db, None).size == 60


def test_the_first_append_creates_the_log_with_its_origin(db: Database) -> None:
    made = db.run(lambda c: appender.append_raw(c, random_body(random.Random(2), 0), origin="a/b"))
    assert made.index == 0
    tree_head = db.run(store.head, write=False)
    assert tree_head is not None
    assert tree_head.origin == "a/b" and tree_head.size == 1 and tree_head.created_at == NOW
    assert db.run(lambda c: appender.ensure_log(c, now=NOW)) == "a/b"
