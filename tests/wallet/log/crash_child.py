"""A child process for the log's crash test: appends through the group committer until killed.

``python crash_child.py HOME URL|- SEED`` opens the wallet database (``-``: the
SQLite file in HOME), the log key and the published state in HOME, prints
``ready``, then runs :data:`THREADS` threads that each submit units of work to
one :class:`~wallet.storage.group_commit.GroupCommitter`: a unit appends 1-3
events and now and then signs a checkpoint. After a unit's commit returned,
the thread prints ``A <index> <sha256 of the body>`` for each of its events
(flushed, under a lock: an acknowledged line means the commit returned), then
records a signed checkpoint in the published state and prints ``C <size>``.
Any error is printed to stderr and ends the process with status 3.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from sqlalchemy.engine import Connection

from regie_protocol.tlog.note import NoteKey
from tests.wallet.log.helpers import NOW, append_random
from wallet.log import appender, checkpoints
from wallet.log.checkpoints import PublishedState, StoredCheckpoint
from wallet.log.keys import load_or_create_log_key
from wallet.storage import open_database
from wallet.storage.group_commit import GroupCommitter

THREADS = 6
#: a unit signs a checkpoint with this probability
SIGN_RATE = 0.15
_out = threading.Lock()

Unit = tuple[list[tuple[int, str]], StoredCheckpoint | None]


def _unit(rng: random.Random, key: NoteKey, state: PublishedState) -> Callable[[Connection], Unit]:
    count = rng.randint(1, 3)
    sign = rng.random() < SIGN_RATE
    seeds = [rng.randrange(2**32) for _ in range(count)]

    def work(conn: Connection) -> Unit:
        made = [append_random(conn, random.Random(s), s % 1000) for s in seeds]
        acked = [(a.index, hashlib.sha256(a.body).hexdigest()) for a in made]
        row = checkpoints.sign_checkpoint(conn, key, now=NOW, state=state) if sign else None
        return acked, row

    return work


def _loop(committer: GroupCommitter, seed: int, key: NoteKey, state: PublishedState) -> None:
    rng = random.Random(seed)
    try:
        while True:
            acked, row = committer.run(_unit(rng, key, state))
            lines = "".join(f"A {index} {digest}\n" for index, digest in acked)
            if row is not None:
                state.record(row)  # after the commit, as a host does
                lines += f"C {row.size}\n"
            with _out:
                sys.stdout.write(lines)
                sys.stdout.flush()
    except BaseException:
        with _out:
            traceback.print_exc()
            sys.stderr.flush()
        os._exit(3)


def main() -> None:
    home, url, seed = sys.argv[1:]
    db = open_database(None if url == "-" else url, home=Path(home))
    origin = db.run(lambda c: appender.ensure_log(c, now=NOW))
    key, _ = load_or_create_log_key(Path(home) / "log-key.jwk", origin)
    state = PublishedState(Path(home) / checkpoints.STATE_FILE_NAME)
    committer = GroupCommitter(db)
    rng = random.Random(int(seed))
    threads = [
        threading.Thread(target=_loop, args=(committer, rng.randrange(2**32), key, state))
        for _ in range(THREADS)
    ]
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
