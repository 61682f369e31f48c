"""The verifier's own store (SQLModel): requests it sent, consents it collected, data it kept.

One database, SQLite by default (a file, WAL, ``secure_delete`` so purged
values are overwritten on disk, T27), PostgreSQL by URL. The tables are made
with ``create_all`` at open: the verifier's schema is small and has no
migrations yet (the first change to it brings Alembic, as the wallet has).

* ``verifier_request``: a consent request sent to a host (host, the host's id,
  our request ``jti``, its state, the consent it led to);
* ``verifier_consent``: a collected consent (``jti``, the token, the holder's
  public JWK and its thumbprint URI, the host, ``exp``, the longest
  retention, the status entry, the state: given, withdrawn (its status bit
  says so, or its host refused a read because it is over), expired);
* ``kept_data``: values kept under a consent that allows ``store`` (the
  attribute names, when they were stored, until when they may be kept, the
  values as JSON). :func:`verifier.purge.purge` deletes them.

Nothing here checks a signature: a consent is saved after
:meth:`verifier.client.WalletHostClient.verify_answer` checked it
(:meth:`verifier.context.VerifierContext.collect` does both).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Engine, Index, MetaData, Text, create_engine, event
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col, delete, select, update

from regie_protocol.consent import ConsentClaims, claims_from_json, parse_consent
from regie_protocol.errors import ClaimRefused, Code, Misuse
from regie_protocol.keys import PublicKey, public_key_from_jwk

from .verify import VerifiedConsentToken, details_for

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    }
)


class ConsentRowState(StrEnum):
    GIVEN = "given"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class _Model(SQLModel, registry=registry(metadata=metadata)):
    """Base of the verifier's tables (own metadata, apart from every other role's)."""


class RequestRow(_Model, table=True):
    __tablename__ = "verifier_request"

    host: str = Field(primary_key=True, max_length=512)
    host_request_id: str = Field(primary_key=True, max_length=128)
    request_jti: str = Field(max_length=128)
    created_at: int = Field(sa_type=BigInteger)
    state: str = Field(max_length=16)
    consent_jti: str | None = Field(default=None, max_length=128)


class ConsentRow(_Model, table=True):
    __tablename__ = "verifier_consent"
    __table_args__ = (Index(None, "holder"),)

    jti: str = Field(primary_key=True, max_length=128)
    token: str = Field(sa_type=Text)
    holder: str = Field(max_length=256)
    holder_jwk: str = Field(sa_type=Text)
    host: str = Field(max_length=512)
    host_request_id: str | None = Field(default=None, max_length=128)
    exp: int = Field(sa_type=BigInteger)
    retention: str = Field(max_length=32)
    status_uri: str = Field(max_length=512)
    status_idx: int = Field(sa_type=BigInteger)
    state: str = Field(max_length=16)
    collected_at: int = Field(sa_type=BigInteger)


class KeptRow(_Model, table=True):
    __tablename__ = "kept_data"
    __table_args__ = (Index(None, "consent_jti"),)

    id: int | None = Field(default=None, primary_key=True)
    consent_jti: str = Field(foreign_key="verifier_consent.jti", max_length=128)
    attributes: str = Field(sa_type=Text)
    stored_at: int = Field(sa_type=BigInteger)
    keep_until: int = Field(sa_type=BigInteger)
    values_json: str = Field(sa_type=Text)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    host: str
    host_request_id: str
    request_jti: str
    created_at: int
    state: str
    consent_jti: str | None


@dataclass(frozen=True, slots=True, repr=False)
class StoredConsent:
    jti: str
    token: str
    holder: str
    holder_jwk: Mapping[str, Any]
    host: str
    host_request_id: str | None
    exp: int
    retention: str
    status_uri: str
    status_idx: int
    state: str
    collected_at: int

    @property
    def claims(self) -> ConsentClaims:
        """The token's claims (checked when collected; not re-verified here)."""
        return claims_from_json(parse_consent(self.token).unverified_claims)

    def holder_key(self) -> PublicKey:
        return public_key_from_jwk(dict(self.holder_jwk))

    def __repr__(self) -> str:
        return f"<StoredConsent {self.jti} {self.state}>"


@dataclass(frozen=True, slots=True, repr=False)
class KeptData:
    id: int
    consent_jti: str
    attributes: tuple[str, ...]
    stored_at: int
    keep_until: int
    values: Mapping[str, Any]

    def __repr__(self) -> str:  # values are personal data: never in a repr or a log
        return f"<KeptData {self.id} of {self.consent_jti}: {', '.join(self.attributes)}>"


