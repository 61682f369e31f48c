"""Consent tests run on SQLite and PostgreSQL: ``db`` from ``tests/wallet/conftest.py``."""

from __future__ import annotations

import pytest

from wallet.storage import Database

from .helpers import Setup, setup_wallet


@pytest.fixture
def setup(db: Database, now: int) -> Setup:
    return setup_wallet(db, now=now)
