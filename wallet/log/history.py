"""A citizen's reads with their receipts, for ``regie consent history``.

Each ``data.released`` event of the wallet, with the receipt (C2SP
tlog-proof) against the newest checkpoint that covers it, checked here
offline: the event's bytes hash to the leaf, the leaf is in the tree, and
the log's key signed the checkpoint. ``checked`` is ``None`` when the log's
key is not at hand to check with (another machine than the host's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import col

from regie_protocol.errors import RegieError
from regie_protocol.tlog.event import EventName, EventView
from regie_protocol.tlog.merkle import leaf_hash
from regie_protocol.tlog.note import NoteVerifier
from regie_protocol.tlog.receipt import Receipt, verify_receipt

from ..storage import Database, LogEvent
from . import checkpoints, store
from .keys import load_log_key


@dataclass(frozen=True, slots=True)
class ReadReceipt:
    """One read of the citizen's data, where it is in the log, and its receipt."""

    consent_id: str
    use: int
    at: int
    verifier: str
    attributes: tuple[str, ...]
    index: int
    receipt: str | None
    checked: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "consent": self.consent_id,
            "use": self.use,
            "at": self.at,
            "verifier": self.verifier,
            "attributes": list(self.attributes),
            "logIndex": self.index,
            "receipt": self.receipt,
            "receiptChecked": self.checked,
        }


def _check(receipt: str, body: bytes, log: NoteVerifier | None) -> bool | None:
    if log is None:
        return None
    try:
        verify_receipt(Receipt.parse(receipt), leaf_hash=leaf_hash(body), log=log)
    except RegieError:
        return False
    return True


def read_receipts(
    db: Database, owner: str, *, consent_id: str | None = None, log: NoteVerifier | None = None
) -> list[ReadReceipt]:
    """The wallet's reads (of one consent, if given), oldest first, each with its receipt."""

    def work(conn: Connection) -> list[ReadReceipt]:
        query = select(col(LogEvent.idx), col(LogEvent.body)).where(
            col(LogEvent.owner) == owner, col(LogEvent.name) == EventName.RELEASED.value
        )
        if consent_id is not None:
            query = query.where(col(LogEvent.consent_id) == consent_id)
        rows = [
            (int(i), str(t).encode("utf-8"))
            for i, t in conn.execute(query.order_by(col(LogEvent.idx)))
        ]
        latest = checkpoints.latest_checkpoint(conn)
        covered = [] if latest is None else [i for i, _ in rows if i < latest.size]
        proofs = store.inclusion_proofs(conn, covered, latest.size) if latest and covered else {}
        found = []
        for index, body in rows:
            view = EventView.of(index, body)
            receipt = (
                None
                if latest is None or index not in proofs
                else Receipt(index, tuple(proofs[index]), latest.note).render()
            )
            found.append(
                ReadReceipt(
                    consent_id=view.consent_id or "",
                    use=view.use or 0,
                    at=view.at,
                    verifier=view.verifier or "",
                    attributes=view.attributes,
                    index=index,
                    receipt=receipt,
                    checked=None if receipt is None else _check(receipt, body, log),
                )
            )
        return found

    return db.run(work, write=False)


def local_log_key(db: Database, key_file: Path) -> NoteVerifier | None:
    """The log's verifier key from the host's key file on this machine, if it is here."""
    found = db.run(store.head, write=False)
    if found is None or not key_file.is_file():
        return None
    try:
        return load_log_key(key_file, found.origin).verifier()
    except RegieError:
        return None


__all__ = ["ReadReceipt", "local_log_key", "read_receipts"]
