"""Rows the storage tests write: a wallet ``w1``, a status list ``L1`` (:func:`seed`), records.

The ``target`` and ``db`` fixtures (a fresh database on SQLite and on
PostgreSQL) come from ``tests/wallet/conftest.py``.
"""

from __future__ import annotations

import secrets

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from wallet.storage import StatusList, Wallet

NOW = 1_790_000_000


def add_wallet(conn: Connection, owner: str = "w1") -> None:
    conn.execute(
        insert(Wallet).values(
            id=owner, created_at=NOW, kdf_header=b"hdr", wrapped_master=secrets.token_bytes(48)
        )
    )


def add_status_list(conn: Connection, list_id: str = "L1") -> None:
    conn.execute(insert(StatusList).values(id=list_id, bits=2, size=1024, lst=bytes(256), iat=NOW))


def record_row(i: int) -> dict[str, object]:
    """The values of a sealed record ``r<i>`` of wallet ``w1``."""
    return {
        "id": f"r{i}",
        "owner": "w1",
        "kind": "credential",
        "schema_version": 1,
        "sealed": b"x",
        "created_at": NOW,
        "updated_at": NOW,
    }


def seed(conn: Connection) -> None:
    """A wallet ``w1`` and a status list ``L1``."""
    add_wallet(conn)
    add_status_list(conn)
