"""The wallet's tables (SQLModel), and the shapes that may be shown outside storage.

Stored models (``table=True``) hold everything, sealed bytes included; the
``*Info`` models are what may leave the storage layer towards an API or a CLI
(STYLE habit 15): they have no ``sealed``, ``kdf_header``, ``wrapped_master``
or ``token`` field, so a secret cannot be serialised by accident.

Conventions, chosen so both SQLite and PostgreSQL store the same thing:

* times are integer epoch seconds (``BIGINT``), set by the caller's clock;
* bytes are ``LargeBinary`` (``BLOB`` / ``bytea``), JSON is ``TEXT`` written by
  the caller (strict JSON from :mod:`regie_protocol._encoding`);
* every owned row names its ``owner`` (a :class:`Wallet` id) so the data-access
  layer can check object ownership on every query (T17);
* closed lists (consent states, event names, status-list widths) are ``CHECK``
  constraints: widening a list is a migration, not a silent change.

The consent status list belongs to the host, not to one owner: a list per
citizen would put a citizen-specific URI into every consent and let verifiers
link the citizen through it (T23). Indices are allocated once and forever in
``status_allocation``; a consent's ``(status_list_id, status_idx)`` must be an
allocation and is unique, so an index is never reused.

The consent log (``log_*`` tables, :mod:`wallet.log`) has no foreign key: it
outlives the wallets, consents and readers it speaks of. Its rows are only
ever inserted (``log_head`` is the one row updated); a leaf index is a
``log_event`` row, a perfect Merkle node of level >= 1 a ``log_node`` row.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from regie_protocol.tlog.event import EventName

#: stable constraint names on both backends, so later migrations can name them
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: the wallet's own metadata (not SQLModel's global one): migrations compare against it
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ConsentState(StrEnum):
    """Consent states, following W3C DPV."""

    GIVEN = "given"
    WITHDRAWN = "withdrawn"  # by the citizen
    REVOKED = "revoked"  # by someone else
    EXPIRED = "expired"
    REFUSED = "refused"
    SUSPENDED = "suspended"


class ConsentEventName(StrEnum):
    """The closed list of consent history events."""

    REQUESTED = "consent.requested"
    GRANTED = "consent.granted"
    REFUSED = "consent.refused"
    WITHDRAWN = "consent.withdrawn"
    REVOKED = "consent.revoked"
    EXPIRED = "consent.expired"
    SUSPENDED = "consent.suspended"
    REINSTATED = "consent.reinstated"
    USED = "consent.used"


#: BIGINT on PostgreSQL; SQLite autoincrements only an ``INTEGER PRIMARY KEY`` (64-bit anyway)
_EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: type[StrEnum]) -> str:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"


class StorageModel(SQLModel, registry=registry(metadata=metadata)):
    """Base of the wallet's table models (own registry and metadata)."""


