"""The wallet host's inbox: verifiers' signed consent requests in, the citizen's answer out.

Both functions run at the host, without the citizen's passphrase:

* :func:`accept_request` (``POST /v1/requests``) reads the ``inbox`` (the
  citizen's wallet id) from the request, loads *that* wallet's verifier
  registry (public, stored in clear, see :func:`wallet.registry_store.owner_registry`),
  verifies the request with it (:func:`regie_protocol.consent_request.verify_request`:
  signature by a registered key, over-asking, audience, times) and stores it
  ``pending`` under a fresh random host id. A verifier sending the same
  request again (same ``iss`` and ``jti``, byte-identical token) gets the
  stored one back; another token under a used ``jti`` is refused
  (``IDEMPOTENCY_CONFLICT``): a verifier's request id names one request, forever.
* :func:`answer_for` (``GET /v1/requests/{id}``) gives the answer only to the
  key that signed the request (``jkt``, proven by DPoP at the host); any other
  key gets ``None``, exactly like an unknown id, so the host can answer both
  with the same 404 (no oracle).

A pending request past its ``exp`` is marked ``expired`` when it is looked at
(:func:`note_expired_requests`). Refusals are typed: an unknown inbox is
``REQUEST_UNKNOWN``; a wallet that loaded no registry trusts no verifier
(``VERIFIER_UNREGISTERED``).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlmodel import col

from regie_protocol import jws
from regie_protocol.consent import new_consent_id
from regie_protocol.consent_request import (
    REQUEST_PROFILE,
    ConsentRequestClaims,
    parse_request,
    verify_request,
)
from regie_protocol.errors import ClaimRefused, Code

from .log import record as log_record
from .registry_store import owner_registry
from .storage import Consent, ConsentRequest, Database, RequestState, Wallet

#: host request ids are :func:`~regie_protocol.consent.new_consent_id` values; this admits them
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """A request in the inbox, as :func:`accept_request` stored (or found) it."""

    id: str
    owner: str
    verifier_id: str
    request_jti: str
    state: RequestState
    received_at: int
    expires_at: int
    #: False when the very same request was already stored (an idempotent repeat)
    created: bool

    def to_json(self) -> dict[str, Any]:
        """The body of the host's ``201`` answer."""
        return {"id": self.id, "state": self.state.value, "expiresAt": self.expires_at}


@dataclass(frozen=True, slots=True)
class RequestAnswer:
    """What the verifier that sent a request may learn of it."""

    id: str
    state: RequestState
    expires_at: int
    #: the consent token, once approved
    consent_token: str | None = None
    #: the pairwise public key that signed the consent token (a public JWK), once approved
    holder_jwk: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The body of the host's ``GET /v1/requests/{id}`` answer."""
        out: dict[str, Any] = {"id": self.id, "state": self.state.value}
        if self.consent_token is not None:
            out["consentToken"] = self.consent_token
        if self.holder_jwk is not None:
            out["holderJwk"] = dict(self.holder_jwk)
        return out


def request_claims(token: str) -> ConsentRequestClaims:
    """The claims of a STORED request (verified when it was accepted), read strictly again."""
    parsed = jws.parse(token, max_bytes=REQUEST_PROFILE.max_bytes)
    return ConsentRequestClaims.from_json(parsed.unverified_claims)


def request_jkt(token: str) -> str | None:
    """The thumbprint of the key that signed a STORED request (its ``kid``, checked on accept)."""
    kid = jws.parse(token, max_bytes=REQUEST_PROFILE.max_bytes).header.get("kid")
    return kid if isinstance(kid, str) else None


def _stored(row: RowMapping, *, created: bool) -> StoredRequest:
    return StoredRequest(
        id=str(row["id"]),
        owner=str(row["owner"]),
        verifier_id=str(row["verifier_id"]),
        request_jti=str(row["request_jti"]),
        state=RequestState(row["state"]),
        received_at=int(row["received_at"]),
        expires_at=int(row["expires_at"]),
        created=created,
    )


def expire_in(conn: Connection, *, now: int, owner: str | None = None) -> int:
    """Mark pending requests past ``expires_at`` as expired, in the caller's transaction."""
    where = [
        col(ConsentRequest.state) == RequestState.PENDING.value,
        col(ConsentRequest.expires_at) <= now,
    ]
    if owner is not None:
        where.append(col(ConsentRequest.owner) == owner)
    result = conn.execute(
        update(ConsentRequest).where(*where).values(state=RequestState.EXPIRED.value)
    )
    return int(result.rowcount)


def note_expired_requests(db: Database, *, now: int, owner: str | None = None) -> int:
    """:func:`expire_in` in its own transaction, only when there is something to mark."""
    where = [
        col(ConsentRequest.state) == RequestState.PENDING.value,
        col(ConsentRequest.expires_at) <= now,
    ]
    if owner is not None:
        where.append(col(ConsentRequest.owner) == owner)
    if not db.fetch_all(select(col(ConsentRequest.id)).where(*where).limit(1)):
        return 0
    return db.run(lambda conn: expire_in(conn, now=now, owner=owner))


