"""THE read: a consent token and a DPoP proof in, the sealed release out, in one transaction.

:func:`prepare_read` does the checks that need no database, before any
transaction opens (so the transaction stays short): the consent token is
parsed (size, ``typ: regie-consent+jwt``, the shape of ``jti`` and ``iss``),
and the DPoP proof verified (RFC 9449: signature, ``htm`` POST, ``htu`` =
``host_url + /v1/data``, ``ath`` = the token's hash, ``iat`` at most 60 s old
and 5 s ahead) against the token's ``cnf.jkt`` (still unverified here, checked
again below).

:func:`read_release` is one :meth:`~wallet.storage.Database.run`. In it, in
this order, any failure rolling everything back:

1. the consent row by ``jti`` (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
   ``BEGIN IMMEDIATE`` already serialises writers), the presented token equal
   to the stored one (constant time) and its signature valid under the stored
   ``holder_jwk``, for ``aud`` = the consent's verifier;
2. the owner's verifier registry registers ``aud`` with the key ``cnf.jkt``, and
   the DPoP key is ``cnf.jkt``;
3. ``nbf``/``iat``/``exp`` at ``now`` with :data:`LEEWAY` (30 s), state ``given``,
   the status bit VALID *as stored now* in ``status_list``;
4. an ``Idempotency-Key`` seen before with the same request: its stored answer
   (no second use counted); with another request: a conflict;
5. ``uses < max_uses`` and ``now - last_used_at >= frequency`` (the strictest of
   the consent's ``authorization_details``), the requested attributes among
   the consented ones, a release prepared;
6. the DPoP proof's ``(jkt, jti)`` inserted into ``dpop_proof``: already there
   is a replay (a stored idempotent answer is given only after this too);
7. ``uses + 1``, ``last_used_at = now``, a ``consent.used`` event ``{use,
   attributes, jkt}``, the ``data.released`` event appended to the log (if it
   cannot be, the read is refused) and the idempotency answer written; commit.
8. the batch's receipts: a checkpoint of the tree with these events, signed in
   the same transaction, and each read's inclusion proof (C2SP tlog-proof).

Steps 1-5 (:func:`check_read`) write nothing, except that an expired
idempotency entry is dropped; step 6 (:func:`record_read`) refuses a replay
before the read's first write.

A revocation commits the status bit and the state in its own transaction, so
a read either commits before it (and counted) or sees it and is refused (T18).
Refusals are recorded by :func:`wallet.host.refusals.record_refusal` after the
rollback. Pure results (a token's parse, its signature under a key, a
registry's signature) are cached in :class:`~wallet.host.caches.CheckCaches`;
state is not. The read's statements (:mod:`wallet.host.read_statements`) run
on the transaction's DBAPI cursor, compiled once per dialect.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from regie_protocol import consent as ct
from regie_protocol._encoding import dumps_compact
from regie_protocol.dpop import VerifiedProof, verify_proof
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
)
from regie_protocol.statuslist import Status
from regie_protocol.tlog.event import TraceParent, parse_traceparent

from .. import consent_status
from ..log import record as log_record
from ..storage import ConsentState, Database
from ..storage.group_commit import GroupCommitter
from . import idempotency
from .caches import CheckCaches
from .read_statements import ReadRow, fetch_read_row, record_use
from .replay import DPOP_LEEWAY, insert_proof

DATA_PATH = "/v1/data"
#: the clock skew accepted on a consent's ``nbf``, ``iat`` and ``exp``, seconds
LEEWAY = 30

_BITS = consent_status.LIST_BITS


@dataclass(frozen=True, slots=True)
class ReadAttempt:
    """A read whose token parsed and whose DPoP proof verified; nothing else checked yet."""

    consent_id: str
    token: str
    proof: VerifiedProof
    #: the attributes asked for; ``None`` = all consented
    attributes: tuple[str, ...] | None
    idempotency: idempotency.IdempotencyKey | None = None
    #: the verifier's W3C ``traceparent``, kept in the log event as ``foreign_operation``
    trace: TraceParent | None = None


@dataclass(frozen=True, slots=True)
class Released:
    """A successful read: the use it was, and the release (a JWE only the verifier opens)."""

    consent_id: str
    use: int
    release: str
    attributes: tuple[str, ...]
    #: the index of the read's ``data.released`` event in the host's log
    log_index: int | None = None
    #: the read's receipt (C2SP tlog-proof), made once the batch's events are in the tree
    receipt: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "consent": self.consent_id,
            "use": self.use,
            "release": self.release,
            "attributes": list(self.attributes),
        }
        if self.log_index is not None:
            out["logIndex"] = self.log_index
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Released:
        """A stored answer (``Idempotency-Key``) read back, without its receipt."""
        index = body.get("logIndex")
        return cls(
            str(body["consent"]),
            int(body["use"]),
            str(body["release"]),
            tuple(str(name) for name in body["attributes"]),
            None if index is None else int(index),
        )


def prepare_read(
    token: str,
    proof: str | None,
    *,
    attributes: tuple[str, ...] | None,
    host_url: str,
    now: int,
    idempotency_key: str | None = None,
    caches: CheckCaches | None = None,
    traceparent: str | None = None,
) -> ReadAttempt:
    """The checks without I/O: parse the consent token, verify the DPoP proof (raises Refused).

    With ``caches``, a token parsed before is not parsed again. A ``traceparent``
    that is not valid W3C Trace Context is ignored (never a refusal).
    """
    unverified = ct.parse_consent(token) if caches is None else caches.parsed_consent(token)
    cnf = unverified.unverified_claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if not isinstance(jkt, str) or not jkt:
        raise ClaimRefused("the consent token has no cnf.jkt", code=Code.CLAIM_INVALID)
    if proof is None:
        raise ClaimRefused(
            "no DPoP header: send a DPoP proof for POST /v1/data made with the key in cnf.jkt",
            code=Code.DPOP_MISSING,
        )
    verified = verify_proof(
        proof,
        htm="POST",
        htu=host_url + DATA_PATH,
        now=now,
        access_token=token,
        expected_jkt=jkt,
        leeway=DPOP_LEEWAY,
    )
    if attributes is not None and len(set(attributes)) != len(attributes):
        raise MalformedInput("an attribute is asked for twice")
    key = None
    if idempotency_key is not None:
        asked = dumps_compact(None if attributes is None else sorted(attributes))
        key = idempotency.IdempotencyKey(
            scope=idempotency.scope_for("POST /v1/data", unverified.jti, verified.jkt),
            key=idempotency_key,
            request_sha256=idempotency.request_sha256(asked, token.encode("ascii")),
        )
    return ReadAttempt(
        unverified.jti, token, verified, attributes, key, parse_traceparent(traceparent)
    )


def _status(conn: Connection, row: ReadRow) -> int:
    """The consent's status value, from the byte the read statement fetched."""
    idx = int(row.status_idx)
    if row.list_bits is None or row.list_size is None or not 0 <= idx < int(row.list_size):
        raise StatusRefused("the consent's status entry does not exist", code=Code.STATUS_UNKNOWN)
    if int(row.list_bits) != _BITS:  # not a consent list layout: read it whole
        return consent_status.get_status(conn, row.status_list_id, idx)
    if not row.status_byte:
        raise StatusRefused("the consent's status entry is not stored", code=Code.STATUS_UNKNOWN)
    position = idx * _BITS
    return (bytes(row.status_byte)[0] >> (position & 7)) & ((1 << _BITS) - 1)


