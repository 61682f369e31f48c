"""Nothing acknowledged is lost, nothing is half-written: kill -9 during heavy log appends.

A child process (``crash_child.py``) appends events from several threads
through one group committer, sometimes signing a checkpoint, and prints each
acknowledged event's index and body hash after its commit. The parent
SIGKILLs it at a random moment, opens the database again and checks the whole
log (:func:`~tests.wallet.log.helpers.check_whole_log`): every acknowledged
event present byte for byte, no gap, every leaf hash and stored node equal to
the recomputed ones, the head's frontier root equal to the root of all leaves,
the newest checkpoint signed by the log key and matching the stored tree,
SQLite's ``integrity_check``; then it starts the next child on the same
database, whose checkpoints must pass the rollback guard again.

The normal suite kills :data:`QUICK_KILLS` times per backend; the ``slow``
soak (``make soak``) ``REGIE_SOAK_KILLS`` times (default :data:`SOAK_KILLS`).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.wallet.databases import Target
from wallet.log import checkpoints, store
from wallet.log.keys import load_log_key

from .helpers import LogFigures, check_whole_log

CHILD = Path(__file__).with_name("crash_child.py")
QUICK_KILLS = 6
SOAK_KILLS = int(os.environ.get("REGIE_SOAK_KILLS", "100"))


@dataclass
class Tally:
    acked: dict[int, str]
    checkpoints_recorded: int = 0
    figures: LogFigures | None = None


def _round(target: Target, rng: random.Random, tally: Tally, number: int) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            str(target.home),
            target.url or "-",
            str(rng.randrange(2**32)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    ready = child.stdout.readline()
    if ready.strip() != "ready":
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"round {number}: the child did not start: {ready!r} {err[-3000:]}")
    time.sleep(rng.uniform(0.05, 0.5))
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, f"round {number}: the child failed: {err[-3000:]}"
    for line in out.splitlines(keepends=True):
        if not line.endswith("\n"):
            continue  # cut by the kill: not an acknowledgement
        parts = line.split()
        if parts[0] == "A":
            index, digest = int(parts[1]), parts[2]
            assert tally.acked.setdefault(index, digest) == digest, f"index {index} acked twice"
        elif parts[0] == "C":
            tally.checkpoints_recorded += 1


def _check(target: Target, tally: Tally) -> None:
    with target.open() as db:
        tree_head = db.run(store.head, write=False)
        assert tree_head is not None
        key = load_log_key(target.home / "log-key.jwk", tree_head.origin)
        tally.figures = check_whole_log(db, key)
        with db.connect(write=False) as conn:
            bodies = dict(store.events(conn, 0, tree_head.size))
            published = checkpoints.PublishedState(
                target.home / checkpoints.STATE_FILE_NAME
            ).current()
            if published is not None:
                assert published.size <= tree_head.size
                assert published.root == store.root_at(conn, published.size)
    for index, digest in tally.acked.items():
        assert index in bodies, f"acknowledged event {index} is lost"
        assert hashlib.sha256(bodies[index]).hexdigest() == digest, f"event {index} changed"


def kill_many(target: Target, kills: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally(acked={})
    for number in range(kills):
        _round(target, rng, tally, number)
        _check(target, tally)
    return tally


def test_kill_9_during_appends_and_checkpoints_loses_nothing(target: Target) -> None:
    tally = kill_many(target, QUICK_KILLS, seed=QUICK_KILLS)
    assert tally.figures is not None
    assert tally.acked and tally.figures.size >= len(tally.acked)
    assert tally.checkpoints_recorded > 0 and tally.figures.checkpoint_size is not None


@pytest.mark.slow
def test_kill_9_soak(target: Target) -> None:
    started = time.monotonic()
    tally = kill_many(target, SOAK_KILLS, seed=SOAK_KILLS)
    took = time.monotonic() - started
    assert tally.figures is not None
    print(
        f"\n{target.backend}: {SOAK_KILLS} kills, {len(tally.acked)} events acknowledged, "
        f"{tally.figures.size} stored, {tally.figures.nodes} nodes, "
        f"{tally.checkpoints_recorded} checkpoints recorded (newest of size "
        f"{tally.figures.checkpoint_size}), all checks passed, {took:.0f} s"
    )
