"""Credential tests run on SQLite and PostgreSQL: ``db`` from ``tests/wallet/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from wallet.core import UnlockedWallet
from wallet.storage import Database

from .helpers import AsgiFetcher, IssuerWorld, new_wallet, start_issuer


@pytest.fixture
def wallet(db: Database, now: int) -> UnlockedWallet:
    return new_wallet(db, now=now)


@pytest.fixture
def world(tmp_path: Path, now: int) -> IssuerWorld:
    return start_issuer(tmp_path, now=now)


@pytest.fixture
def fetcher(world: IssuerWorld) -> AsgiFetcher:
    return AsgiFetcher(world.app)
