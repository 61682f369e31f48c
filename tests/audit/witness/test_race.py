"""The race in the tlog-witness spec: two concurrent submissions never roll the witness back.

Two requests from the same stored size, one to a smaller and one to a larger tree,
run at once (threads released together, one witness or two witnesses on the same
database file like two server processes): exactly one is cosigned, the other gets
409 with the size of the one that was, and the stored size is that size.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from audit.witness.checks import Conflict, Cosigned
from audit.witness.service import Witness
from audit.witness.store import WitnessStore
from regie_protocol.tlog.note import CosignerKey

from .world import T0, Clock, TestLog

ROUNDS = 12


def test_the_check_and_the_update_hold_the_write_lock(
    witness_key: CosignerKey, store: WitnessStore, log: TestLog, db_path: Path
) -> None:
    """While the witness decides (its clock is read inside), no other writer can begin."""
    seen: list[str] = []

    def clock_that_probes() -> int:
        other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        else:
            other.execute("ROLLBACK")
            seen.append("not locked")
        finally:
            other.close()
        return T0

    witness = Witness(witness_key, store, clock_that_probes)
    assert isinstance(witness.add_checkpoint(log.request(0, 4)), Cosigned)
    assert seen == ["database is locked"]


def _race(witnesses: tuple[Witness, Witness], bodies: tuple[bytes, bytes]) -> list[object]:
    barrier = threading.Barrier(2)

    def submit(index: int) -> object:
        barrier.wait()
        return witnesses[index].add_checkpoint(bodies[index])

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(submit, (0, 1)))


@pytest.mark.parametrize("two_processes", [False, True], ids=["one witness", "two witnesses"])
def test_concurrent_submissions_never_roll_back(
    two_processes: bool, witness_key: CosignerKey, store: WitnessStore, db_path: Path
) -> None:
    log = TestLog.create("wallet.example/log", 4 + 3 * ROUNDS + 3)
    store.trust_log(log.key.verifier(), now=T0)
    first = Witness(witness_key, store, Clock())
    second = Witness(witness_key, WitnessStore.open(db_path), Clock()) if two_processes else first
    assert isinstance(first.add_checkpoint(log.request(0, 4)), Cosigned)
    stored = 4
    for _ in range(ROUNDS):
        small, large = stored + 1, stored + 3
        answers = _race((first, second), (log.request(stored, small), log.request(stored, large)))
        cosigned = [a for a in answers if isinstance(a, Cosigned)]
        conflicts = [a for a in answers if isinstance(a, Conflict)]
        assert len(cosigned) == 1
        assert len(conflicts) == 1
        won = cosigned[0].latest.size
        assert won in (small, large)
        assert conflicts[0].size == won
        latest = store.latest(log.origin)
        assert latest is not None
        assert (latest.size, latest.root) == (won, log.root(won))
        stored = won