class Wallet(StorageModel, table=True):
    """One citizen's wallet: the passphrase KDF header and the wrapped master key."""

    __tablename__ = "wallet"

    id: str = Field(primary_key=True, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    kdf_header: bytes = Field(sa_type=LargeBinary)
    wrapped_master: bytes = Field(sa_type=LargeBinary)


class Record(StorageModel, table=True):
    """A sealed record: a credential, a holder key, a pairwise key, ...

    ``kind`` and ``ref`` are non-secret lookup keys (``ref`` e.g. the verifier id
    of a pairwise key); everything else lives inside ``sealed``.
    """

    __tablename__ = "record"
    __table_args__ = (
        ForeignKeyConstraint(["owner"], ["wallet.id"], ondelete="CASCADE"),
        Index(None, "owner", "kind", "ref"),
        CheckConstraint("schema_version >= 1", name="schema_version"),
    )

    id: str = Field(primary_key=True, max_length=64)
    owner: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    ref: str | None = Field(default=None, max_length=512)
    schema_version: int
    sealed: bytes = Field(sa_type=LargeBinary)
    created_at: int = Field(sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)


class TrustedIssuer(StorageModel, table=True):
    """An issuer the citizen trusts, with its public keys (JWKS JSON)."""

    __tablename__ = "trusted_issuer"
    __table_args__ = (ForeignKeyConstraint(["owner"], ["wallet.id"], ondelete="CASCADE"),)

    owner: str = Field(primary_key=True, max_length=64)
    issuer_id: str = Field(primary_key=True, max_length=512)
    jwks: str = Field(sa_type=Text)
    added_at: int = Field(sa_type=BigInteger)


class Registry(StorageModel, table=True):
    """The verifier registry a wallet relies on: the registrar's key and its signed document."""

    __tablename__ = "registry"
    __table_args__ = (ForeignKeyConstraint(["owner"], ["wallet.id"], ondelete="CASCADE"),)

    owner: str = Field(primary_key=True, max_length=64)
    registrar_jwk: str = Field(sa_type=Text)
    document: str = Field(sa_type=Text)
    loaded_at: int = Field(sa_type=BigInteger)


class StatusList(StorageModel, table=True):
    """The host's consent status list: packed bits, ``iat`` only moves forward."""

    __tablename__ = "status_list"
    __table_args__ = (
        CheckConstraint("bits IN (1, 2, 4, 8)", name="bits"),
        CheckConstraint("size > 0", name="size"),
        CheckConstraint("iat >= 0", name="iat"),
    )

    id: str = Field(primary_key=True, max_length=128)
    bits: int
    size: int = Field(sa_type=BigInteger)
    lst: bytes = Field(sa_type=LargeBinary)
    iat: int = Field(sa_type=BigInteger)


class StatusAllocation(StorageModel, table=True):
    """An index handed out once, forever: rows are never deleted."""

    __tablename__ = "status_allocation"
    __table_args__ = (
        ForeignKeyConstraint(["status_list_id"], ["status_list.id"]),
        CheckConstraint("idx >= 0", name="idx"),
    )

    status_list_id: str = Field(primary_key=True, max_length=128)
    idx: int = Field(primary_key=True, sa_type=BigInteger)
    allocated_at: int = Field(sa_type=BigInteger)


class Consent(StorageModel, table=True):
    """A consent: ``id`` is the token's ``jti``; ``token`` the signed consent token."""

    __tablename__ = "consent"
    __table_args__ = (
        ForeignKeyConstraint(["owner"], ["wallet.id"]),
        ForeignKeyConstraint(
            ["status_list_id", "status_idx"],
            ["status_allocation.status_list_id", "status_allocation.idx"],
        ),
        UniqueConstraint("status_list_id", "status_idx"),
        Index(None, "owner", "verifier_id"),
        CheckConstraint(_in("state", ConsentState), name="state"),
        CheckConstraint("uses >= 0", name="uses"),
    )

    id: str = Field(primary_key=True, max_length=128)
    owner: str = Field(max_length=64)
    verifier_id: str = Field(max_length=512)
    state: str = Field(max_length=16)
    token: str = Field(sa_type=Text)
    status_list_id: str = Field(max_length=128)
    status_idx: int = Field(sa_type=BigInteger)
    granted_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
    ended_at: int | None = Field(default=None, sa_type=BigInteger)
    uses: int = 0
    #: the pairwise public key (JWK JSON) that signed ``token``: the host checks
    #: a presented token's signature without the citizen's passphrase
    holder_jwk: str | None = Field(default=None, sa_type=Text)
    #: when the host last released data under this consent (``frequency``)
    last_used_at: int | None = Field(default=None, sa_type=BigInteger)


class ConsentEvent(StorageModel, table=True):
    """One step in a consent's history (append-only)."""

    __tablename__ = "consent_event"
    __table_args__ = (
        ForeignKeyConstraint(["consent_id"], ["consent.id"]),
        ForeignKeyConstraint(["owner"], ["wallet.id"]),
        Index(None, "consent_id", "id"),
        CheckConstraint(_in("name", ConsentEventName), name="name"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_EVENT_ID)
    consent_id: str = Field(max_length=128)
    owner: str = Field(max_length=64)
    name: str = Field(max_length=32)
    at: int = Field(sa_type=BigInteger)
    detail: str = Field(default="{}", sa_type=Text)


class RequestState(StrEnum):
    """Where a verifier's consent request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"


class ConsentRequest(StorageModel, table=True):
    """A verifier's signed consent request, waiting for (or answered by) the citizen.

    ``id`` is the host's own random id (what the citizen types and the verifier
    polls); ``request_jti`` the verifier's, unique per verifier so one verifier
    cannot squat another's ids.
    """

    __tablename__ = "consent_request"
    __table_args__ = (
        ForeignKeyConstraint(["owner"], ["wallet.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["consent_id"], ["consent.id"]),
        UniqueConstraint("verifier_id", "request_jti"),
        Index(None, "owner", "state"),
        CheckConstraint(_in("state", RequestState), name="state"),
    )

    id: str = Field(primary_key=True, max_length=128)
    owner: str = Field(max_length=64)
    verifier_id: str = Field(max_length=512)
    request_jti: str = Field(max_length=128)
    token: str = Field(sa_type=Text)
    state: str = Field(max_length=16)
    received_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
    answered_at: int | None = Field(default=None, sa_type=BigInteger)
    consent_id: str | None = Field(default=None, max_length=128)


class Release(StorageModel, table=True):
    """What the host hands a verifier under a consent: a JWE only the verifier can open.

    ``attributes`` (JSON list) are the released claim *names*; the values are
    inside ``jwe``, encrypted to the verifier's registered X25519 key.
    """

    __tablename__ = "release"
    __table_args__ = (
        ForeignKeyConstraint(["consent_id"], ["consent.id"]),
        ForeignKeyConstraint(["owner"], ["wallet.id"]),
    )

    consent_id: str = Field(primary_key=True, max_length=128)
    owner: str = Field(max_length=64)
    jwe: str = Field(sa_type=Text)
    attributes: str = Field(sa_type=Text)
    recipient_kid: str = Field(max_length=128)
    sealed_at: int = Field(sa_type=BigInteger)


class DpopProof(StorageModel, table=True):
    """A DPoP proof ``jti`` seen, kept until its window closes: a second use is a replay."""

    __tablename__ = "dpop_proof"
    __table_args__ = (Index(None, "expires_at"),)

    jkt: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=128)
    expires_at: int = Field(sa_type=BigInteger)


class IdempotencyEntry(StorageModel, table=True):
    """The answer to a state-changing call, kept so a retry with the same key gets it again."""

    __tablename__ = "idempotency_entry"
    __table_args__ = (Index(None, "created_at"),)

    scope: str = Field(primary_key=True, max_length=256)
    key: str = Field(primary_key=True, max_length=128)
    request_sha256: str = Field(max_length=64)
    status: int
    body: str = Field(sa_type=Text)
    created_at: int = Field(sa_type=BigInteger)


class ReadRefusal(StorageModel, table=True):
    """A refused call at the host, with the detail the refusal answer leaves out."""

    __tablename__ = "read_refusal"
    __table_args__ = (Index(None, "consent_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_EVENT_ID)
    at: int = Field(sa_type=BigInteger)
    route: str = Field(max_length=64)
    consent_id: str | None = Field(default=None, max_length=128)
    jkt: str | None = Field(default=None, max_length=64)
    code: str = Field(max_length=64)
    detail: str = Field(sa_type=Text)


# --- the consent log (wallet.log): an RFC 9162 Merkle tree of events ---

#: SQLite: ``INTEGER PRIMARY KEY`` is the rowid (one B-tree, no second index); BIGINT elsewhere
_LOG_INDEX = BigInteger().with_variant(Integer(), "sqlite")


class LogReaderRole(StrEnum):
    """Who may read the log's events: an auditor all of them, a citizen their own."""

    AUDITOR = "auditor"
    CITIZEN = "citizen"


class LogHead(StorageModel, table=True):
    """The log's one head row (``id`` 1): its size and the frontier the next append needs.

    ``frontier`` is the concatenated 32-byte hashes of the perfect subtrees of
    ``[0, size)`` (:class:`regie_protocol.tlog.merkle.Frontier`);
    ``pseudonym_key`` the random key of the citizens' pseudonyms in events.
    """

    __tablename__ = "log_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single"),
        CheckConstraint("size >= 0", name="size"),
    )

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    origin: str = Field(sa_type=Text)
    size: int = Field(sa_type=BigInteger)
    frontier: bytes = Field(sa_type=LargeBinary)
    pseudonym_key: bytes = Field(sa_type=LargeBinary)
    created_at: int = Field(sa_type=BigInteger)