def _check_time(claims: ct.ConsentClaims, now: int) -> None:
    if claims.nbf > now + LEEWAY or claims.iat > now + LEEWAY:
        raise TimeRefused(
            f"the consent is valid from {claims.nbf} (now {now})", code=Code.NOT_YET_VALID
        )
    if now - LEEWAY >= claims.exp:
        raise TimeRefused(f"the consent expired at {claims.exp} (now {now})", code=Code.EXPIRED)


def _check_status(conn: Connection, row: ReadRow) -> None:
    if row.state == ConsentState.SUSPENDED.value:  # paused, not over: the verifier keeps its data
        raise StatusRefused("the consent is suspended", code=Code.SUSPENDED)
    if row.state != ConsentState.GIVEN.value:
        raise StatusRefused(f"the consent has ended ({row.state})", code=Code.CONSENT_ENDED)
    value = _status(conn, row)
    if value == Status.INVALID:
        raise StatusRefused("the consent's status bit is INVALID (revoked)", code=Code.REVOKED)
    if value == Status.SUSPENDED:
        raise StatusRefused("the consent's status bit is SUSPENDED", code=Code.SUSPENDED)
    if value != Status.VALID:
        raise StatusRefused(f"the consent's status value is {value}", code=Code.STATUS_UNKNOWN)


