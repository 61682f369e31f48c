"""Alembic, run from code at open: no ``alembic.ini``, safe when several processes start at once.

* PostgreSQL: a session-level ``pg_advisory_lock`` serialises the instances, and
  the upgrade runs in one transaction (PostgreSQL has transactional DDL), so a
  crash leaves the schema at the old or the new revision (FI-14).
* SQLite: the upgrade runs inside ``BEGIN EXCLUSIVE``; the second process waits
  (``busy_timeout``), then finds the schema at head and does nothing. SQLite
  DDL is transactional too, so a crash rolls the whole upgrade back.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: pg_advisory_lock key: "regie-wallet-migrate" folded into a signed 64-bit value
_PG_LOCK_KEY = 0x7265676965_2D6D69


def alembic_config() -> Config:
    """An Alembic configuration built in code, pointing into this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of Regie."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to head under a lock; a no-op when it is there already."""
    config = alembic_config()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
            try:
                with conn.begin():
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        else:
            conn.execution_options(regie_sqlite_begin="EXCLUSIVE")
            with conn.begin():
                config.attributes["connection"] = conn
                command.upgrade(config, "head")


__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade_to_head",
]