class LogEvent(StorageModel, table=True):
    """One logged event: leaf ``idx`` (0-based, no gaps), its exact canonical JSON and hash.

    ``owner`` (the wallet id), ``consent_id`` and ``verifier_id`` are lookup
    columns for citizens, receipts and auditors; ``owner`` is not in the body
    (the body carries a pseudonym).
    """

    __tablename__ = "log_event"
    __table_args__ = (
        Index(None, "owner", "idx"),
        Index(None, "consent_id"),
        Index(None, "verifier_id"),
        CheckConstraint("idx >= 0", name="idx"),
        CheckConstraint(_in("name", EventName), name="name"),
    )

    idx: int = Field(
        primary_key=True, sa_type=_LOG_INDEX, sa_column_kwargs={"autoincrement": False}
    )
    leaf_hash: bytes = Field(sa_type=LargeBinary)
    body: str = Field(sa_type=Text)
    name: str = Field(max_length=32)
    at: int = Field(sa_type=BigInteger)
    owner: str | None = Field(default=None, max_length=64)
    consent_id: str | None = Field(default=None, max_length=128)
    verifier_id: str | None = Field(default=None, max_length=512)


class LogNode(StorageModel, table=True):
    """A perfect Merkle subtree: ``2**level`` leaves from ``idx * 2**level``; levels >= 1.

    Level 0 is ``log_event.leaf_hash``. On SQLite the table is ``WITHOUT ROWID``:
    a node is found with one B-tree descent.
    """

    __tablename__ = "log_node"
    __table_args__ = (
        CheckConstraint("level >= 1 AND level <= 63", name="level"),
        CheckConstraint("idx >= 0", name="idx"),
        {"sqlite_with_rowid": False},
    )

    level: int = Field(
        primary_key=True, sa_type=SmallInteger, sa_column_kwargs={"autoincrement": False}
    )
    idx: int = Field(primary_key=True, sa_type=BigInteger)
    hash: bytes = Field(sa_type=LargeBinary)


