"""The host's inward record of refusals, and the purge of short-lived replay rows.

Outward a refusal says little (a problem ``type`` and a fixed detail, STYLE
habit 9); inward :func:`record_refusal` keeps the detail in ``read_refusal``:
when, which route, which consent and DPoP key (when known), the code and the
internal message. It runs in its own transaction *after* the refused one
rolled back, and also records the refused call's DPoP proof (when it was
verified), so a proof is used once whether its call succeeded or not.

:func:`purge_expired` deletes ``dpop_proof`` rows whose window has closed and
idempotency answers past their lifetime; the app calls it at most once a minute.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, insert

from regie_protocol.dpop import VerifiedProof

from ..storage import Database, ReadRefusal
from . import idempotency
from .replay import insert_proof, purge_proofs

logger = logging.getLogger("regie.wallet.host")

#: the longest detail kept per refusal, characters
MAX_DETAIL = 1000


def record_refusal(
    db: Database,
    *,
    route: str,
    now: int,
    code: str,
    detail: str,
    consent_id: str | None = None,
    proof: VerifiedProof | None = None,
) -> None:
    """Write one ``read_refusal`` row (and mark ``proof`` used). Never raises on storage errors."""

    def work(conn: Connection) -> None:
        conn.execute(
            insert(ReadRefusal).values(
                at=now,
                route=route[:64],
                consent_id=None if consent_id is None else consent_id[:128],
                jkt=None if proof is None else proof.jkt,
                code=code[:64],
                detail=detail[:MAX_DETAIL],
            )
        )
        if proof is not None:
            insert_proof(conn, proof)

    try:
        db.run(work)
    except Exception:  # the refusal answer goes out anyway; the log keeps the failure
        logger.exception("could not record a refusal (%s on %s)", code, route)
    logger.info("host.refused route=%s code=%s", route, code)


def purge_expired(db: Database, *, now: int) -> tuple[int, int]:
    """Delete closed DPoP windows and old idempotency answers: ``(proofs, answers)`` deleted."""

    def work(conn: Connection) -> tuple[int, int]:
        return purge_proofs(conn, now=now), idempotency.purge(conn, now=now)

    return db.run(work)


__all__ = ["MAX_DETAIL", "purge_expired", "record_refusal"]
