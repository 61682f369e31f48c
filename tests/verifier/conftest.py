"""A fresh verifier store per test, on SQLite and on PostgreSQL (same server as the wallet's)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.wallet.storage.conftest import PG_ADMIN_URL, _pg_admin
from verifier.store import VerifierStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    if request.param == "sqlite":
        yield tmp_path / "verifier.sqlite3"
        return
    name = f"regie_verifier_{secrets.token_hex(6)}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def store(store_location: str | Path) -> Iterator[VerifierStore]:
    opened = VerifierStore.open(store_location)
    try:
        yield opened
    finally:
        opened.close()
