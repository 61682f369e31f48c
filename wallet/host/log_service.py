"""The host's side of the consent log: its key, its checkpoints, receipts and witnesses.

Events are appended by the actions themselves (:mod:`wallet.log.record`).
This module signs: a checkpoint for each batch of reads (the receipts'
checkpoint, in the reads' transaction), one on demand (an auditor's ``POST``),
and one per ``checkpoint_interval`` while the log grows. A checkpoint signed
outside a read batch is recorded in the published-state file once committed
(:class:`~wallet.log.checkpoints.PublishedState`, the copy outside the
database that a rolled-back database cannot follow), and then offered to the
configured witnesses (C2SP tlog-witness); their cosignatures are stored with
the checkpoint and served with it.

The log key is its own Ed25519 key (``log-key.jwk``, 0600), named after the
log's origin; the host key never signs a checkpoint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Connection

from regie_protocol.errors import Misuse, RegieError
from regie_protocol.tlog.note import NoteKey, NoteVerifier

from ..log import checkpoints, store
from ..log.appender import ensure_log
from ..log.checkpoints import PublishedState, StoredCheckpoint
from ..log.keys import load_or_create_log_key
from ..storage import Database
from .witnessing import Witness, ask_witnesses

logger = logging.getLogger("regie.wallet.host")

STATE_FILE_NAME = checkpoints.STATE_FILE_NAME


@dataclass
class HostLog:
    """The log of one host: its database, key, published state and witnesses."""

    db: Database
    key: NoteKey
    state: PublishedState
    witnesses: tuple[Witness, ...] = ()
    #: the HTTP client for witnesses (default: a new one per call)
    http: httpx.Client | None = None
    _sign_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(
        cls,
        db: Database,
        *,
        key_file: Path,
        state_file: Path,
        now: int,
        witnesses: Sequence[tuple[str, str]] = (),
    ) -> HostLog:
        """The host's log: created empty when the database has none; the key made when missing."""
        origin = db.run(lambda conn: ensure_log(conn, now=now))
        key, _ = load_or_create_log_key(key_file, origin)
        known = tuple(Witness(url, NoteVerifier.parse(vkey)) for url, vkey in witnesses)
        return cls(db, key, PublishedState(state_file), known)

    @property
    def origin(self) -> str:
        return self.key.name

    def vkey(self) -> str:
        return self.key.verifier().vkey()

    def size(self) -> int:
        found = self.db.run(store.head, write=False)
        return 0 if found is None else found.size

    def receipts(self, conn: Connection, indices: Sequence[int], now: int) -> Mapping[int, str]:
        """Receipts for a batch of reads, in the batch's transaction (one checkpoint for all)."""
        return checkpoints.receipts(conn, indices, self.key, now=now, state=self.state)

    def sign_now(self, *, now: int) -> bytes:
        """Sign a checkpoint of the log as it is, record it, have it cosigned; its note."""
        with self._sign_lock:
            row = self.db.run(
                lambda conn: checkpoints.sign_checkpoint(conn, self.key, now=now, state=self.state)
            )
            self.state.record(row)
            self._cosign(row, now=now)
        return self.latest_note(now=now)

    def latest_note(self, *, now: int) -> bytes:
        """The newest checkpoint with its cosignatures (one is signed if there is none)."""
        row = self.db.run(checkpoints.latest_checkpoint, write=False)
        if row is None:
            return self.sign_now(now=now)
        return row.note

    def receipt(self, index: int, *, now: int) -> str:
        """A receipt of entry ``index`` against the newest checkpoint (signed first if needed)."""
        found = self.db.run(lambda conn: checkpoints.receipt(conn, index), write=False)
        if found is None:
            self.sign_now(now=now)
            found = self.db.run(lambda conn: checkpoints.receipt(conn, index), write=False)
        if found is None:
            raise Misuse(f"entry {index} is not in the log")
        return found

    def tick(self, *, now: int) -> bool:
        """The interval's work: sign (and have cosigned) a checkpoint if the log grew."""
        latest = self.db.run(checkpoints.latest_checkpoint, write=False)
        if latest is not None and latest.size == self.size():
            return False
        try:
            self.sign_now(now=now)
        except RegieError as exc:
            logger.error("log.checkpoint refused: %s", exc)
            return False
        return True

    def _cosign(self, row: StoredCheckpoint, *, now: int) -> None:
        if not self.witnesses:
            return
        for witness, line in ask_witnesses(
            self.db, self.witnesses, row, log=self.key.verifier(), http=self.http
        ):
            self._store_cosignature(row.size, witness.verifier.name, line, now=now)

    def _store_cosignature(self, size: int, witness: str, line: str, *, now: int) -> None:
        def work(conn: Connection) -> bool:
            return checkpoints.add_cosignature(conn, size, witness=witness, line=line, now=now)

        self.db.run(work)


__all__ = ["STATE_FILE_NAME", "HostLog"]
