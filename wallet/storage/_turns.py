"""SQLite writers take turns: a citizen's revocation is not starved by a stream of reads.

SQLite has one writer at a time and no queue: a waiting writer polls (its
busy handler sleeps 1 ms, 2 ms, ... up to 100 ms between tries). A wallet
host's group committer starts its next batch the moment the last one
committed, so a revocation from the CLI could keep missing the free moment
and run into its busy timeout while a verifier reads without pause.

So writers announce themselves on a lock file beside the database
(``wallet.sqlite3-writers``, ``flock``, so it works across processes and is
released by the kernel if a process dies):

* a *foreground* writer (every write transaction except the committer's)
  holds an exclusive lock for the length of its transaction;
* a *background* writer (the group committer, whose batches can follow one
  another without pause) takes and drops a shared lock before each batch, so
  it waits while any foreground writer is waiting or writing.

The committer never holds the lock while it writes, so a foreground writer
waits at most for the batch in progress. Re-entry in one thread (a write
transaction opened inside another) does not lock twice.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUFFIX = "-writers"


class WriterTurns:
    """The lock file of one SQLite database."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + SUFFIX)
        self._held = threading.local()

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the exclusive turn for one write transaction (re-entrant per thread)."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def wait_turn(self) -> None:
        """Wait until no foreground writer holds or waits for the turn (background writers)."""
        if getattr(self._held, "depth", 0):
            return
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        finally:
            os.close(fd)


__all__ = ["SUFFIX", "WriterTurns"]
