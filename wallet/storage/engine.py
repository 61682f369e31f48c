"""Open the wallet's database and run transactions on it.

SQLite (default, ``<home>/wallet.sqlite3``) gets on every connection:
``journal_mode=WAL``, ``synchronous=FULL`` (no acknowledged commit lost on
power failure, T30), ``foreign_keys=ON``, ``secure_delete=ON`` (deleted rows
are zeroed, T27) and a ``busy_timeout``. Write transactions start with
``BEGIN IMMEDIATE``: writers queue for the lock up front instead of failing at
their first write, so no update is lost and no retry is needed.

PostgreSQL (``REGIE_DATABASE_URL``, psycopg 3) runs every transaction at
``SERIALIZABLE``: a wallet host checks a consent's status and records the read
in one transaction on several stateless instances, and SERIALIZABLE makes any
interleaving equal to some serial order without hand-placed row locks (T18).
The price is serialization failures (SQLSTATE 40001, and deadlocks 40P01):
:meth:`Database.run` re-runs the whole unit of work a bounded number of times;
the :meth:`Database.transaction` context manager cannot re-run its body and
raises :class:`Unavailable` instead. At open, the server's durability settings
are checked (``fsync``, ``synchronous_commit``, ``full_page_writes``, and
``data_sync_retry`` off).

Errors leave as Regie's tree: a constraint violation is :class:`Misuse` (the
caller wrote what the schema forbids, e.g. a reused status index); a
connection, lock or conflict failure is :class:`Unavailable`.

Hot paths: :meth:`Database.run` and :meth:`Database.connect` hand out a Core
``Connection`` (no ORM session to build); :meth:`Database.transaction` gives a
SQLModel ``Session`` for code that is not hot.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import Executable
from sqlmodel import Session

from regie_protocol.errors import Misuse, Unavailable

from ._migrate import upgrade_to_head
from ._turns import WriterTurns
from ._url import mask, resolve_url

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: how long a SQLite writer waits for the lock before giving up
DEFAULT_BUSY_TIMEOUT_MS = 10_000
#: how many times :meth:`Database.run` tries a unit of work on serialization failure
DEFAULT_ATTEMPTS = 24
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
_PG_DURABILITY = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "data_sync_retry": "off",
}
_BEGIN_OPTION = "regie_sqlite_begin"
#: PostgreSQL: the first statement of every write transaction (see Database._connected)
_LOCK_LOG = "LOCK TABLE log_head IN EXCLUSIVE MODE"


class Database:
    """An open wallet database (one engine and its pool). Thread-safe; share one per process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.backend: Literal["sqlite", "postgresql"] = (
            "sqlite" if engine.dialect.name == "sqlite" else "postgresql"
        )
        database = engine.url.database
        #: SQLite: writers take turns, so a stream of group commits cannot starve
        #: a revocation (see :mod:`wallet.storage._turns`)
        self._turns = (
            WriterTurns(Path(database))
            if self.backend == "sqlite" and database and database != ":memory:"
            else None
        )
        #: PostgreSQL: whether ``log_head`` exists (every write transaction locks it first)
        self._log_table = False

    def __repr__(self) -> str:
        return f"Database({mask(self._engine.url)!r})"

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return mask(self._engine.url)

    # --- transactions ---

    @contextmanager
    def connect(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction on a Core connection: committed at the end, rolled back on error.

        No retry (a context body cannot be re-run): prefer :meth:`run` on PostgreSQL.
        """
        try:
            with self._begin(write) as conn:
                yield conn
        except DBAPIError as exc:
            raise _translate(exc) from exc

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction through a SQLModel ``Session``.

        Committed when the block ends; ``session.commit()`` inside only flushes.
        """
        with self.connect(write=write) as conn, Session(bind=conn, expire_on_commit=False) as s:
            yield s
            s.flush()

    def run(
        self,
        work: Callable[[Connection], T],
        *,
        write: bool = True,
        attempts: int = DEFAULT_ATTEMPTS,
        background: bool = False,
    ) -> T:
        """Run ``work`` in one transaction, re-running it on a serialization failure.

        ``work`` must have no effect outside the database (it may run more than once).
        ``background`` marks a writer that may run back to back (the group
        committer): on SQLite it lets every other writer go first.
        """
        if attempts < 1:
            raise Misuse("attempts must be at least 1")
        for attempt in range(attempts):
            try:
                with self._begin(write, background=background) as conn:
                    return work(conn)
            except DBAPIError as exc:
                if _retryable(exc) and attempt + 1 < attempts:
                    _backoff(attempt)
                    continue
                raise _translate(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def run_session(
        self, work: Callable[[Session], T], *, write: bool = True, attempts: int = DEFAULT_ATTEMPTS
    ) -> T:
        """:meth:`run` with a SQLModel ``Session`` instead of a Core connection."""

        def in_session(conn: Connection) -> T:
            with Session(bind=conn, expire_on_commit=False) as session:
                result = work(session)
                session.flush()
                return result

        return self.run(in_session, write=write, attempts=attempts)

    def execute(self, statement: Executable, params: Mapping[str, Any] | None = None) -> int:
        """One write statement in its own transaction (with retry); the number of rows touched."""
        return self.run(lambda conn: conn.execute(statement, params).rowcount)

    def fetch_all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[RowMapping]:
        """One read statement in its own transaction; the rows as mappings."""
        return self.run(lambda conn: conn.execute(statement, params).mappings().all(), write=False)

    # --- maintenance and checks ---

    def checkpoint_truncate(self) -> None:
        """SQLite: copy the WAL into the database and truncate it (after deletions, T27).

        With ``secure_delete`` the deleted rows are then gone from both files.
        Raises :class:`Unavailable` when a reader blocks the checkpoint. No-op on
        PostgreSQL (dead tuples go with VACUUM; crypto-shredding is the control there).
        """
        if self.backend != "sqlite":
            return
        busy, _, _ = self._sqlite_pragma("wal_checkpoint(TRUNCATE)")
        if busy:
            raise Unavailable("WAL checkpoint blocked by an open reader; try again")

    def integrity_check(self) -> None:
        """SQLite ``integrity_check`` and ``foreign_key_check``; :class:`Unavailable` if not ok."""
        if self.backend != "sqlite":
            return
        (result,) = self._sqlite_pragma("integrity_check")
        if result != "ok":
            raise Unavailable(f"SQLite integrity check failed: {result}")
        with self._engine.connect() as conn:
            bad = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if bad:
            raise Unavailable(f"SQLite foreign key check failed: {len(bad)} rows")

    def settings(self) -> dict[str, str]:
        """The durability-related settings in force, as the server reports them."""
        with self._engine.connect() as conn:
            if self.backend == "sqlite":
                return {
                    name: str(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())
                    for name in (
                        "journal_mode",
                        "synchronous",
                        "foreign_keys",
                        "secure_delete",
                        "busy_timeout",
                    )
                }
            rows = conn.execute(
                text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                {"names": sorted(_PG_DURABILITY)},
            )
            return {str(name): str(value) for name, value in rows}

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    # --- inside ---

    @contextmanager
    def _begin(self, write: bool, *, background: bool = False) -> Iterator[Connection]:
        if write and self._turns is not None:
            if background:
                self._turns.wait_turn()
            else:
                with self._turns.foreground(), self._connected(write) as conn:
                    yield conn
                return
        with self._connected(write) as conn:
            yield conn

    @contextmanager
    def _connected(self, write: bool) -> Iterator[Connection]:
        lock_log = write and self.backend == "postgresql" and self._has_log()
        with self._engine.connect() as conn:
            if not write and self.backend == "sqlite":
                conn.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
            with conn.begin():
                if lock_log:
                    # the first statement, before the snapshot: writers append to the one
                    # log head in turn instead of failing to serialize on it (decision 0010)
                    conn.exec_driver_sql(_LOCK_LOG)
                yield conn

    def _has_log(self) -> bool:
        """Whether the log's head table exists yet (it does once migrated; then cached).

        Asked in a transaction of its own: a query in the writer's transaction
        before the lock would take that transaction's snapshot too early.
        """
        if not self._log_table:
            with self._engine.connect() as conn:
                found = conn.exec_driver_sql("SELECT to_regclass('log_head') IS NOT NULL")
                self._log_table = bool(found.scalar())
                conn.rollback()
        return self._log_table

    def _sqlite_pragma(self, pragma: str) -> tuple[Any, ...]:
        raw = self._engine.raw_connection()
        try:
            cursor = raw.cursor()
            row = cursor.execute(f"PRAGMA {pragma}").fetchone()
            cursor.close()
        finally:
            raw.close()
        return tuple(row)


def open_database(
    url: str | None,
    *,
    home: Path,
    migrate: bool = True,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    unsafe_allow_non_durable: bool = False,
) -> Database:
    """Open (create if needed) and migrate the wallet database.

    ``url`` is ``None`` for ``<home>/wallet.sqlite3`` (see
    :func:`~wallet.storage.url_from_environment`), else a PostgreSQL or SQLite
    URL. Refuses a PostgreSQL server whose settings could lose acknowledged
    commits unless ``unsafe_allow_non_durable``.
    """
    resolved = resolve_url(url, home=home)
    if resolved.drivername == "sqlite":
        engine = _sqlite_engine(resolved, busy_timeout_ms)
    else:
        engine = create_engine(
            resolved,
            isolation_level="SERIALIZABLE",
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "application_name": "regie-wallet"},
        )
    db = Database(engine)
    try:
        if db.backend == "postgresql" and not unsafe_allow_non_durable:
            _check_pg_durability(db)
        if migrate:
            upgrade_to_head(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise _translate(exc) from exc
    except BaseException:
        engine.dispose()
        raise
    logger.debug("opened %s", db.url)
    return db


def _sqlite_engine(url: URL, busy_timeout_ms: int) -> Engine:
    path = Path(url.database or "")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # create the file private before SQLite does (the -wal and -shm files copy its mode)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise Unavailable(f"SQLite refused WAL mode for {path} (got {mode})")
        for pragma in ("synchronous = FULL", "foreign_keys = ON", "secure_delete = ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute("PRAGMA trusted_schema = OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _check_pg_durability(db: Database) -> None:
    found = db.settings()
    wrong = {k: found.get(k) for k, v in _PG_DURABILITY.items() if k in found and found[k] != v}
    if wrong:
        listed = ", ".join(f"{k}={v} (need {_PG_DURABILITY[k]})" for k, v in wrong.items())
        raise Misuse(
            f"PostgreSQL at {db.url} could lose acknowledged commits: {listed}; "
            "fix the server configuration"
        )


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _retryable(exc: DBAPIError) -> bool:
    return _sqlstate(exc) in _RETRY_SQLSTATES


def _backoff(attempt: int) -> None:
    # "full jitter": a random wait up to an exponentially growing, capped bound
    bound = min(0.25, 0.004 * 2**attempt)
    time.sleep(bound * (secrets.randbelow(1000) + 1) / 1000)


def _translate(exc: DBAPIError) -> Misuse | Unavailable:
    orig = exc.orig
    if isinstance(exc, IntegrityError):
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None)
        what = name or str(orig).splitlines()[0]
        return Misuse(f"the database refused the write: constraint {what}")
    if _retryable(exc):
        return Unavailable("the transaction conflicted with a concurrent one; try again")
    first = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    return Unavailable(f"database error ({type(orig).__name__}): {first}")


__all__ = ["DEFAULT_ATTEMPTS", "DEFAULT_BUSY_TIMEOUT_MS", "Database", "open_database"]
