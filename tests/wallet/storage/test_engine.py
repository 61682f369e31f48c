"""Opening: URL forms, masked passwords, the settings in force on both backends."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from regie_protocol.errors import Code, Misuse
from wallet.storage import Database, open_database, url_from_environment
from wallet.storage._url import resolve_url


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_sqlite_pragmas_in_force_on_every_connection(db: Database) -> None:
    conns = [db.engine.connect() for _ in range(3)]  # three pooled connections at once
    try:
        for conn in conns:
            got = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                for name in ("journal_mode", "synchronous", "foreign_keys", "secure_delete")
            }
            assert got == {
                "journal_mode": "wal",
                "synchronous": 2,
                "foreign_keys": 1,
                "secure_delete": 1,
            }
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() > 0
            conn.rollback()
    finally:
        for conn in conns:
            conn.close()
    assert db.settings()["synchronous"] == "2"  # FULL
    db.integrity_check()


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    db = open_database(None, home=tmp_path / "home")
    try:
        mode = stat.S_IMODE((tmp_path / "home" / "wallet.sqlite3").stat().st_mode)
        assert mode == 0o600
        assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    finally:
        db.dispose()


@pytest.mark.parametrize("target", ["postgresql"], indirect=True)
def test_postgresql_durability_settings(db: Database) -> None:
    assert db.settings() == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
        "data_sync_retry": "off",
    }
    with db.connect() as conn:
        level = conn.execute(text("SHOW transaction_isolation")).scalar_one()
    assert level == "serializable"


def test_repr_masks_the_password(tmp_path: Path) -> None:
    url = "postgresql://regie:hunter2@127.0.0.1:5432/x"
    db = open_database(url, home=tmp_path, migrate=False, unsafe_allow_non_durable=True)
    try:
        assert "hunter2" not in repr(db)
        assert "hunter2" not in db.url
        assert "***" in db.url
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        pytest.param("postgresql://u:p@h/db", "postgresql+psycopg", id="postgresql"),
        pytest.param("postgres://u@h:5433/db", "postgresql+psycopg", id="postgres"),
        pytest.param("postgresql+psycopg://u@h/db", "postgresql+psycopg", id="psycopg"),
        pytest.param("sqlite:////var/lib/regie/w.sqlite3", "sqlite", id="sqlite-absolute"),
        pytest.param(None, "sqlite", id="default-file"),
    ],
)
def test_accepted_urls(given: str | None, driver: str, tmp_path: Path) -> None:
    assert resolve_url(given, home=tmp_path).drivername == driver


def test_default_is_the_home_file(tmp_path: Path) -> None:
    assert resolve_url(None, home=tmp_path).database == str(tmp_path / "wallet.sqlite3")


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("mysql://u:s3cret@h/db", id="mysql"),
        pytest.param("postgresql+psycopg2://u:s3cret@h/db", id="psycopg2-driver"),
        pytest.param("postgresql://u:s3cret@h/", id="no-database"),
        pytest.param("sqlite://", id="sqlite-memory-default"),
        pytest.param("sqlite:///:memory:", id="sqlite-memory"),
        pytest.param("sqlite:///relative.db", id="sqlite-relative"),
        pytest.param("u:s3cret@h/db", id="no-scheme"),
        pytest.param("", id="empty"),
    ],
)
def test_refused_urls_name_the_accepted_forms(given: str, tmp_path: Path) -> None:
    assert resolve_url("postgresql://u@h/db", home=tmp_path)  # positive control
    with pytest.raises(Misuse) as info:
        resolve_url(given, home=tmp_path)
    assert info.value.code is Code.MISUSE
    assert "accepted:" in info.value.message
    assert "s3cret" not in info.value.message


def test_url_from_environment() -> None:
    assert url_from_environment({}) is None
    assert url_from_environment({"REGIE_DATABASE_URL": "  "}) is None
    assert url_from_environment({"REGIE_DATABASE_URL": "postgresql://h/d"}) == "postgresql://h/d"
