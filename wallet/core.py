"""A wallet: create it, unlock it, and keep sealed records in it.

:func:`create_wallet` makes the wallet row (a fresh master key wrapped by the
passphrase through Argon2id); :func:`unlock_wallet` gives an
:class:`UnlockedWallet`, the only object that can read or write records.
Every record is JSON sealed by :mod:`wallet.vault` and bound to its table,
row id, owner and schema version; every query names the owner (T17).

Time and randomness come from the caller (``now``) or the OS; the database
comes from :func:`wallet.storage.open_database`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, insert, select, update
from sqlmodel import col

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import Code, KeyRefused, Misuse

from .storage import Database
from .storage.models import Record, Wallet
from .vault import (
    KdfFloor,
    KdfParams,
    MasterKey,
    VaultPassphrase,
    WrappedMasterKey,
    generate_master_key,
    open_record,
    seal,
    unlock,
    wrap_master_key,
)

RECORD_TABLE = "record"
SCHEMA_VERSION = 1
#: JSON inside a record nests no deeper than this
_MAX_RECORD_DEPTH = 32

#: Core statements built once (the hot paths bind parameters, compiling nothing new)
_RECORDS = Record.__table__  # type: ignore[attr-defined]
_SELECT_KIND = (
    select(
        _RECORDS.c.id,
        _RECORDS.c.kind,
        _RECORDS.c.ref,
        _RECORDS.c.schema_version,
        _RECORDS.c.sealed,
        _RECORDS.c.created_at,
        _RECORDS.c.updated_at,
    )
    .where(_RECORDS.c.owner == bindparam("owner"), _RECORDS.c.kind == bindparam("kind"))
    .order_by(_RECORDS.c.created_at, _RECORDS.c.id)
)
_SELECT_KIND_REF = _SELECT_KIND.where(_RECORDS.c.ref == bindparam("ref"))


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record opened with the master key: its non-secret columns and its JSON payload."""

    id: str
    kind: str
    ref: str | None
    created_at: int
    updated_at: int
    payload: Mapping[str, Any]


def create_wallet(
    db: Database, passphrase: VaultPassphrase, *, now: int, kdf: KdfParams | None = None
) -> str:
    """Create a wallet and return its owner id. The passphrase rules are checked first."""
    params = kdf if kdf is not None else KdfParams.new()
    master = generate_master_key()
    wrapped = wrap_master_key(master, passphrase, params)
    owner = secrets.token_urlsafe(16)

    def work(conn: Connection) -> None:
        conn.execute(
            insert(Wallet).values(
                id=owner,
                created_at=now,
                kdf_header=params.to_bytes(),
                wrapped_master=wrapped.to_bytes(),
            )
        )

    db.run(work)
    return owner


def wallet_ids(db: Database) -> list[str]:
    rows = db.fetch_all(select(col(Wallet.id)).order_by(col(Wallet.created_at)))
    return [str(row["id"]) for row in rows]


def unlock_wallet(
    db: Database,
    passphrase: VaultPassphrase,
    *,
    floor: KdfFloor,
    owner: str | None = None,
) -> UnlockedWallet:
    """Unwrap the master key. A wrong passphrase and a damaged vault give the same refusal."""
    if owner is None:
        ids = wallet_ids(db)
        if not ids:
            raise Misuse("there is no wallet here yet: run 'regie wallet init' first")
        if len(ids) > 1:
            raise Misuse("this database holds several wallets: name the owner")
        owner = ids[0]
    rows = db.fetch_all(select(Wallet).where(col(Wallet.id) == owner))
    if not rows:
        raise KeyRefused("the passphrase is wrong or the vault is damaged", code=Code.KEY_INVALID)
    stored = WrappedMasterKey.from_bytes(bytes(rows[0]["wrapped_master"]), floor=floor)
    master = unlock(stored, passphrase, floor=floor)
    return UnlockedWallet(db, owner, master)


