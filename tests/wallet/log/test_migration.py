"""Migration 0003 adds the log's tables to a wallet database at 0002, keeping its rows; and back."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.wallet.databases import Target
from wallet.storage import current_revision, head_revision
from wallet.storage._migrate import alembic_config, upgrade_to_head
from wallet.storage.models import metadata

LOG_TABLES = {
    "log_head",
    "log_event",
    "log_node",
    "log_checkpoint",
    "log_cosignature",
    "log_reader",
}


def _migrate(target: Target, revision: str, *, down: bool = False) -> None:
    db = target.open(migrate=False)
    try:
        with db.engine.connect() as conn, conn.begin():
            config = alembic_config()
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        db.dispose()


def test_0003_adds_the_log_tables_and_keeps_the_wallets(target: Target) -> None:
    _migrate(target, "0002")
    db = target.open(migrate=False)
    try:
        assert not LOG_TABLES & set(inspect(db.engine).get_table_names())
        db.run(
            lambda c: c.execute(
                text("INSERT INTO wallet VALUES ('w1', 1, :h, :m)"), {"h": b"h", "m": b"m"}
            )
        )
        upgrade_to_head(db.engine)
        assert current_revision(db.engine) == head_revision()
        assert set(inspect(db.engine).get_table_names()) >= LOG_TABLES
        assert db.run(lambda c: c.execute(text("SELECT id FROM wallet")).all()) == [("w1",)]
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("log_event")}
        assert indexes == {
            "ix_log_event_owner_idx",
            "ix_log_event_consent_id",
            "ix_log_event_verifier_id",
        }
        if target.backend == "sqlite":
            schema: dict[str, str] = dict(
                db.run(lambda c: c.execute(text("SELECT name, sql FROM sqlite_master")).all())
            )
            assert schema["log_node"].rstrip().endswith("WITHOUT ROWID")
            # the leaf index is the rowid: one B-tree, no second index
            assert "idx INTEGER NOT NULL" in schema["log_event"]
    finally:
        db.dispose()


def test_0003_downgrades_to_0002(target: Target) -> None:
    _migrate(target, "head")
    _migrate(target, "0002", down=True)
    db = target.open(migrate=False)
    try:
        assert current_revision(db.engine) == "0002"
        assert not LOG_TABLES & set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()
