"""Nothing readable at rest (T27): raw files and dumps hold sealed bytes, not plaintext.

A marker placed only inside a sealed payload's plaintext must not appear in the
SQLite file, its WAL, or a ``pg_dump``; a marker in a plaintext column must
appear (so the search is shown to work). A deleted row's marker is gone from
the SQLite files after ``checkpoint_truncate()`` with ``secure_delete``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection, make_url
from sqlmodel import col

from tests.conftest import require_tool
from tests.wallet.databases import PG_ADMIN_URL, Target
from wallet.storage import Database, Record

from .conftest import NOW, add_wallet


def _sealed_stand_in(plaintext: bytes) -> bytes:
    """What wallet.vault hands over: bytes that look random (here: random, of the same size)."""
    return secrets.token_bytes(len(plaintext) + 40)


def _write(db: Database, secret: bytes, visible: str) -> None:
    def work(conn: Connection) -> None:
        add_wallet(conn)
        for i in range(20):
            conn.execute(
                insert(Record).values(
                    id=f"rec-{i}",
                    owner="w1",
                    kind="credential",
                    ref=f"{visible}-{i}",
                    schema_version=1,
                    sealed=_sealed_stand_in(secret + b" payload %d" % i),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )

    db.run(work)


def _sqlite_bytes(home: Path) -> bytes:
    parts = [home / "wallet.sqlite3", home / "wallet.sqlite3-wal"]
    return b"".join(p.read_bytes() for p in parts if p.exists())


def _pg_dump(target: Target) -> bytes:
    tool = require_tool("pg_dump")
    url = make_url(PG_ADMIN_URL)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    args = [tool, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    args += ["-U", url.username or "postgres", target.pg_dbname or ""]
    return subprocess.run(args, check=True, capture_output=True, env=env, timeout=60).stdout


def test_only_sealed_bytes_at_rest(target: Target, db: Database) -> None:
    secret = b"SECRET-" + secrets.token_hex(8).encode()
    visible = "VISIBLE-" + secrets.token_hex(8)
    _write(db, secret, visible)
    raw = _sqlite_bytes(target.home) if target.backend == "sqlite" else _pg_dump(target)
    assert visible.encode() in raw  # the search finds what is stored in clear
    assert secret not in raw


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_deleted_row_is_gone_after_checkpoint(target: Target, db: Database) -> None:
    marker = "DELETED-" + secrets.token_hex(8)
    keep = "KEPT-" + secrets.token_hex(8)
    _write(db, b"unused", keep)
    db.run(
        lambda c: c.execute(
            insert(Record).values(
                id="doomed",
                owner="w1",
                kind="test_only_plaintext",
                ref=marker,
                schema_version=1,
                sealed=marker.encode(),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    )
    db.checkpoint_truncate()
    assert marker.encode() in _sqlite_bytes(target.home)  # positive control: it was there
    db.run(lambda c: c.execute(delete(Record).where(col(Record.id) == "doomed")))
    assert marker.encode() in _sqlite_bytes(target.home)  # old pages still in the WAL
    db.checkpoint_truncate()
    raw = _sqlite_bytes(target.home)
    assert marker.encode() not in raw
    assert keep.encode() in raw
    assert (target.home / "wallet.sqlite3-wal").stat().st_size == 0
    db.integrity_check()
