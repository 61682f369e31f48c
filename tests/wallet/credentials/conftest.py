"""Credential tests run on SQLite and PostgreSQL: the storage tests' ``target`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wallet.storage.conftest import Target, target
from wallet.core import UnlockedWallet
from wallet.storage import Database

from .helpers import AsgiFetcher, IssuerWorld, new_wallet, start_issuer

__all__ = ["Target", "target"]


@pytest.fixture
def db(target: Target) -> Iterator[Database]:
    database = target.open()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def wallet(db: Database, now: int) -> UnlockedWallet:
    return new_wallet(db, now=now)


@pytest.fixture
def world(tmp_path: Path, now: int) -> IssuerWorld:
    return start_issuer(tmp_path, now=now)


@pytest.fixture
def fetcher(world: IssuerWorld) -> AsgiFetcher:
    return AsgiFetcher(world.app)
