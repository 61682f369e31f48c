"""A fresh verifier store per test, on SQLite and on PostgreSQL (same server as the wallet's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wallet.databases import postgres_database
from verifier.store import VerifierStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    if request.param == "sqlite":
        yield tmp_path / "verifier.sqlite3"
        return
    with postgres_database("regie_verifier") as (_name, url):
        yield url


@pytest.fixture
def store(store_location: str | Path) -> Iterator[VerifierStore]:
    opened = VerifierStore.open(store_location)
    try:
        yield opened
    finally:
        opened.close()
