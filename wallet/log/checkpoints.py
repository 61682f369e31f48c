"""Sign checkpoints of the consent log, never two of one size, never one that rewrites history.

::

    state = PublishedState(home / "log-published.json")
    row = db.run(lambda conn: sign_checkpoint(conn, key, now=now, state=state))
    state.record(row)                       # only after the transaction committed

:func:`sign_checkpoint` signs the log's current tree head in the caller's
transaction and stores the note (``log_checkpoint``, one row per size: a size
that has a checkpoint gets that one back). Before it signs, the new tree must
extend what the log already signed, checked against two copies:

* the latest checkpoint stored in the database (its signed note, checked with
  the log key, not the bare ``root`` column); and
* the last checkpoint recorded in :class:`PublishedState`, a small file
  outside the database (T20): a database restored from an old backup, or with
  its tail deleted, still holds consistent rows, and only this copy shows the
  log once had more.

"Extends" is checked as any monitor would: the size is not smaller, and the
consistency proof from the old size, built from the stored nodes, verifies
against the old root (:func:`~regie_protocol.tlog.merkle.verify_consistency`);
the root from the nodes must also equal the head's frontier root. Otherwise
:class:`~regie_protocol.errors.LogRefused` (``LOG_ROLLBACK``: smaller;
``LOG_INCONSISTENT``: rewritten) and nothing is signed: a host that lost or
changed its history stops issuing checkpoints (and with them read receipts)
until an operator looks.

:meth:`PublishedState.record` runs after the commit, so a rolled-back
transaction never advances it; a crash between commit and record leaves it one
checkpoint behind, which is harmless. Checkpoints signed between two records
(several per second under load: every read batch signs one for its receipts)
are guarded by the database copy only; the file guards what was recorded.
Witnesses (their cosignatures are stored with :func:`add_cosignature`) guard
what they saw, independently of this host.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from regie_protocol.errors import Code, LogRefused, MalformedInput, Misuse, RegieError
from regie_protocol.private_files import write_private_file
from regie_protocol.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    with_cosignatures,
)
from regie_protocol.tlog.checkpoint import sign_checkpoint as sign_note
from regie_protocol.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    NodeId,
    build,
    consistency_plan,
    fold,
    root_plan,
    verify_consistency,
)
from regie_protocol.tlog.note import NoteKey, NoteVerifier, parse_note, parse_signature_line
from regie_protocol.tlog.receipt import Receipt

from . import _sql, store
from ._sql import Sql
from .appender import ensure_log

#: the published-state file's format name and version
STATE_FORMAT = "regie-log-published"
STATE_VERSION = 1
#: the default file name, beside the log key in the wallet home
STATE_FILE_NAME = "log-published.json"
#: a cosignature line at most, and a witness name
MAX_COSIGNATURE_LINE = 1024
MAX_WITNESS_NAME = 256
_MAX_STATE_BYTES = 4096

_LATEST = Sql("SELECT size, note, signed_at FROM log_checkpoint ORDER BY size DESC LIMIT 1")
_AT_OR_AFTER = Sql(
    "SELECT size, note, signed_at FROM log_checkpoint WHERE size >= ? ORDER BY size LIMIT 1"
)
_INSERT = Sql(
    "INSERT INTO log_checkpoint (size, root, note, signed_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (size) DO NOTHING"
)
_AT = Sql("SELECT size, note, signed_at FROM log_checkpoint WHERE size = ?")
_COSIGNATURES = Sql("SELECT line FROM log_cosignature WHERE size = ? ORDER BY at, witness")
_HAS_CHECKPOINT = Sql("SELECT 1 FROM log_checkpoint WHERE size = ?")
_COSIGN = Sql(
    "INSERT INTO log_cosignature (size, witness, line, at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (size, witness) DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint the log signed: ``note`` is the signed note (with cosignatures when asked)."""

    origin: str
    size: int
    root: bytes
    note: bytes
    signed_at: int


@dataclass(frozen=True, slots=True)
class Published:
    """The last checkpoint recorded outside the database."""

    origin: str
    size: int
    root: bytes


