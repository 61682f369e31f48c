"""Alembic at open: a fresh database is created at head, reopening is a no-op, head == models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from tests.wallet.databases import Target
from wallet.storage import Database, Wallet, current_revision, head_revision
from wallet.storage._migrate import MIGRATIONS_DIR
from wallet.storage.models import metadata

from .conftest import add_wallet

TABLES = {
    "wallet",
    "record",
    "trusted_issuer",
    "registry",
    "consent",
    "consent_event",
    "status_list",
    "status_allocation",
    "consent_request",
    "release",
    "dpop_proof",
    "idempotency_entry",
    "read_refusal",
    "log_head",
    "log_event",
    "log_node",
    "log_checkpoint",
    "log_cosignature",
    "log_reader",
}


def test_fresh_database_is_created_at_head(target: Target) -> None:
    empty = target.open(migrate=False)
    try:
        assert current_revision(empty.engine) is None
    finally:
        empty.dispose()
    db = target.open()
    try:
        assert current_revision(db.engine) == head_revision() == "0003"
        assert set(inspect(db.engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        db.dispose()


def test_reopening_is_a_no_op_and_keeps_rows(target: Target) -> None:
    db = target.open()
    db.run(add_wallet)
    db.dispose()
    again = target.open()
    try:
        assert current_revision(again.engine) == head_revision()
        count = again.run(lambda c: c.execute(select(func.count()).select_from(Wallet)).scalar())
        assert count == 1
    finally:
        again.dispose()


def test_head_equals_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_several_processes_opening_at_once_all_succeed(target: Target) -> None:
    def open_and_check(_: int) -> str | None:
        db = target.open()
        try:
            return current_revision(db.engine)
        finally:
            db.dispose()

    with ThreadPoolExecutor(4) as pool:
        revisions = list(pool.map(open_and_check, range(4)))
    assert revisions == [head_revision()] * 4


def test_migration_files_ship_inside_the_package() -> None:
    # the wheel packages the whole `wallet` directory; Alembic needs these at run time
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
