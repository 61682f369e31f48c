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

from sqlalchemy import Connection, insert, select
from sqlmodel import col

from regie_protocol.dpop import VerifiedProof
from regie_protocol.tlog.event import TraceParent

from ..log import record as log_record
from ..storage import Consent, Database, ReadRefusal
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
    trace: TraceParent | None = None,
) -> None:
    """Write one ``read_refusal`` row (and mark ``proof`` used). Never raises on storage errors.

    A refusal under a consent this host holds is also a ``data.refused`` event in
    the citizen's log; calls naming no consent of this host (noise, probes) stay
    in ``read_refusal`` only, so they cannot flood the log.
    """

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
        if consent_id is not None:
            _log_refused(conn, consent_id, code=code, now=now, trace=trace)

    try:
        db.run(work)
    except Exception:  # the refusal answer goes out anyway; the log keeps the failure
        logger.exception("could not record a refusal (%s on %s)", code, route)
    logger.info("host.refused route=%s code=%s", route, code)


def _log_refused(
    conn: Connection, consent_id: str, *, code: str, now: int, trace: TraceParent | None
) -> None:
    row = conn.execute(
        select(col(Consent.owner), col(Consent.verifier_id)).where(col(Consent.id) == consent_id)
    ).first()
    if row is not None:
        log_record.read_refused(
            conn,
            owner=str(row[0]),
            consent_id=consent_id,
            verifier=str(row[1]),
            refusal_type=code,
            now=now,
            foreign=trace,
        )


def purge_expired(db: Database, *, now: int) -> tuple[int, int]:
    """Delete closed DPoP windows and old idempotency answers: ``(proofs, answers)`` deleted."""

    def work(conn: Connection) -> tuple[int, int]:
        return purge_proofs(conn, now=now), idempotency.purge(conn, now=now)

    return db.run(work)


__all__ = ["MAX_DETAIL", "purge_expired", "record_refusal"]
