"""What each wallet action writes into the consent log, in that action's own transaction.

One function per event (DESIGN "Log record fields"), each taking the
connection of the transaction that performs the action and appending the
event as its *last* write (:func:`wallet.log.appender.append`): if the append
fails, the action fails with it, so there is no grant, withdrawal or read
without its event, and no event for an action that did not commit.

Only names and ids are logged, never attribute values; the citizen appears as
the log's keyed pseudonym of the wallet id (the appender computes it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from regie_protocol import consent as ct
from regie_protocol._encoding import b64url_encode
from regie_protocol.tlog.event import EventName, TraceParent

from .appender import Appended, append


def _joined(values: Iterable[str]) -> str | None:
    unique = sorted({value for value in values if value})
    return ",".join(unique) if unique else None


def consent_hash(token: str) -> str:
    """base64url SHA-256 of the consent token: ties an event to one exact token."""
    return b64url_encode(hashlib.sha256(token.encode("ascii")).digest())


def _processing(claims: ct.ConsentClaims) -> dict[str, Any]:
    """Why the data is processed: purposes, legal bases and processing activities."""
    details = claims.authorization_details
    return {
        "purpose": _joined(d.purpose for d in details),
        "legal_basis": _joined(d.legal_basis for d in details),
        "processing_activity": _joined(d.processing_activity for d in details),
    }


def terms(claims: ct.ConsentClaims) -> dict[str, Any]:
    """The consent's terms an auditor checks reads against (the strictest of its details)."""
    details = claims.authorization_details
    max_uses = [d.max_uses for d in details if d.max_uses is not None]
    periods = [d.frequency_duration for d in details]
    every = [p.approx_seconds for p in periods if p is not None]
    return {
        "consent_id": claims.jti,
        "verifier": claims.aud,
        **_processing(claims),
        "attributes": sorted({name for d in details for name in d.claims}),
        "expires_at": claims.exp,
        "max_uses": min(max_uses) if max_uses else None,
        "frequency": max(every) if every else None,
        "retention": max(d.retention_duration.approx_seconds for d in details),
    }


def granted(
    conn: Connection,
    *,
    owner: str,
    claims: ct.ConsentClaims,
    token: str,
    now: int,
    request_id: str | None = None,
) -> Appended:
    details = {**terms(claims), "consent_hash": consent_hash(token), "request_id": request_id}
    return append(conn, EventName.GRANTED, at=now, owner=owner, details=details)


def ended(
    conn: Connection,
    name: EventName,
    *,
    owner: str,
    consent_id: str,
    verifier: str,
    now: int,
) -> Appended:
    """``consent.withdrawn``, ``.revoked``, ``.expired``, ``.suspended`` or ``.reinstated``."""
    details = {"consent_id": consent_id, "verifier": verifier}
    return append(conn, name, at=now, owner=owner, details=details)


def requested(
    conn: Connection,
    *,
    owner: str,
    request_id: str,
    verifier: str,
    purpose: str | None,
    legal_basis: str | None,
    attributes: Iterable[str],
    now: int,
) -> Appended:
    details = {
        "request_id": request_id,
        "verifier": verifier,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "attributes": sorted(set(attributes)),
    }
    return append(conn, EventName.REQUESTED, at=now, owner=owner, details=details)


def request_refused(
    conn: Connection, *, owner: str, request_id: str, verifier: str, now: int
) -> Appended:
    """The citizen said no to a verifier's request (``consent.refused``)."""
    details = {"request_id": request_id, "verifier": verifier, "outcome": "refused"}
    return append(conn, EventName.REFUSED, at=now, owner=owner, details=details)


def released(
    conn: Connection,
    *,
    owner: str,
    claims: ct.ConsentClaims,
    token: str,
    attributes: Iterable[str],
    use: int,
    now: int,
    foreign: TraceParent | None = None,
) -> Appended:
    """``data.released``: a verifier read the release under a consent (names only)."""
    details = {
        "consent_id": claims.jti,
        "consent_hash": consent_hash(token),
        "verifier": claims.aud,
        **_processing(claims),
        "attributes": sorted(set(attributes)),
        "use": use,
        "outcome": "released",
    }
    return append(conn, EventName.RELEASED, at=now, owner=owner, details=details, foreign=foreign)


def read_refused(
    conn: Connection,
    *,
    owner: str,
    consent_id: str,
    verifier: str,
    refusal_type: str,
    now: int,
    foreign: TraceParent | None = None,
) -> Appended:
    """``data.refused``: a read under one of this citizen's consents was refused."""
    details = {
        "consent_id": consent_id,
        "verifier": verifier,
        "refusal_type": refusal_type,
        "outcome": "refused",
    }
    return append(
        conn,
        EventName.READ_REFUSED,
        at=now,
        owner=owner,
        details=details,
        foreign=foreign,
        outcome_ok=False,
    )


def purged(
    conn: Connection,
    *,
    owner: str,
    consent_id: str,
    verifier: str,
    attributes: Iterable[str],
    purged_at: int,
    now: int,
) -> Appended:
    """``retention.purged``: the verifier reports it deleted what it read under a consent."""
    details = {
        "consent_id": consent_id,
        "verifier": verifier,
        "attributes": sorted(set(attributes)),
        "purged_at": purged_at,
        "outcome": "purged",
    }
    return append(conn, EventName.PURGED, at=now, owner=owner, details=details)


__all__ = [
    "consent_hash",
    "ended",
    "granted",
    "purged",
    "read_refused",
    "released",
    "request_refused",
    "requested",
    "terms",
]
