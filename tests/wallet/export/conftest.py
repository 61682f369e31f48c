"""Export tests run on SQLite and PostgreSQL (``db`` from ``tests/wallet/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wallet.databases import Target
from wallet.storage import Database

from .helpers import sibling


@pytest.fixture
def other_db(target: Target) -> Iterator[Database]:
    """An empty database on the same backend: the other machine."""
    with sibling(target) as other:
        database = other.open()
        try:
            yield database
        finally:
            database.dispose()
