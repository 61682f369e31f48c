"""Consent tests run on SQLite and PostgreSQL: the storage tests' ``target`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wallet.storage.conftest import Target, target
from wallet.storage import Database

from .helpers import Setup, setup_wallet

__all__ = ["Target", "target"]


@pytest.fixture
def db(target: Target) -> Iterator[Database]:
    database = target.open()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def setup(db: Database, now: int) -> Setup:
    return setup_wallet(db, now=now)