def _authenticate(
    row: ReadRow, attempt: ReadAttempt, caches: CheckCaches, now: int
) -> ct.ConsentClaims:
    if not hmac.compare_digest(str(row.token).encode(), attempt.token.encode("ascii")):
        raise SignatureRefused(
            "the presented token is not the token stored for this consent (altered?)",
            code=Code.SIGNATURE_INVALID,
        )
    if row.holder_jwk is None:
        raise SignatureRefused("the consent has no stored holder key", code=Code.KEY_UNKNOWN)
    claims = caches.consent_claims(
        attempt.token, str(row.holder_jwk), audience=str(row.verifier_id), now=now
    )
    verifier = None
    if row.document is not None:
        registry = caches.registry(str(row.registrar_jwk), str(row.document), now=now)
        verifier = registry.verifiers.get(claims.aud)
    if verifier is None or claims.cnf_jkt not in verifier.keys_by_kid:
        raise ClaimRefused(
            f"{claims.aud} is not registered (with the key cnf.jkt) in the owner's registry",
            code=Code.VERIFIER_UNREGISTERED,
        )
    if not hmac.compare_digest(claims.cnf_jkt.encode(), attempt.proof.jkt.encode()):
        raise SignatureRefused(
            "the DPoP proof is signed by another key than cnf.jkt", code=Code.DPOP_KEY_MISMATCH
        )
    return claims


def _check_use(claims: ct.ConsentClaims, row: ReadRow, attempt: ReadAttempt, now: int) -> None:
    details = claims.authorization_details
    max_uses = min((d.max_uses for d in details if d.max_uses is not None), default=None)
    if max_uses is not None and int(row.uses) >= max_uses:
        raise StatusRefused(
            f"the consent allows {max_uses} use(s); all are used", code=Code.USES_EXHAUSTED
        )
    periods = [d.frequency_duration for d in details]
    every = max((p.approx_seconds for p in periods if p is not None), default=0)
    if every and row.last_used_at is not None and now - int(row.last_used_at) < every:
        raise StatusRefused(
            f"the consent allows one use per {every} s; the last was at {row.last_used_at}",
            code=Code.TOO_FREQUENT,
        )
    if attempt.attributes is not None:
        consented = {name for d in details for name in d.claims}
        beyond = sorted(set(attempt.attributes) - consented)
        if beyond:
            raise ClaimRefused(
                f"attribute(s) {beyond} are not in the consent", code=Code.NOT_CONSENTED
            )


@dataclass(frozen=True, slots=True)
class CheckedRead:
    """A read that passed every check in its transaction (:func:`check_read`)."""

    row: ReadRow
    #: the answer kept for its ``Idempotency-Key`` (a retry), or ``None``
    stored: idempotency.StoredAnswer | None
    #: the consent's verified claims (what the log event records)
    claims: ct.ConsentClaims


