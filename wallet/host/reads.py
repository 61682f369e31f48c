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
3. the DPoP proof's ``(jkt, jti)`` inserted into ``dpop_proof``: already there
   is a replay;
4. ``nbf``/``iat``/``exp`` at ``now`` with :data:`LEEWAY` (30 s), state ``given``,
   the status bit VALID *as stored now* in ``status_list``;
5. an ``Idempotency-Key`` seen before with the same request: its stored answer
   (no second use counted); with another request: a conflict;
6. ``uses < max_uses`` and ``now - last_used_at >= frequency`` (the strictest of
   the consent's ``authorization_details``), the requested attributes among
   the consented ones, a release prepared;
7. ``uses + 1``, ``last_used_at = now``, a ``consent.used`` event ``{use,
   attributes, jkt}`` and the idempotency answer written; commit.

A revocation commits the status bit and the state in its own transaction, so
a read either commits before it (and counted) or sees it and is refused (T18).
Refusals are recorded by :func:`wallet.host.refusals.record_refusal` after the
rollback. Pure results (a token's signature under a key, a registry's
signature) are cached in :class:`~wallet.host.caches.CheckCaches`; state is not.
"""

from __future__ import annotations

import hmac
import json
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, and_, bindparam, cast, func, select, update

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

from .. import consent_status
from ..storage import ConsentEventName, ConsentState, Database
from ..storage.group_commit import GroupCommitter
from ..storage.models import metadata
from . import idempotency
from .caches import CheckCaches
from .replay import DPOP_LEEWAY, insert_proof

DATA_PATH = "/v1/data"
#: the clock skew accepted on a consent's ``nbf``, ``iat`` and ``exp``, seconds
LEEWAY = 30

_C = metadata.tables["consent"]
_L = metadata.tables["status_list"]
_R = metadata.tables["registry"]
_REL = metadata.tables["release"]
_BITS = consent_status.LIST_BITS
#: everything a read needs, in one statement: the consent, the byte holding its status
#: entry (2-bit lists), the owner's registry and the release
_READ = (
    select(
        _C.c.owner, _C.c.verifier_id, _C.c.state, _C.c.token, _C.c.status_list_id,
        _C.c.status_idx, _C.c.uses, _C.c.last_used_at, _C.c.holder_jwk,
        _L.c.bits.label("list_bits"), _L.c.size.label("list_size"),
        func.substr(
            _L.c.lst, cast((_C.c.status_idx * _BITS) // 8 + 1, Integer), 1
        ).label("status_byte"),
        _R.c.registrar_jwk, _R.c.document,
        _REL.c.jwe, _REL.c.attributes.label("released"),
    )
    .select_from(
        _C.outerjoin(_L, _L.c.id == _C.c.status_list_id)
        .outerjoin(_R, _R.c.owner == _C.c.owner)
        .outerjoin(_REL, and_(_REL.c.consent_id == _C.c.id, _REL.c.owner == _C.c.owner))
    )
    .where(_C.c.id == bindparam("id"))
)  # fmt: skip
_READ_LOCKED = _READ.with_for_update(of=_C)
_UPDATE_USE = (
    update(_C)
    .where(_C.c.id == bindparam("cid"))
    .values(uses=bindparam("new_uses"), last_used_at=bindparam("at"))
)
_INSERT_EVENT = metadata.tables["consent_event"].insert()


@dataclass(frozen=True, slots=True)
class ReadAttempt:
    """A read whose token parsed and whose DPoP proof verified; nothing else checked yet."""

    consent_id: str
    token: str
    proof: VerifiedProof
    #: the attributes asked for; ``None`` = all consented
    attributes: tuple[str, ...] | None
    idempotency: idempotency.IdempotencyKey | None = None


@dataclass(frozen=True, slots=True)
class Released:
    """A successful read: the use it was, and the release (a JWE only the verifier opens)."""

    consent_id: str
    use: int
    release: str
    attributes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "consent": self.consent_id,
            "use": self.use,
            "release": self.release,
            "attributes": list(self.attributes),
        }


def prepare_read(
    token: str,
    proof: str | None,
    *,
    attributes: tuple[str, ...] | None,
    host_url: str,
    now: int,
    idempotency_key: str | None = None,
) -> ReadAttempt:
    """The checks without I/O: parse the consent token, verify the DPoP proof (raises Refused)."""
    unverified = ct.parse_consent(token)
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
    return ReadAttempt(unverified.jti, token, verified, attributes, key)


def _status(conn: Connection, row: Any) -> int:
    """The consent's status value, from the byte the read statement fetched."""
    idx = int(row.status_idx)
    if row.list_bits is None or not 0 <= idx < int(row.list_size):
        raise StatusRefused("the consent's status entry does not exist", code=Code.STATUS_UNKNOWN)
    if int(row.list_bits) != _BITS:  # not a consent list layout: read it whole
        return consent_status.get_status(conn, row.status_list_id, idx)
    position = idx * _BITS
    return (bytes(row.status_byte)[0] >> (position & 7)) & ((1 << _BITS) - 1)


def _check_time(claims: ct.ConsentClaims, now: int) -> None:
    if claims.nbf > now + LEEWAY or claims.iat > now + LEEWAY:
        raise TimeRefused(
            f"the consent is valid from {claims.nbf} (now {now})", code=Code.NOT_YET_VALID
        )
    if now - LEEWAY >= claims.exp:
        raise TimeRefused(f"the consent expired at {claims.exp} (now {now})", code=Code.EXPIRED)


def _check_status(conn: Connection, row: Any) -> None:
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
    conn: Connection, row: Any, attempt: ReadAttempt, caches: CheckCaches, now: int
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
    if not insert_proof(conn, attempt.proof):
        raise SignatureRefused("the DPoP proof was used before", code=Code.DPOP_REPLAYED)
    return claims


def _check_use(claims: ct.ConsentClaims, row: Any, attempt: ReadAttempt, now: int) -> None:
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


def _read_in(conn: Connection, attempt: ReadAttempt, caches: CheckCaches, now: int) -> Released:
    statement = _READ_LOCKED if conn.dialect.name == "postgresql" else _READ
    row = conn.execute(statement, {"id": attempt.consent_id}).first()
    if row is None:
        raise SignatureRefused("no consent has this jti at this host", code=Code.CONSENT_UNKNOWN)
    claims = _authenticate(conn, row, attempt, caches, now)
    _check_time(claims, now)
    _check_status(conn, row)
    if attempt.idempotency is not None:
        stored = idempotency.lookup(conn, attempt.idempotency, now=now)
        if stored is not None:
            body = stored.body
            return Released(
                body["consent"], body["use"], body["release"], tuple(body["attributes"])
            )
    _check_use(claims, row, attempt, now)
    if row.jwe is None:
        raise ClaimRefused("no release is prepared for this consent", code=Code.NOT_CONSENTED)
    released = tuple(str(name) for name in json.loads(row.released))
    use = int(row.uses) + 1
    conn.execute(_UPDATE_USE, {"cid": attempt.consent_id, "new_uses": use, "at": now})
    detail = {"use": use, "attributes": list(released), "jkt": attempt.proof.jkt}
    conn.execute(
        _INSERT_EVENT,
        {
            "consent_id": attempt.consent_id,
            "owner": row.owner,
            "name": ConsentEventName.USED.value,
            "at": now,
            "detail": dumps_compact(detail).decode("utf-8"),
        },
    )
    answer = Released(attempt.consent_id, use, str(row.jwe), released)
    if attempt.idempotency is not None:
        stored_answer = idempotency.StoredAnswer(status=200, body=answer.to_json())
        idempotency.store(conn, attempt.idempotency, stored_answer, now=now)
    return answer


def read_release(
    db: Database,
    attempt: ReadAttempt,
    *,
    now: int,
    caches: CheckCaches,
    committer: GroupCommitter | None = None,
) -> Released:
    """Check everything and record the read in ONE transaction; raises Refused (rolled back).

    With a ``committer``, the read is one savepoint in a transaction shared with
    the reads queued beside it, and returns once that transaction committed.
    """
    if committer is not None:
        return committer.run(lambda conn: _read_in(conn, attempt, caches, now))
    return db.run(lambda conn: _read_in(conn, attempt, caches, now))


def submit_read(
    attempt: ReadAttempt, *, now: int, caches: CheckCaches, committer: GroupCommitter
) -> Future[Released]:
    """:func:`read_release` through ``committer`` without waiting: a Future of the result.

    The async route awaits it (``asyncio.wrap_future``), so no thread is held
    while the shared transaction commits; the Future raises what
    :func:`read_release` would.
    """
    return committer.submit(lambda conn: _read_in(conn, attempt, caches, now))


__all__ = [
    "DATA_PATH",
    "LEEWAY",
    "ReadAttempt",
    "Released",
    "prepare_read",
    "read_release",
    "submit_read",
]