class LogCheckpoint(StorageModel, table=True):
    """A checkpoint the log signed, one per size: ``note`` as signed (without cosignatures)."""

    __tablename__ = "log_checkpoint"
    __table_args__ = (CheckConstraint("size >= 0", name="size"),)

    size: int = Field(
        primary_key=True, sa_type=_LOG_INDEX, sa_column_kwargs={"autoincrement": False}
    )
    root: bytes = Field(sa_type=LargeBinary)
    note: str = Field(sa_type=Text)
    signed_at: int = Field(sa_type=BigInteger)


class LogCosignature(StorageModel, table=True):
    """A witness's cosignature line on the checkpoint of ``size``; the first one kept."""

    __tablename__ = "log_cosignature"

    size: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    witness: str = Field(primary_key=True, max_length=256)
    line: str = Field(sa_type=Text)
    at: int = Field(sa_type=BigInteger)


class LogReader(StorageModel, table=True):
    """A key allowed to read log events: ``jkt`` its RFC 7638 thumbprint, ``jwk`` the public key.

    An auditor reads every event; a citizen (``owner`` set) only their own.
    """

    __tablename__ = "log_reader"
    __table_args__ = (
        CheckConstraint(_in("role", LogReaderRole), name="role"),
        CheckConstraint("role = 'auditor' OR owner IS NOT NULL", name="citizen_owner"),
    )

    jkt: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)
    owner: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=256)
    jwk: str = Field(sa_type=Text)
    added_at: int = Field(sa_type=BigInteger)


# --- what may be shown outside storage (no secrets, no sealed bytes) ---


class WalletInfo(SQLModel):
    id: str
    created_at: int


class RecordInfo(SQLModel):
    id: str
    owner: str
    kind: str
    ref: str | None
    schema_version: int
    created_at: int
    updated_at: int


class ConsentInfo(SQLModel):
    id: str
    owner: str
    verifier_id: str
    state: ConsentState
    status_list_id: str
    status_idx: int
    granted_at: int
    expires_at: int
    ended_at: int | None
    uses: int


__all__ = [
    "NAMING_CONVENTION",
    "Consent",
    "ConsentEvent",
    "ConsentEventName",
    "ConsentInfo",
    "ConsentRequest",
    "ConsentState",
    "DpopProof",
    "IdempotencyEntry",
    "LogCheckpoint",
    "LogCosignature",
    "LogEvent",
    "LogHead",
    "LogNode",
    "LogReader",
    "LogReaderRole",
    "ReadRefusal",
    "Record",
    "RecordInfo",
    "Registry",
    "Release",
    "RequestState",
    "StatusAllocation",
    "StatusList",
    "StorageModel",
    "TrustedIssuer",
    "Wallet",
    "WalletInfo",
    "metadata",
]