def check_read(
    conn: Connection, attempt: ReadAttempt, caches: CheckCaches, now: int
) -> CheckedRead:
    """Steps 1-5: every check, in ``conn``'s transaction; raises Refused.

    Writes nothing when the read has no ``Idempotency-Key`` (with one, an
    expired entry is dropped).
    """
    row = fetch_read_row(conn, attempt.consent_id)
    if row is None:
        raise SignatureRefused("no consent has this jti at this host", code=Code.CONSENT_UNKNOWN)
    claims = _authenticate(row, attempt, caches, now)
    _check_time(claims, now)
    _check_status(conn, row)
    if attempt.idempotency is not None:
        stored = idempotency.lookup(conn, attempt.idempotency, now=now)
        if stored is not None:
            return CheckedRead(row, stored, claims)
    _check_use(claims, row, attempt, now)
    if row.jwe is None or row.released is None:
        raise ClaimRefused("no release is prepared for this consent", code=Code.NOT_CONSENTED)
    return CheckedRead(row, None, claims)


def record_read(conn: Connection, attempt: ReadAttempt, checked: CheckedRead, now: int) -> Released:
    """Steps 6-7: the proof, the use, its event and the idempotent answer; the read's answer.

    Its only refusal (a replayed proof, ``DPOP_REPLAYED``) comes before its first write.
    """
    if not insert_proof(conn, attempt.proof):
        raise SignatureRefused("the DPoP proof was used before", code=Code.DPOP_REPLAYED)
    if checked.stored is not None:
        return Released.from_json(checked.stored.body)
    row = checked.row
    released = tuple(str(name) for name in json.loads(str(row.released)))
    use = int(row.uses) + 1
    detail = {"use": use, "attributes": list(released), "jkt": attempt.proof.jkt}
    record_use(
        conn,
        consent_id=attempt.consent_id,
        owner=row.owner,
        use=use,
        at=now,
        detail=dumps_compact(detail).decode("utf-8"),
    )
    # the log event is the read's last write but the idempotent answer (which names
    # its index): if it cannot be appended, the read is refused with everything else
    appended = log_record.released(
        conn,
        owner=row.owner,
        claims=checked.claims,
        token=attempt.token,
        attributes=released,
        use=use,
        now=now,
        foreign=attempt.trace,
    )
    answer = Released(attempt.consent_id, use, str(row.jwe), released, appended.index)
    if attempt.idempotency is not None:
        stored_answer = idempotency.StoredAnswer(status=200, body=answer.to_json())
        idempotency.store(conn, attempt.idempotency, stored_answer, now=now)
    return answer


def read_in(conn: Connection, attempt: ReadAttempt, caches: CheckCaches, now: int) -> Released:
    """The read's whole unit of work (:func:`check_read`, then :func:`record_read`); raises Refused.

    The caller rolls back what a refused read wrote (its transaction or savepoint).
    """
    return record_read(conn, attempt, check_read(conn, attempt, caches, now), now)


def read_release(
    db: Database,
    attempt: ReadAttempt,
    *,
    now: int,
    caches: CheckCaches,
    committer: GroupCommitter | None = None,
    receipts: Callable[[Connection, Sequence[int], int], Mapping[int, str]] | None = None,
) -> Released:
    """Check everything and record the read in ONE transaction; raises Refused (rolled back).

    With a ``committer``, the read is one savepoint in a transaction shared with
    the reads queued beside it, and returns once that transaction committed.
    With ``receipts``, the answer carries the read's receipt (made in the same
    transaction).
    """

    def work(conn: Connection) -> Released:
        released = read_in(conn, attempt, caches, now)
        if receipts is None or released.log_index is None:
            return released
        return replace(
            released, receipt=receipts(conn, [released.log_index], now)[released.log_index]
        )

    if committer is not None:
        return committer.run(work)
    return db.run(work)


__all__ = [
    "DATA_PATH",
    "LEEWAY",
    "CheckedRead",
    "ReadAttempt",
    "Released",
    "check_read",
    "prepare_read",
    "read_in",
    "read_release",
    "record_read",
]
