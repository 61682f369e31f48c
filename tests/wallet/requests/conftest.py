"""Request tests run on SQLite and PostgreSQL (the storage tests' ``target`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wallet.storage.conftest import Target, target
from wallet.storage import Database

from .helpers import World, make_world

__all__ = ["Target", "target"]


@pytest.fixture
def db(target: Target) -> Iterator[Database]:
    database = target.open()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def world(db: Database, now: int) -> World:
    return make_world(db, now=now)