class PublishedState:
    """The file outside the database that holds the last recorded checkpoint (T20).

    ``{"format": "regie-log-published", "version": 1, "origin", "size", "root"}``
    (``root`` standard base64). It only moves forward: :meth:`record` keeps
    the larger size, under a lock on the file shared by every process on this
    machine, and writes atomically (0600, fsync). A missing file is an empty
    state (a new host). A damaged one refuses every signature until fixed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._cached: Published | None = None

    def __repr__(self) -> str:
        return f"PublishedState({str(self.path)!r})"

    def current(self) -> Published | None:
        """The recorded checkpoint (re-read when the file changed), or ``None``."""
        with self._lock:
            return self._load()

    def record(self, row: StoredCheckpoint) -> None:
        """Record ``row`` (a committed checkpoint) if it is newer than the recorded one.

        Refuses (``LOG_INCONSISTENT``) a checkpoint of the recorded size with another root.
        """
        with self._lock, self._file_lock():
            self._seen = None
            found = self._load()
            if found is not None:
                if found.origin != row.origin:
                    raise LogRefused(
                        f"{self.path} records the log {found.origin!r}, not {row.origin!r}",
                        code=Code.LOG_INCONSISTENT,
                    )
                if found.size == row.size and found.root != row.root:
                    raise LogRefused(
                        f"two different roots recorded for size {row.size}",
                        code=Code.LOG_SPLIT_VIEW,
                    )
                if found.size >= row.size:
                    return
            document = {
                "format": STATE_FORMAT,
                "version": STATE_VERSION,
                "origin": row.origin,
                "size": row.size,
                "root": base64.b64encode(row.root).decode("ascii"),
            }
            write_private_file(self.path, json.dumps(document, indent=2) + "\n")
            self._seen = None

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self.path.with_name(f".{self.path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _load(self) -> Published | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._seen, self._cached = None, None
            return None
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if seen != self._seen:
            self._cached = self._parse(self.path.read_bytes())
            self._seen = seen
        return self._cached

    def _parse(self, raw: bytes) -> Published:
        def damaged(why: str) -> LogRefused:
            return LogRefused(
                f"the published log state {self.path} is damaged ({why}); restore it from a "
                "backup or from the last checkpoint the witnesses saw",
                code=Code.LOG_INCONSISTENT,
            )

        if len(raw) > _MAX_STATE_BYTES:
            raise damaged("too large")
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise damaged("not JSON") from None
        if not isinstance(value, dict) or value.get("format") != STATE_FORMAT:
            raise damaged(f"not a {STATE_FORMAT} document")
        if value.get("version") != STATE_VERSION:
            raise damaged(f"version {value.get('version')!r} is not {STATE_VERSION}")
        origin, size, root = value.get("origin"), value.get("size"), value.get("root")
        if not isinstance(origin, str) or not origin:
            raise damaged("no origin")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise damaged("no size")
        try:
            digest = base64.b64decode(str(root), validate=True)
        except (binascii.Error, ValueError):
            raise damaged("the root is not base64") from None
        if len(digest) != HASH_SIZE or (size == 0 and digest != EMPTY_ROOT):
            raise damaged("the root is not a tree hash")
        return Published(origin, size, digest)


#: notes known signed by a log key (this process signed or verified them): note -> checkpoint.
#: A pure memo of the signature check (the exact bytes are the key), bounded, so the
#: latest checkpoint is verified once and not on every signature.
_KNOWN: dict[tuple[NoteVerifier, bytes], Checkpoint] = {}
_KNOWN_MAX = 64


def _remember(verifier: NoteVerifier, note: bytes, checkpoint: Checkpoint) -> None:
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[(verifier, note)] = checkpoint


def _opened(verifier: NoteVerifier, found: tuple[object, ...]) -> StoredCheckpoint:
    """A stored row whose note the log key verifies; its root from the signed text."""
    size, note, signed_at = found
    data = str(note).encode("utf-8")
    checkpoint = _KNOWN.get((verifier, data))
    if checkpoint is None:
        try:
            checkpoint = open_checkpoint(data, verifier).checkpoint
        except RegieError as exc:
            raise LogRefused(
                f"the stored checkpoint of size {size} is not one this log key signed: {exc}",
                code=Code.LOG_INCONSISTENT,
            ) from None
        _remember(verifier, data, checkpoint)
    if checkpoint.size != size:
        raise LogRefused(
            f"the stored checkpoint of size {size} says {checkpoint.size}",
            code=Code.LOG_INCONSISTENT,
        )
    return StoredCheckpoint(
        checkpoint.origin, checkpoint.size, checkpoint.root, data, int(str(signed_at))
    )


def _extends(
    size: int,
    root: bytes,
    nodes: dict[NodeId, bytes],
    old_size: int,
    old_root: bytes,
    what: str,
) -> None:
    """Refuse unless the tree ``(size, root)`` extends ``(old_size, old_root)``."""
    if old_size > size:
        raise LogRefused(
            f"the log has {size} entries but {what} has {old_size}: "
            "entries were removed (a database rollback?); nothing is signed",
            code=Code.LOG_ROLLBACK,
        )
    if old_size == 0:
        return
    proof = build(consistency_plan(old_size, size), nodes) if old_size < size else []
    try:
        verify_consistency(old_size, size, proof, old_root, root)
    except LogRefused as exc:
        raise LogRefused(
            f"the log of {size} entries does not extend {what} of {old_size} entries "
            f"({exc.message}): stored entries were changed; nothing is signed",
            code=Code.LOG_INCONSISTENT,
        ) from None


def _checked_root(
    conn: Connection,
    tree: store.TreeHead,
    earlier: Sequence[tuple[str, StoredCheckpoint | Published]],
) -> bytes:
    """The root of ``tree`` from the stored nodes, once it extends every ``earlier`` checkpoint.

    One node query: the root's nodes and every consistency proof's.
    """
    size = tree.size
    plans: list[Sequence[NodeId]] = [root_plan(size)] if size else []
    for _, old in earlier:
        if 0 < old.size < size:
            plans.extend(consistency_plan(old.size, size))
    nodes = store.node_hashes(conn, (node for plan in plans for node in plan)).nodes
    try:
        root = fold([nodes[node] for node in root_plan(size)]) if size else EMPTY_ROOT
        if root != tree.root:
            raise LogRefused(
                f"the stored nodes of the log of {size} entries disagree with its head; "
                "nothing is signed",
                code=Code.LOG_INCONSISTENT,
            )
        for what, old in earlier:
            _extends(size, root, nodes, old.size, old.root, what)
    except (KeyError, Misuse) as exc:  # a node the root or a proof needs is missing
        raise LogRefused(
            f"the log of {size} entries lacks stored nodes ({exc}); nothing is signed",
            code=Code.LOG_INCONSISTENT,
        ) from None
    return root


def sign_checkpoint(
    conn: Connection, key: NoteKey, *, now: int, state: PublishedState | None
) -> StoredCheckpoint:
    """Sign and store a checkpoint of the log's current head (the stored one if its size has one).

    In the caller's transaction; creates the empty log (origin = the key's name)
    if there is none. Refused (``LOG_ROLLBACK``, ``LOG_INCONSISTENT``) when the
    head does not extend the latest stored checkpoint or the one in ``state``.
    """
    verifier = key.verifier()
    tree = store.head(conn)  # not locked: the tree of this transaction's snapshot is signed
    if tree is None:
        ensure_log(conn, now=now, origin=key.name)
        tree = store.head(conn)
        if tree is None:  # pragma: no cover - ensure_log made it
            raise Misuse("the log has no head")
    origin, size = tree.origin, tree.size
    if key.name != origin:
        raise Misuse(f"the log's origin is {origin!r}: the key {key.name!r} cannot sign for it")
    earlier: list[tuple[str, StoredCheckpoint | Published]] = []
    latest_row = _sql.one(conn, _LATEST.text(conn))
    latest = _opened(verifier, latest_row) if latest_row is not None else None
    if latest is not None:
        earlier.append(("its latest checkpoint", latest))
    published = state.current() if state is not None else None
    if state is not None and published is not None:
        if published.origin != origin:
            raise LogRefused(
                f"{state.path} records the log {published.origin!r}; this log is {origin!r}",
                code=Code.LOG_INCONSISTENT,
            )
        earlier.append((f"the published state {state.path}", published))
    root = _checked_root(conn, tree, earlier)
    if latest is not None and latest.size == size:
        return latest
    checkpoint = Checkpoint(origin, size, root)
    note = sign_note(checkpoint, key)
    _remember(verifier, note, checkpoint)
    inserted = _sql.run(conn, _INSERT.text(conn), (size, root, note.decode("utf-8"), now))
    if inserted != 1:  # a concurrent transaction signed this size first: use its checkpoint
        found = _sql.one(conn, _AT.text(conn), (size,))
        if found is None:  # pragma: no cover - the conflict says it exists
            raise Misuse(f"no checkpoint of size {size} after a conflict on it")
        return _opened(verifier, found)
    return StoredCheckpoint(origin, size, root, note, now)


def _with_cosignatures(conn: Connection, found: tuple[object, ...]) -> StoredCheckpoint:
    size, note, signed_at = found
    lines = [str(line) for (line,) in _sql.rows(conn, _COSIGNATURES.text(conn), (size,))]
    text = str(note).encode("utf-8")
    checkpoint = Checkpoint.parse_body(parse_note(text).text)
    if lines:
        text = with_cosignatures(text, lines)
    return StoredCheckpoint(
        checkpoint.origin, checkpoint.size, checkpoint.root, text, int(str(signed_at))
    )


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    """The newest stored checkpoint, its witnesses' cosignature lines appended to the note."""
    found = _sql.one(conn, _LATEST.text(conn))
    return None if found is None else _with_cosignatures(conn, found)


