"""DPoP replay protection: each proof's ``(jkt, jti)`` is stored once, until its window closes.

RFC 9449 leaves replay to the server: a proof seen before is refused. The host
keeps ``(jkt, jti)`` in ``dpop_proof`` (primary key) with the time after which
the proof would be refused for its age anyway; :func:`insert_proof` runs in the
caller's transaction (``INSERT ... ON CONFLICT DO NOTHING``, so a replay is
no row inserted, not an aborted PostgreSQL transaction), and
:func:`purge_proofs` deletes the closed windows.
"""

from __future__ import annotations

from sqlalchemy import Connection, Insert, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from regie_protocol.dpop import MAX_PROOF_AGE, VerifiedProof

from ..storage.models import metadata
from .prepared import Prepared

#: how far ahead of the host's clock a DPoP proof's ``iat`` may be, seconds
DPOP_LEEWAY = 5
#: kept beyond the proof's own window, seconds (clock steps between host instances)
_MARGIN = 30
_PROOFS = metadata.tables["dpop_proof"]


def _insert_proof(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = (
        dialect.insert(_PROOFS)
        .values(jkt=bindparam("jkt"), jti=bindparam("jti"), expires_at=bindparam("expires_at"))
        .on_conflict_do_nothing()
    )
    return statement


_INSERT_PROOF = Prepared(_insert_proof)


def insert_proof(conn: Connection, proof: VerifiedProof) -> bool:
    """Record a proof's ``(jkt, jti)``; ``False`` when it was there already (a replay)."""
    expires_at = proof.iat + MAX_PROOF_AGE + DPOP_LEEWAY + _MARGIN
    params = {"jkt": proof.jkt, "jti": proof.jti, "expires_at": expires_at}
    return _INSERT_PROOF.run(conn, params) == 1


def purge_proofs(conn: Connection, *, now: int) -> int:
    """Delete proofs whose window has closed; the number deleted."""
    return int(conn.execute(delete(_PROOFS).where(_PROOFS.c.expires_at < now)).rowcount)


__all__ = ["DPOP_LEEWAY", "insert_proof", "purge_proofs"]
