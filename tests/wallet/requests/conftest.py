"""Request tests run on SQLite and PostgreSQL: ``db`` from ``tests/wallet/conftest.py``."""

from __future__ import annotations

import pytest

from wallet.storage import Database

from .helpers import World, make_world


@pytest.fixture
def world(db: Database, now: int) -> World:
    return make_world(db, now=now)
