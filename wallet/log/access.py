"""Who may read which log events: registered readers, and the verifier that read.

A *log reader* is a public key the host's operator (an auditor) or a citizen
(for their own wallet) registered: ``log_reader`` keeps its RFC 7638
thumbprint, role and, for a citizen, the wallet it may see. An auditor sees
every event; a citizen the events of their wallet; a verifier only the
receipts of reads it made, proven by the key its consent binds (``cnf.jkt``).
Everyone sees checkpoints, leaf hashes and proofs (hashes only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol.errors import Misuse
from regie_protocol.keys import public_key_from_jwk

from ..storage import Consent, LogReader, LogReaderRole, Wallet
from .store import EventRow


@dataclass(frozen=True, slots=True)
class Reader:
    """A registered log reader."""

    jkt: str
    role: str
    owner: str | None
    name: str
    added_at: int

    def to_json(self) -> dict[str, object]:
        return {
            "jkt": self.jkt,
            "role": self.role,
            "wallet": self.owner,
            "name": self.name,
            "addedAt": self.added_at,
        }


def _reader(row: LogReader) -> Reader:
    return Reader(row.jkt, row.role, row.owner, row.name, row.added_at)


def reader_for(conn: Connection, jkt: str) -> Reader | None:
    """The registered reader with key thumbprint ``jkt``, if any."""
    row = conn.execute(select(LogReader).where(col(LogReader.jkt) == jkt)).first()
    return None if row is None else _reader(LogReader.model_validate(row._mapping))


def add_reader(
    conn: Connection,
    *,
    jwk: Mapping[str, Any],
    role: LogReaderRole,
    name: str,
    now: int,
    owner: str | None = None,
) -> Reader:
    """Register a public key as a log reader (a citizen's names the wallet it may see)."""
    if not name or len(name) > 256 or any(ord(c) < 0x20 for c in name):
        raise Misuse("a reader's name is 1-256 printable characters")
    key = public_key_from_jwk(dict(jwk), registering=True)
    if role is LogReaderRole.CITIZEN:
        found = conn.execute(select(col(Wallet.id)).where(col(Wallet.id) == owner)).first()
        if owner is None or found is None:
            raise Misuse("a citizen reader needs the wallet it may see")
    elif owner is not None:
        raise Misuse("an auditor reader sees every wallet: give no wallet")
    jkt = key.thumbprint()
    if reader_for(conn, jkt) is not None:
        raise Misuse(f"the key {jkt} is already a log reader")
    conn.execute(
        insert(LogReader).values(
            jkt=jkt,
            role=role.value,
            owner=owner,
            name=name,
            jwk=json.dumps(key.to_jwk(), sort_keys=True, separators=(",", ":")),
            added_at=now,
        )
    )
    return Reader(jkt, role.value, owner, name, now)


def remove_reader(conn: Connection, jkt: str) -> bool:
    """Withdraw a reader's access; ``False`` when there was no such reader."""
    return bool(conn.execute(delete(LogReader).where(col(LogReader.jkt) == jkt)).rowcount)


def list_readers(conn: Connection) -> list[Reader]:
    rows = conn.execute(select(LogReader).order_by(col(LogReader.added_at))).all()
    return [_reader(LogReader.model_validate(row._mapping)) for row in rows]


def verifier_may_see(conn: Connection, jkt: str, row: EventRow) -> bool:
    """``jkt`` is the key the event's consent binds: the verifier that read sees its receipt."""
    if row.consent_id is None or row.verifier_id is None:
        return False
    token = conn.execute(
        select(col(Consent.token)).where(col(Consent.id) == row.consent_id)
    ).scalar()
    if token is None:
        return False
    claims = ct.parse_consent(str(token)).unverified_claims
    cnf = claims.get("cnf")
    bound = cnf.get("jkt") if isinstance(cnf, dict) else None
    return bound == jkt and claims.get("aud") == row.verifier_id


__all__ = [
    "Reader",
    "add_reader",
    "list_readers",
    "reader_for",
    "remove_reader",
    "verifier_may_see",
]
