"""A fresh database per test, on SQLite and on PostgreSQL: ``target`` and ``db`` fixtures.

PostgreSQL: a uniquely named database created through a maintenance connection
(``REGIE_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
and dropped afterwards (:func:`postgres_database`). An unreachable server skips
the PostgreSQL cases, except under ``CI=true`` where it fails them.
``tests/wallet/conftest.py`` offers the fixtures to every wallet test; a test
module elsewhere imports them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from wallet.storage import Database, open_database

PG_ADMIN_URL = os.environ.get(
    "REGIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Target:
    """Where a test's database lives: ``url`` is ``None`` for the default SQLite file."""

    backend: str
    url: str | None
    home: Path
    pg_dbname: str | None = None

    def open(self, *, migrate: bool = True) -> Database:
        return open_database(self.url, home=self.home, migrate=migrate)


def pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    """A maintenance connection (autocommit); skips the test when the server is unreachable."""
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


@contextmanager
def postgres_database(prefix: str = "regie_test") -> Iterator[tuple[str, str]]:
    """A new empty PostgreSQL database ``prefix_<random>`` until the block ends: (name, URL)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield name, url
    finally:
        with pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield Target("sqlite", None, tmp_path)
        return
    with postgres_database() as (name, url):
        yield Target("postgresql", url, tmp_path, name)


@pytest.fixture
def db(target: Target) -> Iterator[Database]:
    database = target.open()
    try:
        yield database
    finally:
        database.dispose()


__all__ = ["PG_ADMIN_URL", "Target", "db", "pg_admin", "postgres_database", "target"]
