"""The witness's state in SQLite: the logs it trusts, the latest checkpoint it cosigned for each,
and the signed submissions it refused (kept as evidence of a log's misbehaviour).

Tables (one SQLite file; WAL, ``synchronous=FULL`` so no acknowledged cosignature is lost):

* ``trusted_log``: ``origin`` -> the log's verifier key (vkey, type 0x01); an origin may
  have more than one key (a log rotating its key);
* ``latest_checkpoint``: per origin the size, root hash and note (the log's signature and
  this witness's cosignature) of the newest checkpoint cosigned, and when;
* ``refused_submission``: a checkpoint that carried a valid log signature but failed a
  consistency check (a split view, a bad proof): the whole request body, the code, the
  size the witness held. The C2SP tlog-witness spec allows keeping these (they may prove
  that the log misbehaved); nothing here is ever cosigned.

The check of a submission against the stored state and the update are one ``BEGIN
IMMEDIATE`` transaction (:meth:`WitnessStore.check_and_update`): a second submission for
the same witness waits for the first to commit, so two concurrent requests can never roll
the stored size back (the race in the tlog-witness spec). Every call opens its own
connection, so the store is safe to share between threads and between processes that open
the same file. A storage failure is :class:`~regie_protocol.errors.Unavailable`.

Nothing here verifies a signature or a proof: :mod:`audit.witness.checks` decides, this
module keeps.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from regie_protocol.errors import Code, MalformedInput, Misuse, Unavailable
from regie_protocol.tlog.note import NoteVerifier

T = TypeVar("T")

#: the schema version written in ``witness_meta``; a file with another version is refused
SCHEMA_VERSION = 1
#: seconds a writer waits for another writer's transaction before giving up (503)
BUSY_TIMEOUT = 30.0
#: the largest tree size SQLite's signed 64-bit integers hold (C2SP: timestamps too)
MAX_STORED_INT = 2**63 - 1
#: refused submissions kept per origin; the oldest go first beyond this
MAX_REFUSALS_PER_ORIGIN = 10_000
#: the signature type of a log's (checkpoint signer's) key: Ed25519 signed note
LOG_KEY_TYPE = 0x01

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS witness_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS trusted_log (
        origin TEXT NOT NULL,
        vkey TEXT NOT NULL,
        added_at INTEGER NOT NULL,
        PRIMARY KEY (origin, vkey)
    )""",
    """CREATE TABLE IF NOT EXISTS latest_checkpoint (
        origin TEXT PRIMARY KEY,
        size INTEGER NOT NULL CHECK (size >= 0),
        root BLOB NOT NULL CHECK (length(root) = 32),
        note BLOB NOT NULL,
        cosigned_at INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS refused_submission (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        origin TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        old_size INTEGER NOT NULL,
        stored_size INTEGER,
        body BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS ix_refused_submission_origin ON refused_submission (origin, id)",
)


@dataclass(frozen=True, slots=True)
class LatestCheckpoint:
    """The newest checkpoint the witness cosigned for ``origin``."""

    origin: str
    size: int
    root: bytes
    #: the checkpoint note: its body, the log signature(s) verified, this witness's cosignature
    note: bytes
    #: the cosignature's timestamp (POSIX seconds)
    cosigned_at: int


@dataclass(frozen=True, slots=True)
class RefusedSubmission:
    """A validly signed checkpoint the witness refused to cosign (evidence)."""

    origin: str
    received_at: int
    code: Code
    #: the full internal reason (never sent to the client)
    reason: str
    old_size: int
    #: the size the witness held for the origin at the time (None: nothing yet)
    stored_size: int | None
    #: the request body as received
    body: bytes
    id: int | None = None


@dataclass(frozen=True, slots=True)
class TrustedLog:
    """A log the witness cosigns for, with its latest cosigned state (if any)."""

    origin: str
    keys: tuple[NoteVerifier, ...]
    latest: LatestCheckpoint | None


#: what a step of :meth:`WitnessStore.check_and_update` asks to write
Write = LatestCheckpoint | RefusedSubmission | None


class WitnessStore:
    """The witness database at ``path`` (see the module doc). Open with :meth:`open`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, path: Path) -> WitnessStore:
        """Open (creating when new) the witness database at ``path`` and check its schema."""
        store = cls(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with store._connection() as conn:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if str(mode).lower() != "wal":
                raise Unavailable(f"{path}: SQLite would not use WAL (journal mode {mode})")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                row = conn.execute(
                    "SELECT value FROM witness_meta WHERE key = 'schema_version'"
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO witness_meta (key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                elif row[0] != str(SCHEMA_VERSION):
                    raise Unavailable(
                        f"{path} is a witness database of schema {row[0]}; "
                        f"this version reads schema {SCHEMA_VERSION}"
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return store

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open the witness database {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA synchronous = FULL")
            yield conn
        except sqlite3.Error as exc:
            raise Unavailable(f"the witness database {self.path} failed: {exc}") from None
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- trusted logs ------------------------------------------------------------------

    def trust_log(self, log_key: NoteVerifier, *, now: int) -> bool:
        """Trust ``log_key`` for the origin named by it; False when it was trusted already."""
        if log_key.sig_type != LOG_KEY_TYPE:
            raise MalformedInput(
                f"the key of {log_key.name!r} is of signature type {log_key.sig_type:#04x}; "
                f"a log signs its checkpoints with an Ed25519 note key (type {LOG_KEY_TYPE:#04x})",
                code=Code.KEY_INVALID,
            )
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO trusted_log (origin, vkey, added_at) VALUES (?, ?, ?)",
                (log_key.name, log_key.vkey(), now),
            )
            return cursor.rowcount == 1

    def trusted_keys(self, origin: str) -> list[NoteVerifier]:
        """The keys trusted for ``origin`` (empty: the witness does not know the log)."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT vkey FROM trusted_log WHERE origin = ? ORDER BY vkey", (origin,)
            ).fetchall()
        return [NoteVerifier.parse(vkey) for (vkey,) in rows]

    def logs(self) -> list[TrustedLog]:
        """Every trusted log with its keys and latest cosigned checkpoint, by origin."""
        with self._connection() as conn:
            keys = conn.execute("SELECT origin, vkey FROM trusted_log ORDER BY origin, vkey")
            by_origin: dict[str, list[NoteVerifier]] = {}
            for origin, vkey in keys.fetchall():
                by_origin.setdefault(origin, []).append(NoteVerifier.parse(vkey))
            latest = {row.origin: row for row in self._all_latest(conn)}
        return [
            TrustedLog(origin, tuple(verifiers), latest.get(origin))
            for origin, verifiers in by_origin.items()
        ]

    # -- the latest cosigned checkpoint ---------------------------------------------------

    def latest(self, origin: str) -> LatestCheckpoint | None:
        with self._connection() as conn:
            return self._latest(conn, origin)

    @staticmethod
    def _latest(conn: sqlite3.Connection, origin: str) -> LatestCheckpoint | None:
        row = conn.execute(
            "SELECT origin, size, root, note, cosigned_at FROM latest_checkpoint WHERE origin = ?",
            (origin,),
        ).fetchone()
        return None if row is None else LatestCheckpoint(*row)

    @staticmethod
    def _all_latest(conn: sqlite3.Connection) -> list[LatestCheckpoint]:
        rows = conn.execute(
            "SELECT origin, size, root, note, cosigned_at FROM latest_checkpoint ORDER BY origin"
        ).fetchall()
        return [LatestCheckpoint(*row) for row in rows]

    def check_and_update(
        self, origin: str, step: Callable[[LatestCheckpoint | None], tuple[T, Write]]
    ) -> T:
        """Run ``step`` on the stored state of ``origin`` and write what it asks, atomically.

        ``step`` gets the latest cosigned checkpoint (None: none yet) and returns its
        result and what to write: a new :class:`LatestCheckpoint` (which must be for
        ``origin`` and never smaller than the stored one), a :class:`RefusedSubmission`
        to keep, or None. The whole is one ``BEGIN IMMEDIATE`` transaction; an
        exception from ``step`` writes nothing.
        """
        with self._transaction() as conn:
            latest = self._latest(conn, origin)
            result, write = step(latest)
            if isinstance(write, LatestCheckpoint):
                self._advance(conn, origin, latest, write)
            elif isinstance(write, RefusedSubmission):
                self._keep_refusal(conn, write)
        return result

    @staticmethod
    def _advance(
        conn: sqlite3.Connection,
        origin: str,
        latest: LatestCheckpoint | None,
        new: LatestCheckpoint,
    ) -> None:
        # the checks decide; this is the last line against a bug that would roll back
        if new.origin != origin:
            raise Misuse(f"a checkpoint of {new.origin!r} written for {origin!r}")
        if latest is not None and new.size < latest.size:
            raise Misuse(f"the witness was about to roll {origin!r} back")
        conn.execute(
            "INSERT INTO latest_checkpoint (origin, size, root, note, cosigned_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "size = excluded.size, root = excluded.root, note = excluded.note, "
            "cosigned_at = excluded.cosigned_at",
            (new.origin, new.size, new.root, new.note, new.cosigned_at),
        )

    @staticmethod
    def _keep_refusal(conn: sqlite3.Connection, refusal: RefusedSubmission) -> None:
        conn.execute(
            "INSERT INTO refused_submission "
            "(origin, received_at, code, reason, old_size, stored_size, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                refusal.origin,
                refusal.received_at,
                refusal.code.value,
                refusal.reason,
                refusal.old_size,
                refusal.stored_size,
                refusal.body,
            ),
        )
        conn.execute(
            "DELETE FROM refused_submission WHERE origin = ? AND id NOT IN "
            "(SELECT id FROM refused_submission WHERE origin = ? ORDER BY id DESC LIMIT ?)",
            (refusal.origin, refusal.origin, MAX_REFUSALS_PER_ORIGIN),
        )

    # -- evidence -------------------------------------------------------------------------

    def refusals(self, origin: str | None = None) -> list[RefusedSubmission]:
        """The refused submissions kept (of ``origin``, else all), oldest first."""
        query = (
            "SELECT origin, received_at, code, reason, old_size, stored_size, body, id "
            "FROM refused_submission"
        )
        with self._connection() as conn:
            if origin is None:
                rows = conn.execute(query + " ORDER BY id").fetchall()
            else:
                rows = conn.execute(query + " WHERE origin = ? ORDER BY id", (origin,)).fetchall()
        return [
            RefusedSubmission(o, at, Code(code), reason, old, stored, body, row_id)
            for (o, at, code, reason, old, stored, body, row_id) in rows
        ]


__all__ = [
    "BUSY_TIMEOUT",
    "LOG_KEY_TYPE",
    "MAX_REFUSALS_PER_ORIGIN",
    "MAX_STORED_INT",
    "SCHEMA_VERSION",
    "LatestCheckpoint",
    "RefusedSubmission",
    "TrustedLog",
    "WitnessStore",
    "Write",
]
