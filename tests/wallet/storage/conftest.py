"""A fresh wallet database per test, on SQLite and on PostgreSQL.

PostgreSQL: a uniquely named database created through a maintenance connection
(``REGIE_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
and dropped afterwards. An unreachable server skips the PostgreSQL cases, except
under ``CI=true`` where it fails them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Connection, make_url

from wallet.storage import Database, StatusList, Wallet, open_database

PG_ADMIN_URL = os.environ.get(
    "REGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = 1_790_000_000


@dataclass(frozen=True)
class Target:
    """Where a test's database lives: ``url`` is ``None`` for the default SQLite file."""

    backend: str
    url: str | None
    home: Path
    pg_dbname: str | None = None

    def open(self, *, migrate: bool = True) -> Database:
        return open_database(self.url, home=self.home, migrate=migrate)


def _pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(PG_ADMIN_URL)
    try:
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database,
            autocommit=True,
            connect_timeout=3,
        )
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {url.render_as_string(hide_password=True)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield Target("sqlite", None, tmp_path)
        return
    name = f"regie_test_{secrets.token_hex(6)}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield Target("postgresql", url, tmp_path, name)
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(target: Target) -> Iterator[Database]:
    database = target.open()
    try:
        yield database
    finally:
        database.dispose()


def add_wallet(conn: Connection, owner: str = "w1") -> None:
    conn.execute(
        insert(Wallet).values(
            id=owner, created_at=NOW, kdf_header=b"hdr", wrapped_master=secrets.token_bytes(48)
        )
    )


def add_status_list(conn: Connection, list_id: str = "L1") -> None:
    conn.execute(insert(StatusList).values(id=list_id, bits=2, size=1024, lst=bytes(256), iat=NOW))


def seed(conn: Connection) -> None:
    """A wallet ``w1`` and a status list ``L1``."""
    add_wallet(conn)
    add_status_list(conn)