def checkpoint_at_or_after(conn: Connection, size: int) -> StoredCheckpoint | None:
    """The smallest stored checkpoint of at least ``size`` entries (with cosignatures), if any."""
    found = _sql.one(conn, _AT_OR_AFTER.text(conn), (size,))
    return None if found is None else _with_cosignatures(conn, found)


def add_cosignature(conn: Connection, size: int, *, witness: str, line: str, now: int) -> bool:
    """Keep ``witness``'s cosignature ``line`` on the checkpoint of ``size`` (``False``: had one).

    The caller has verified the line with the witness's key (e.g.
    :func:`~regie_protocol.tlog.checkpoint.open_checkpoint` on the note with the
    line). The first line kept per witness and size stays.
    """
    if not witness or len(witness) > MAX_WITNESS_NAME:
        raise Misuse(f"a witness name has 1..{MAX_WITNESS_NAME} characters")
    if len(line) > MAX_COSIGNATURE_LINE:
        raise MalformedInput(f"a cosignature line is at most {MAX_COSIGNATURE_LINE} characters")
    parse_signature_line(line)  # one well-formed signature line
    text = line if line.endswith("\n") else line + "\n"
    if _sql.one(conn, _HAS_CHECKPOINT.text(conn), (size,)) is None:
        raise Misuse(f"the log signed no checkpoint of size {size}")
    return _sql.run(conn, _COSIGN.text(conn), (size, witness, text, now)) == 1


