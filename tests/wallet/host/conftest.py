"""Wallet host tests: a real wallet and host app, on SQLite and (``world``) PostgreSQL too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wallet.databases import Target

from .world import World, make_world


@pytest.fixture
def world(target: Target) -> Iterator[World]:
    """The world on each backend (SQLite, PostgreSQL)."""
    with make_world(target) as built:
        yield built


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    """The world on SQLite only (for what does not depend on the backend)."""
    with make_world(Target("sqlite", None, tmp_path)) as built:
        yield built