def accept_request(db: Database, token: str, *, host_url: str, now: int) -> StoredRequest:
    """Verify a verifier's consent request against its inbox owner's registry and store it.

    Raises Refused: ``REQUEST_UNKNOWN`` (no such inbox), ``VERIFIER_UNREGISTERED``,
    ``KEY_UNKNOWN``/``SIGNATURE_INVALID``, ``BEYOND_REGISTRATION``,
    ``AUDIENCE_MISMATCH``, time refusals, ``IDEMPOTENCY_CONFLICT``. Nothing is
    written unless it is stored.
    """
    token = token.strip()
    inbox = parse_request(token).inbox
    found = db.fetch_all(select(col(Wallet.id)).where(col(Wallet.id) == inbox))
    if not found:
        raise ClaimRefused(
            "there is no wallet with this inbox at this host: ask the citizen for their inbox id",
            code=Code.REQUEST_UNKNOWN,
        )
    registry = owner_registry(db, inbox, now=now)
    if registry is None:
        raise ClaimRefused(
            "this wallet has loaded no verifier registry yet, so it trusts no verifier",
            code=Code.VERIFIER_UNREGISTERED,
        )
    verified = verify_request(token, registry=registry, host_url=host_url, now=now)
    claims = verified.claims

    def work(conn: Connection) -> StoredRequest:
        row = (
            conn.execute(
                select(ConsentRequest).where(
                    col(ConsentRequest.verifier_id) == claims.iss,
                    col(ConsentRequest.request_jti) == claims.jti,
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            if hmac.compare_digest(str(row["token"]).encode(), verified.token.encode()):
                return _stored(row, created=False)
            raise ClaimRefused(
                f"request id {claims.jti!r} was already used for another request by "
                f"{claims.iss}: give every request its own id",
                code=Code.IDEMPOTENCY_CONFLICT,
            )
        request_id = new_consent_id()
        values = {
            "id": request_id,
            "owner": inbox,
            "verifier_id": claims.iss,
            "request_jti": claims.jti,
            "token": verified.token,
            "state": RequestState.PENDING.value,
            "received_at": now,
            "expires_at": claims.exp,
            "answered_at": None,
            "consent_id": None,
        }
        conn.execute(insert(ConsentRequest).values(**values))
        log_record.requested(
            conn,
            owner=inbox,
            request_id=request_id,
            verifier=claims.iss,
            purpose=claims.purpose,
            legal_basis=claims.legal_basis,
            attributes=claims.all_attributes,
            now=now,
        )
        return StoredRequest(
            id=request_id,
            owner=inbox,
            verifier_id=claims.iss,
            request_jti=claims.jti,
            state=RequestState.PENDING,
            received_at=now,
            expires_at=claims.exp,
            created=True,
        )

    return db.run(work)


def _answer(conn: Connection, row: RowMapping, state: RequestState) -> RequestAnswer:
    token: str | None = None
    holder: Mapping[str, Any] | None = None
    if state is RequestState.APPROVED and row["consent_id"] is not None:
        consent = (
            conn.execute(
                select(col(Consent.token), col(Consent.holder_jwk)).where(
                    col(Consent.id) == row["consent_id"], col(Consent.owner) == row["owner"]
                )
            )
            .mappings()
            .first()
        )
        if consent is not None:
            token = str(consent["token"])
            if consent["holder_jwk"] is not None:
                holder = json.loads(consent["holder_jwk"])
    return RequestAnswer(
        id=str(row["id"]),
        state=state,
        expires_at=int(row["expires_at"]),
        consent_token=token,
        holder_jwk=holder,
    )


def answer_for(db: Database, request_id: str, *, jkt: str, now: int) -> RequestAnswer | None:
    """The state of request ``request_id`` (and its consent, once approved) for key ``jkt``.

    ``None`` when there is no such request or ``jkt`` is not the thumbprint of
    the key that signed it (the caller answers both the same way). One read
    transaction; a pending request past ``expires_at`` is then marked expired
    in a second (it can no longer be approved: see :func:`wallet.requests.approve`).
    """
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        return None

    def read(conn: Connection) -> tuple[RequestAnswer, bool] | None:
        row = (
            conn.execute(select(ConsentRequest).where(col(ConsentRequest.id) == request_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        signer = request_jkt(str(row["token"])) or ""
        if not hmac.compare_digest(signer.encode(), jkt.encode()):
            return None
        state = RequestState(row["state"])
        due = state is RequestState.PENDING and int(row["expires_at"]) <= now
        return _answer(conn, row, RequestState.EXPIRED if due else state), due

    found = db.run(read, write=False)
    if found is None:
        return None
    answer, due = found
    if due:
        db.run(lambda conn: _expire_one(conn, request_id, now=now))
    return answer


def _expire_one(conn: Connection, request_id: str, *, now: int) -> None:
    conn.execute(
        update(ConsentRequest)
        .where(
            col(ConsentRequest.id) == request_id,
            col(ConsentRequest.state) == RequestState.PENDING.value,
            col(ConsentRequest.expires_at) <= now,
        )
        .values(state=RequestState.EXPIRED.value)
    )


__all__ = [
    "RequestAnswer",
    "StoredRequest",
    "accept_request",
    "answer_for",
    "expire_in",
    "note_expired_requests",
    "request_claims",
    "request_jkt",
]
