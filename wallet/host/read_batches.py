"""The reads one turn of the event loop starts go to the group committer together, as one unit.

The group committer (:mod:`wallet.storage.group_commit`) runs the units queued
beside each other in one transaction. Each unit costs, besides its own work,
a ``concurrent.futures.Future``, a hand-off to the writer thread (waking it),
a SAVEPOINT pair through SQLAlchemy and a callback into the event loop:
about 0.1 ms of CPU per read with 32 verifiers reading. :class:`ReadBatches`
collects the reads the event loop starts in one turn (the requests one
wake-up delivered), hands them to the committer as ONE unit, and resolves
their futures in one callback on the loop.

Nothing is weakened. In that unit each read runs on its own: every check
(:func:`wallet.host.reads.check_read`, which writes nothing), then the record
(:func:`~wallet.host.reads.record_read`, whose only refusal, a replayed
proof, comes before its first write). So a refused read wrote nothing and
gets its refusal while the others go on, and no savepoint is needed; a read
with an ``Idempotency-Key`` (which may drop an expired entry before a
refusal) runs in its own savepoint. Anything raised after a read's first
write, and any database error, is not caught here: the committer re-runs
the whole transaction after a PostgreSQL serialization failure, or fails
every read in it, so no read is ever half recorded. No answer is given
before the transaction holding the read committed. A read whose caller went
away (its future cancelled) before its turn is not made.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from regie_protocol.errors import Refused

from ..storage.group_commit import GroupCommitter
from .caches import CheckCaches
from .prepared import Prepared
from .reads import ReadAttempt, Released, check_read, read_in, record_read

_SAVEPOINT = Prepared.of(text("SAVEPOINT regie_read"))
_RELEASE = Prepared.of(text("RELEASE SAVEPOINT regie_read"))
_ROLLBACK = Prepared.of(text("ROLLBACK TO SAVEPOINT regie_read"))

_Pending = tuple[ReadAttempt, int, "asyncio.Future[Released]"]
#: a read's result or its error
_Outcome = tuple[Released | None, BaseException | None]


class ReadBatches:
    """Reads waiting for the end of their event loop's turn, per loop (one per app)."""

    def __init__(
        self, committer: GroupCommitter, caches: CheckCaches, receipts: ReceiptMaker | None = None
    ) -> None:
        self._committer = committer
        self._caches = caches
        self._receipts = receipts
        self._pending: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._lock = threading.Lock()

    def read(self, attempt: ReadAttempt, *, now: int) -> asyncio.Future[Released]:
        """Check and record ``attempt``; the future holds its answer once committed.

        Call on the running event loop; the future raises the read's refusal.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Released] = loop.create_future()
        with self._lock:
            batch = self._pending.get(loop)
            if batch is None:
                batch = self._pending[loop] = []
                loop.call_soon(self._flush, loop)
            batch.append((attempt, now, future))
        return future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            batch = self._pending.pop(loop)
        try:
            done = self._committer.submit(lambda conn: self._run(conn, batch))
        except Exception as exc:  # noqa: BLE001 - e.g. the committer closed: every read fails
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        done.add_done_callback(lambda result: loop.call_soon_threadsafe(_resolve, batch, result))

    def _run(self, conn: Connection, batch: list[_Pending]) -> list[_Outcome]:
        """The unit of work (on the committer's writer thread): each read on its own."""
        outcomes: list[_Outcome] = []
        for attempt, now, future in batch:
            if future.cancelled():  # the caller went away before the read was made
                outcomes.append((None, None))
            elif attempt.idempotency is None:
                outcomes.append(self._read(conn, attempt, now))
            else:
                outcomes.append(self._read_in_savepoint(conn, attempt, now))
        if self._receipts is None:
            return outcomes
        return with_receipts(conn, outcomes, self._receipts, now=max(n for _, n, _ in batch))

    def _read(self, conn: Connection, attempt: ReadAttempt, now: int) -> _Outcome:
        """A read without ``Idempotency-Key``: a refusal comes before its first write.

        So no savepoint is needed: a refused read wrote nothing, and anything
        raised after its first write fails the whole unit (nothing half-recorded).
        """
        try:
            checked = check_read(conn, attempt, self._caches, now)
        except DBAPIError:
            raise  # the committer re-runs the transaction, or fails every read in it
        except Exception as exc:  # noqa: BLE001 - this read's refusal (or bug) is its answer
            return None, exc
        try:
            return record_read(conn, attempt, checked, now), None
        except Refused as exc:  # a replayed proof, refused before any write
            return None, exc

    def _read_in_savepoint(self, conn: Connection, attempt: ReadAttempt, now: int) -> _Outcome:
        """A read with ``Idempotency-Key`` (it may write before a refusal): in a savepoint."""
        _SAVEPOINT.run(conn, {})
        try:
            released = read_in(conn, attempt, self._caches, now)
        except DBAPIError:
            raise  # the committer re-runs the transaction, or fails every read in it
        except Exception as exc:  # noqa: BLE001 - this read's refusal (or bug) is its answer
            _ROLLBACK.run(conn, {})
            _RELEASE.run(conn, {})
            return None, exc
        _RELEASE.run(conn, {})
        return released, None


#: ``(conn, log indices, now) -> receipt per index``, in the reads' transaction
ReceiptMaker = Callable[[Connection, Sequence[int], int], Mapping[int, str]]


def with_receipts(
    conn: Connection, outcomes: list[_Outcome], receipts: ReceiptMaker, *, now: int
) -> list[_Outcome]:
    """Each released read with its receipt: one checkpoint signed for the whole batch.

    Runs in the reads' transaction after their events were appended; if it
    fails, so does every read in it (no answer without its receipt).
    """
    indices = [r.log_index for r, _ in outcomes if r is not None and r.log_index is not None]
    if not indices:
        return outcomes
    made = receipts(conn, indices, now)
    return [
        (replace(r, receipt=made[r.log_index]), e)
        if r is not None and r.log_index is not None
        else (r, e)
        for r, e in outcomes
    ]


def _resolve(batch: list[_Pending], done: Future[Any]) -> None:
    """On the event loop: hand each read its outcome (or the transaction's failure)."""
    try:
        outcomes: list[_Outcome] = done.result()
    except Exception as exc:  # noqa: BLE001 - the transaction failed: so did every read
        outcomes = [(None, exc)] * len(batch)
    for (_, _, future), (released, error) in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        elif released is not None:
            future.set_result(released)


__all__ = ["ReadBatches", "ReceiptMaker", "with_receipts"]
