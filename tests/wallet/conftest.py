"""Every wallet test may ask for a fresh database on SQLite and PostgreSQL: ``target``, ``db``."""

from __future__ import annotations

from tests.wallet.databases import db, target

__all__ = ["db", "target"]
