"""Hot-path statements: compiled once per dialect, run on the transaction's own DBAPI cursor.

SQLAlchemy Core spends about 35 µs of Python on every statement it executes
(compiled-cache lookup, execution context, parameter and result processing);
the same statement on the DBAPI cursor costs about 1.5 µs. A read runs a few
statements, so :class:`Prepared` keeps a Core statement (the one source of
its SQL), compiles it the first time it meets a dialect and from then on
hands the SQL text and the bound parameters straight to the cursor:

* values are always bound parameters (never formatted into the text); the
  statement's own literals keep the values the compiler gave them;
* the SQLAlchemy :class:`~sqlalchemy.engine.Connection` stays the owner of the
  transaction (BEGIN, the group committer's savepoints, COMMIT, the retry
  of :meth:`wallet.storage.Database.run`): the statement runs inside it, on
  its DBAPI connection;
* a DBAPI error leaves as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`
  (the same subclass and ``orig`` SQLAlchemy would give), so a PostgreSQL
  serialization failure still re-runs the transaction and a constraint
  violation is still :class:`~regie_protocol.errors.Misuse`.

Only for columns whose values need no type processing (strings, integers,
bytes): rows come back as the driver's tuples.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from regie_protocol.errors import Misuse

__all__ = ["Compiled", "Prepared"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement's SQL for one dialect and how to bind its parameters."""

    sql: str
    #: positional parameter names in order (qmark/format styles); ``None`` = named style
    order: tuple[str, ...] | None
    #: values of the parameters the statement itself fixes (its literals)
    fixed: Mapping[str, Any]

    def bind(self, params: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """The DBAPI parameters for ``params`` (every name the statement leaves open)."""
        merged = {**self.fixed, **params} if self.fixed else params
        if self.order is None:
            return merged
        return tuple(map(merged.__getitem__, self.order))


def _compile(statement: ClauseElement, dialect: Dialect) -> Compiled:
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        raise Misuse("only SQL statements can be prepared")
    if compiled.escaped_bind_names:
        raise Misuse("a prepared statement's parameter names must need no escaping")
    used = set(compiled.bind_names.values())
    binds = compiled.binds.items()
    fixed = {
        name: bind.effective_value for name, bind in binds if name in used and not bind.required
    }
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return Compiled(str(compiled), order, fixed)


class Prepared:
    """A Core statement run on the DBAPI cursor; ``build(dialect name)`` makes the statement."""

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, Compiled] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, statement: ClauseElement) -> Prepared:
        """The same statement on every dialect."""
        return cls(lambda _: statement)

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compiled.get(dialect.name)
                if found is None:
                    found = _compile(self._build(dialect.name), dialect)
                    self._compiled[dialect.name] = found
        return found

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run on ``conn``'s DBAPI connection, in its transaction; the DBAPI cursor."""
        compiled = self.compiled(conn.dialect)
        bound = compiled.bind(params)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, bound)
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise DBAPIError.instance(
                compiled.sql, bound, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from exc
        return cursor

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (a tuple), or ``None``."""
        cursor = self.execute(conn, params)
        try:
            row: tuple[Any, ...] | None = cursor.fetchone()
        finally:
            cursor.close()
        return row

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it touched."""
        cursor = self.execute(conn, params)
        count: int = cursor.rowcount
        cursor.close()
        return count
