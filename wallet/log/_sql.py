"""The log's SQL, run on the transaction's own DBAPI cursor (both backends, bound values only).

The log's statements are few and fixed, and one append runs four of them in
the wallet host's read path, so they skip SQLAlchemy's per-statement work
(about 35 µs each) as :mod:`wallet.host.prepared` does for the read: the SQL
is written once with ``?`` placeholders (SQLite's style) and turned into
``%s`` for psycopg. The SQLAlchemy :class:`~sqlalchemy.engine.Connection`
stays the owner of the transaction; a DBAPI error leaves as SQLAlchemy's
:class:`~sqlalchemy.exc.DBAPIError`, so :meth:`wallet.storage.Database.run`
still re-runs a PostgreSQL serialization failure and translates the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class Sql:
    """One statement; ``postgresql`` overrides the text there (e.g. ``FOR UPDATE``)."""

    __slots__ = ("_postgresql", "_sqlite")

    def __init__(self, sqlite: str, postgresql: str | None = None) -> None:
        self._sqlite = sqlite
        self._postgresql = to_format(postgresql if postgresql is not None else sqlite)

    def text(self, conn: Connection) -> str:
        return self._sqlite if conn.dialect.name == "sqlite" else self._postgresql


def to_format(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (the log's SQL holds no other ``?`` or ``%``)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _cursor(conn: Connection, sql: str, params: Sequence[Any], many: bool = False) -> Any:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    error = conn.dialect.loaded_dbapi.Error
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except error as exc:
        cursor.close()
        raise DBAPIError.instance(sql, params, exc, error, dialect=conn.dialect) from exc
    return cursor


def one(conn: Connection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """The first row of a query, or ``None``."""
    cursor = _cursor(conn, sql, params)
    try:
        row: tuple[Any, ...] | None = cursor.fetchone()
    finally:
        cursor.close()
    return row


def rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Every row of a query."""
    cursor = _cursor(conn, sql, params)
    try:
        found: list[tuple[Any, ...]] = cursor.fetchall()
    finally:
        cursor.close()
    return found


def run(conn: Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """A write; the number of rows it touched."""
    cursor = _cursor(conn, sql, params)
    count: int = cursor.rowcount
    cursor.close()
    return count


def run_many(conn: Connection, sql: str, params: Sequence[Sequence[Any]]) -> None:
    """One write statement for each parameter tuple."""
    _cursor(conn, sql, params, many=True).close()


__all__ = [
    "Sql",
    "one",
    "rows",
    "run",
    "run_many",
    "to_format",
]