def receipts(
    conn: Connection,
    indices: Iterable[int],
    key: NoteKey,
    *,
    now: int,
    state: PublishedState | None,
) -> dict[int, str]:
    """tlog-proof receipts of entries ``indices`` against a checkpoint of the current head.

    For the end of a read batch, in its transaction (the checkpoint is signed,
    or reused, by :func:`sign_checkpoint`; hand the receipts out only after the
    commit, then :meth:`PublishedState.record` the checkpoint).
    """
    row = sign_checkpoint(conn, key, now=now, state=state)
    proofs = store.inclusion_proofs(conn, indices, row.size)
    return {
        index: Receipt(index=index, proof=tuple(proof), checkpoint=row.note).render()
        for index, proof in proofs.items()
    }


def receipt(conn: Connection, index: int) -> str | None:
    """A receipt of entry ``index`` against the newest stored checkpoint (cosignatures included).

    ``None`` when no stored checkpoint covers the entry yet (sign one first).
    """
    row = latest_checkpoint(conn)
    if row is None or row.size <= index:
        return None
    proof = store.inclusion_proof(conn, index, row.size)
    return Receipt(index=index, proof=tuple(proof), checkpoint=row.note).render()


__all__ = [
    "MAX_COSIGNATURE_LINE",
    "STATE_FILE_NAME",
    "STATE_FORMAT",
    "STATE_VERSION",
    "Published",
    "PublishedState",
    "StoredCheckpoint",
    "add_cosignature",
    "checkpoint_at_or_after",
    "latest_checkpoint",
    "receipt",
    "receipts",
    "sign_checkpoint",
]