class UnlockedWallet:
    """A wallet whose master key is in memory. Its repr shows no key material."""

    def __init__(self, db: Database, owner: str, master: MasterKey) -> None:
        self.db = db
        self.owner = owner
        self._master = master

    def __repr__(self) -> str:
        return f"<UnlockedWallet {self.owner}>"

    # -- sealing -----------------------------------------------------------

    def _seal(self, record_id: str, payload: Mapping[str, Any]) -> bytes:
        plaintext = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = seal(
            self._master,
            table=RECORD_TABLE,
            record_id=record_id,
            owner=self.owner,
            schema_version=SCHEMA_VERSION,
            plaintext=plaintext,
        )
        return sealed.to_bytes()

    def open_row(self, row: RowMapping) -> StoredRecord:
        """Open one ``record`` row (all its columns, as read by :meth:`find_in`)."""
        from .vault import SealedRecord

        sealed = SealedRecord.from_bytes(bytes(row["sealed"]))
        plaintext = open_record(
            self._master,
            sealed,
            table=RECORD_TABLE,
            record_id=str(row["id"]),
            owner=self.owner,
            schema_version=int(row["schema_version"]),
        )
        payload = loads_strict(plaintext, max_depth=_MAX_RECORD_DEPTH, what="record")
        if not isinstance(payload, dict):
            raise KeyRefused("the record is damaged or does not belong here", code=Code.KEY_INVALID)
        return StoredRecord(
            id=str(row["id"]),
            kind=str(row["kind"]),
            ref=row["ref"],
            created_at=int(row["created_at"]),
            updated_at=int(row["updated_at"]),
            payload=payload,
        )

    # -- records -----------------------------------------------------------

    def insert_values(
        self, kind: str, payload: Mapping[str, Any], *, now: int, ref: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A new record's id and the column values to insert (for callers' own transactions)."""
        record_id = str(uuid.uuid4())
        values = {
            "id": record_id,
            "owner": self.owner,
            "kind": kind,
            "ref": ref,
            "schema_version": SCHEMA_VERSION,
            "sealed": self._seal(record_id, payload),
            "created_at": now,
            "updated_at": now,
        }
        return record_id, values

    def put(
        self, kind: str, payload: Mapping[str, Any], *, now: int, ref: str | None = None
    ) -> str:
        """Seal and store a new record; returns its id."""
        record_id, values = self.insert_values(kind, payload, now=now, ref=ref)
        self.db.run(lambda conn: conn.execute(insert(Record).values(**values)))
        return record_id

    def replace(self, record_id: str, payload: Mapping[str, Any], *, now: int) -> None:
        """Reseal a record's payload (fresh record key and nonces)."""
        sealed = self._seal(record_id, payload)

        def work(conn: Connection) -> int:
            result = conn.execute(
                update(Record)
                .where(col(Record.id) == record_id, col(Record.owner) == self.owner)
                .values(sealed=sealed, updated_at=now)
            )
            return int(result.rowcount)

        if self.db.run(work) != 1:
            raise Misuse(f"there is no record {record_id} in this wallet")

    def get(self, record_id: str) -> StoredRecord:
        rows = self.db.fetch_all(
            select(Record).where(col(Record.id) == record_id, col(Record.owner) == self.owner)
        )
        if not rows:
            raise Misuse(f"there is no record {record_id} in this wallet")
        return self.open_row(rows[0])

    def find(self, kind: str, *, ref: str | None = None) -> list[StoredRecord]:
        """Every record of ``kind`` (and ``ref``, when given), oldest first."""
        rows = self.db.run(lambda conn: self.rows_in(conn, kind, ref=ref), write=False)
        return [self.open_row(row) for row in rows]

    def rows_in(
        self, conn: Connection, kind: str, *, ref: str | None = None
    ) -> Sequence[RowMapping]:
        """The still sealed rows :meth:`find` opens, read in the caller's transaction."""
        if ref is None:
            params = {"owner": self.owner, "kind": kind}
            return conn.execute(_SELECT_KIND, params).mappings().all()
        params = {"owner": self.owner, "kind": kind, "ref": ref}
        return conn.execute(_SELECT_KIND_REF, params).mappings().all()

    def find_in(self, conn: Connection, kind: str, *, ref: str | None = None) -> list[StoredRecord]:
        """:meth:`find` inside the caller's transaction (a Core ``Connection``)."""
        return [self.open_row(row) for row in self.rows_in(conn, kind, ref=ref)]

    def delete(self, record_ids: Sequence[str]) -> int:
        """Delete records (their keys go with them: crypto-shredding), then checkpoint."""
        if not record_ids:
            return 0

        def work(conn: Connection) -> int:
            result = conn.execute(
                delete(Record).where(
                    col(Record.owner) == self.owner, col(Record.id).in_(list(record_ids))
                )
            )
            return int(result.rowcount)

        count = self.db.run(work)
        self.db.checkpoint_truncate()
        return count


__all__ = [
    "RECORD_TABLE",
    "SCHEMA_VERSION",
    "StoredRecord",
    "UnlockedWallet",
    "create_wallet",
    "unlock_wallet",
    "wallet_ids",
]