def _consent(row: ConsentRow) -> StoredConsent:
    return StoredConsent(
        jti=row.jti,
        token=row.token,
        holder=row.holder,
        holder_jwk=json.loads(row.holder_jwk),
        host=row.host,
        host_request_id=row.host_request_id,
        exp=row.exp,
        retention=row.retention,
        status_uri=row.status_uri,
        status_idx=row.status_idx,
        state=row.state,
        collected_at=row.collected_at,
    )


def _kept(row: KeptRow) -> KeptData:
    assert row.id is not None
    return KeptData(
        id=row.id,
        consent_jti=row.consent_jti,
        attributes=tuple(json.loads(row.attributes)),
        stored_at=row.stored_at,
        keep_until=row.keep_until,
        values=json.loads(row.values_json),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "secure_delete=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _longest_retention(claims: ConsentClaims) -> str:
    longest = max(claims.authorization_details, key=lambda d: d.retention_duration.approx_seconds)
    return longest.retention


def _set_request_state(
    s: Session, host: str, host_request_id: str, state: str, *, consent_jti: str | None
) -> None:
    row = s.get(RequestRow, (host, host_request_id))
    if row is None:
        raise Misuse(f"no request {host_request_id!r} at {host} in this store")
    row.state = state
    if consent_jti is not None:
        row.consent_jti = consent_jti
    s.add(row)


def _add_consent(
    s: Session,
    consent: VerifiedConsentToken,
    holder_jwk: Mapping[str, Any],
    now: int,
    host_request_id: str | None,
) -> ConsentRow:
    claims = consent.claims
    row = s.get(ConsentRow, claims.jti)
    if row is not None:
        if row.token != consent.token:
            raise Misuse(f"another consent with id {claims.jti} is already stored")
        return row
    row = ConsentRow(
        jti=claims.jti,
        token=consent.token,
        holder=claims.iss,
        holder_jwk=json.dumps(dict(holder_jwk), sort_keys=True),
        host=consent.host,
        host_request_id=host_request_id,
        exp=claims.exp,
        retention=_longest_retention(claims),
        status_uri=claims.status.uri,
        status_idx=claims.status.idx,
        state=ConsentRowState.GIVEN.value,
        collected_at=now,
    )
    s.add(row)
    return row


class VerifierStore:
    """The verifier's database. Share one per process; every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)

    @classmethod
    def open(cls, where: str | Path) -> VerifierStore:
        """A SQLite file (a path) or a SQLAlchemy URL (``postgresql+psycopg://...``)."""
        if isinstance(where, Path) or "://" not in where:
            path = Path(where)
            path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(f"sqlite:///{path}")
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(where, pool_pre_ping=True)
        return cls(engine)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    # --- requests ---

    def add_request(self, host: str, host_request_id: str, request_jti: str, *, now: int) -> None:
        with self._session() as s:
            if s.get(RequestRow, (host, host_request_id)) is None:
                s.add(
                    RequestRow(
                        host=host,
                        host_request_id=host_request_id,
                        request_jti=request_jti,
                        created_at=now,
                        state="pending",
                    )
                )

    def request(self, host_request_id: str) -> StoredRequest | None:
        with self._session() as s:
            rows = s.exec(
                select(RequestRow).where(col(RequestRow.host_request_id) == host_request_id)
            ).all()
        if len(rows) > 1:
            raise Misuse(f"two hosts know a request {host_request_id!r}: name the host")
        return None if not rows else StoredRequest(**rows[0].model_dump())

    def requests(self) -> list[StoredRequest]:
        with self._session() as s:
            rows = s.exec(select(RequestRow).order_by(col(RequestRow.created_at))).all()
        return [StoredRequest(**row.model_dump()) for row in rows]

    def set_request_state(
        self, host: str, host_request_id: str, state: str, *, consent_jti: str | None = None
    ) -> None:
        with self._session() as s:
            _set_request_state(s, host, host_request_id, state, consent_jti=consent_jti)

    def save_answer(
        self,
        host: str,
        host_request_id: str,
        state: str,
        *,
        consent: VerifiedConsentToken | None = None,
        holder_jwk: Mapping[str, Any] | None = None,
        now: int,
    ) -> StoredConsent | None:
        """Record the host's answer to a request sent from here, in one transaction: its
        state and, when approved, the checked consent (saved as :meth:`save_consent` does)."""
        if (consent is None) != (holder_jwk is None) or (consent is not None) != (
            state == "approved"
        ):
            raise Misuse("an approved answer, and only that, comes with a consent and its key")
        with self._session() as s:
            saved = None
            if consent is not None and holder_jwk is not None:
                saved = _add_consent(s, consent, holder_jwk, now, host_request_id)
            _set_request_state(
                s, host, host_request_id, state, consent_jti=None if saved is None else saved.jti
            )
        return None if saved is None else _consent(saved)

    # --- consents ---

    def save_consent(
        self,
        consent: VerifiedConsentToken,
        holder_jwk: Mapping[str, Any],
        *,
        now: int,
        host_request_id: str | None = None,
    ) -> StoredConsent:
        """Save a checked consent (again: the same token is a no-op)."""
        with self._session() as s:
            row = _add_consent(s, consent, holder_jwk, now, host_request_id)
        return _consent(row)

    def consent(self, jti: str) -> StoredConsent | None:
        with self._session() as s:
            row = s.get(ConsentRow, jti)
        return None if row is None else _consent(row)

    def consents(self) -> list[StoredConsent]:
        with self._session() as s:
            rows = s.exec(select(ConsentRow).order_by(col(ConsentRow.collected_at))).all()
        return [_consent(row) for row in rows]

    def holder_key(self, iss: str) -> PublicKey | None:
        """The holder key of a collected consent by its ``iss`` (a ``HolderKeys`` lookup)."""
        with self._session() as s:
            row = s.exec(select(ConsentRow).where(col(ConsentRow.holder) == iss)).first()
        return None if row is None else public_key_from_jwk(json.loads(row.holder_jwk))

    def note_ended(self, jti: str) -> bool:
        """The wallet host said consent ``jti`` is over (``consent_ended``, ``revoked``): a
        given consent becomes withdrawn, so :func:`~verifier.purge.purge` deletes what was
        kept under it without waiting for the status list. False when the store does not
        hold the consent or already knew it had ended."""
        with self._session() as s:
            result = s.exec(
                update(ConsentRow)
                .where(col(ConsentRow.jti) == jti)
                .where(col(ConsentRow.state) == ConsentRowState.GIVEN.value)
                .values(state=ConsentRowState.WITHDRAWN.value)
            )
            return int(result.rowcount) == 1

    def set_consent_state(self, jti: str, state: ConsentRowState) -> None:
        with self._session() as s:
            row = s.get(ConsentRow, jti)
            if row is None:
                raise Misuse(f"no consent {jti!r} in this store")
            row.state = ConsentRowState(state).value
            s.add(row)

    # --- kept data ---

    def keep(self, consent_jti: str, values: Mapping[str, Any], *, now: int) -> KeptData:
        """Keep ``values`` (attribute id -> value) under a consent that allows ``store``.

        Refused (``not_consented``) when the consent is not given, has expired, or
        does not allow storing one of the attributes; kept until the shortest
        retention among the entries that allow them.
        """
        if not values:
            raise Misuse("there is nothing to keep")
        stored = self.consent(consent_jti)
        if stored is None:
            raise Misuse(f"no consent {consent_jti!r} in this store")
        if stored.state != ConsentRowState.GIVEN or stored.exp <= now:
            raise ClaimRefused(
                f"consent {consent_jti} has ended: nothing may be kept under it",
                code=Code.CONSENT_ENDED,
            )
        details = stored.claims.authorization_details
        retention: list[int] = []
        for name in sorted(values):
            allowing = details_for(details, name, action="store")
            if not allowing:
                raise ClaimRefused(
                    f"consent {consent_jti} does not allow keeping {name!r}",
                    code=Code.NOT_CONSENTED,
                )
            retention.append(min(d.retention_duration.approx_seconds for d in allowing))
        row = KeptRow(
            consent_jti=consent_jti,
            attributes=json.dumps(sorted(values)),
            stored_at=now,
            keep_until=now + min(retention),
            values_json=json.dumps(dict(values), ensure_ascii=False, sort_keys=True),
        )
        with self._session() as s:
            s.add(row)
            s.flush()
        return _kept(row)

    def kept(self, consent_jti: str | None = None) -> list[KeptData]:
        query = select(KeptRow).order_by(col(KeptRow.id))
        if consent_jti is not None:
            query = query.where(col(KeptRow.consent_jti) == consent_jti)
        with self._session() as s:
            rows = s.exec(query).all()
        return [_kept(row) for row in rows]

    def delete_kept(self, ids: list[int]) -> int:
        """Delete kept rows by id; how many were deleted."""
        if not ids:
            return 0
        with self._session() as s:
            result = s.exec(delete(KeptRow).where(col(KeptRow.id).in_(ids)))
            return int(result.rowcount)


__all__ = [
    "ConsentRowState",
    "KeptData",
    "StoredConsent",
    "StoredRequest",
    "VerifierStore",
    "metadata",
]
