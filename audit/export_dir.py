"""The log export directory: read it in big chunks, write it atomically.

::

    DIR/log.json         {"format": "regie-log-export", "version": 1, "origin": ..., "size": N}
    DIR/checkpoint.txt   the signed checkpoint of size N (with any witness cosignatures)
    DIR/events.jsonl     N lines: event i's exact canonical bytes, or an empty line when the
                         exporter may not see event i
    DIR/leaf-hashes.bin  N * 32 bytes: leaf hash i at [32i, 32i + 32)
    DIR/checkpoints.txt  (optional) older signed checkpoints, each followed by a line "~~~"

Reading checks only the shape (sizes, counts, the header); whether the contents
hold is for :mod:`audit.verify`. Events are read as raw lines, never decoded
here: the tree check hashes bytes, and decoding is a separate, slower pass.
Writing goes to ``DIR.tmp`` and is renamed into place when complete, so a
crash never leaves a half export under the final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from regie_protocol.errors import Code, LogRefused, MalformedInput, Misuse
from regie_protocol.tlog.event import MAX_EVENT_BYTES
from regie_protocol.tlog.merkle import HASH_SIZE
from regie_protocol.tlog.note import MAX_NOTE_BYTES

EXPORT_FORMAT = "regie-log-export"
EXPORT_VERSION = 1
LOG_JSON = "log.json"
CHECKPOINT = "checkpoint.txt"
EVENTS = "events.jsonl"
LEAF_HASHES = "leaf-hashes.bin"
CHECKPOINTS = "checkpoints.txt"
#: the line after each older checkpoint in checkpoints.txt
CHECKPOINT_SEPARATOR = b"~~~\n"
#: bytes read from events.jsonl at a time (small enough to reuse memory, not fault it in)
CHUNK_BYTES = 128 * 1024
#: a log larger than this is refused before anything is read: the auditor holds every leaf
#: hash in memory, and the tree over them (about 64 bytes per entry, 17 GiB at this size)
MAX_LOG_SIZE = 1 << 28
#: older checkpoints read from checkpoints.txt at most
MAX_OLDER_CHECKPOINTS = 4096
_MAX_LOG_JSON = 4096


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """log.json: which log, how many entries (not yet checked against the checkpoint)."""

    origin: str
    size: int


def read_header(directory: Path) -> ExportHeader:
    data = _read_small(directory / LOG_JSON, _MAX_LOG_JSON)
    try:
        value: Any = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _damaged(LOG_JSON, "it is not JSON") from None
    if not isinstance(value, dict) or set(value) != {"format", "version", "origin", "size"}:
        raise _damaged(LOG_JSON, "it does not have exactly format, version, origin and size")
    if value["format"] != EXPORT_FORMAT or value["version"] != EXPORT_VERSION:
        raise _damaged(LOG_JSON, f"it is not a {EXPORT_FORMAT} of version {EXPORT_VERSION}")
    origin, size = value["origin"], value["size"]
    if not isinstance(origin, str) or not origin:
        raise _damaged(LOG_JSON, "origin is not a name")
    if type(size) is not int or not 0 <= size <= MAX_LOG_SIZE:
        raise _damaged(LOG_JSON, f"size is not a whole number up to {MAX_LOG_SIZE}")
    return ExportHeader(origin, size)


def read_checkpoint(directory: Path) -> bytes:
    """checkpoint.txt: the signed checkpoint note (not yet verified)."""
    return _read_small(directory / CHECKPOINT, MAX_NOTE_BYTES)


def read_older_checkpoints(directory: Path) -> list[bytes]:
    """checkpoints.txt split into notes, oldest first; no file means none."""
    path = directory / CHECKPOINTS
    if not path.exists():
        return []
    data = _read_small(path, MAX_OLDER_CHECKPOINTS * (MAX_NOTE_BYTES + len(CHECKPOINT_SEPARATOR)))
    notes: list[bytes] = []
    start = 0
    for line_end in _separator_ends(data):
        notes.append(data[start : line_end - len(CHECKPOINT_SEPARATOR)])
        start = line_end
    if data[start:].strip():
        raise _damaged(CHECKPOINTS, 'the last checkpoint is not followed by a line "~~~"')
    if len(notes) > MAX_OLDER_CHECKPOINTS:
        raise _damaged(CHECKPOINTS, f"it holds more than {MAX_OLDER_CHECKPOINTS} checkpoints")
    return notes


def _separator_ends(data: bytes) -> Iterator[int]:
    """End offsets of each "~~~" line (one that starts at the start of a line)."""
    at = 0
    while True:
        found = data.find(CHECKPOINT_SEPARATOR, at)
        if found < 0:
            return
        if found == 0 or data[found - 1 : found] == b"\n":
            yield found + len(CHECKPOINT_SEPARATOR)
        at = found + len(CHECKPOINT_SEPARATOR)


def read_leaf_hashes(directory: Path, size: int) -> bytes:
    """leaf-hashes.bin, which must hold exactly ``size`` hashes (else ``LOG_INCONSISTENT``)."""
    path = directory / LEAF_HASHES
    if not 0 <= size <= MAX_LOG_SIZE:
        raise Misuse(f"a log of {size} entries is out of range")
    actual = path.stat().st_size
    if actual != size * HASH_SIZE:
        held = f"{actual // HASH_SIZE} leaf hashes" + (
            f" and {actual % HASH_SIZE} stray bytes" if actual % HASH_SIZE else ""
        )
        raise LogRefused(
            f"{LEAF_HASHES} holds {held} where the checkpoint has {size} entries "
            "(entries were added or removed)",
            code=Code.LOG_INCONSISTENT,
        )
    with path.open("rb") as handle:
        data = handle.read()
    if len(data) != actual:
        raise LogRefused(f"{LEAF_HASHES} changed while it was read", code=Code.LOG_INCONSISTENT)
    return data


def iter_event_lines(directory: Path) -> Iterator[tuple[int, list[bytes]]]:
    """events.jsonl as ``(index of the first line, lines)`` chunks; an empty line is hidden.

    Lines are raw bytes without their newline, never decoded. A line longer than
    an event can be is refused before it is held whole.
    """
    index = 0
    carry = b""
    with (directory / EVENTS).open("rb") as handle:
        while True:
            chunk = handle.read(CHUNK_BYTES)
            if not chunk:
                break
            lines = (carry + chunk).split(b"\n") if carry else chunk.split(b"\n")
            carry = lines.pop()
            if len(carry) > MAX_EVENT_BYTES:
                raise _event_too_long(index + len(lines))
            if lines:
                yield index, lines
                index += len(lines)
    if carry:
        yield index, [carry]


def count_event_lines(directory: Path) -> int:
    """How many lines events.jsonl holds (a last line without its newline counts)."""
    count = 0
    last = b"\n"
    with (directory / EVENTS).open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _event_too_long(index: int) -> LogRefused:
    return LogRefused(
        f"line {index} of {EVENTS} is longer than an event can be ({MAX_EVENT_BYTES} bytes)",
        code=Code.LOG_EVENT_MISMATCH,
    )


def _read_small(path: Path, limit: int) -> bytes:
    if not path.is_file():
        raise MalformedInput(f"the export has no {path.name}", code=Code.MALFORMED)
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _damaged(path.name, f"it is larger than {limit} bytes")
    return data


def _damaged(name: str, reason: str) -> MalformedInput:
    return MalformedInput(f"the export's {name} is damaged: {reason}", code=Code.MALFORMED)


class ExportWriter:
    """Writes an export into ``DIR.tmp`` and renames it to ``DIR`` on :meth:`finish`.

    ``DIR`` must not exist or be an empty directory; ``DIR.tmp`` must not exist
    (a previous export was interrupted: remove it). Events are added in index
    order; indexes skipped are written as empty (hidden) lines.
    """

    def __init__(self, directory: Path) -> None:
        if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
            raise Misuse(f"{directory} exists and is not an empty directory: choose another --out")
        self.directory = directory
        self.tmp = directory.with_name(directory.name + ".tmp")
        if self.tmp.exists():
            raise Misuse(f"{self.tmp} exists (an interrupted export?): remove it first")
        self.tmp.mkdir(parents=True)
        self._events: BinaryIO = (self.tmp / EVENTS).open("wb")
        self._leaves: BinaryIO = (self.tmp / LEAF_HASHES).open("wb")
        self._next_event = 0
        self._leaf_count = 0
        self._done = False

    def add_leaf_hashes(self, blob: bytes) -> None:
        """Append leaf hashes (a multiple of 32 bytes, in index order)."""
        if len(blob) % HASH_SIZE:
            raise Misuse("leaf hashes come in whole 32-byte hashes")
        self._leaves.write(blob)
        self._leaf_count += len(blob) // HASH_SIZE

    def add_event(self, index: int, data: bytes) -> None:
        """Event ``index``'s canonical bytes (one line: no newline, not empty)."""
        if index < self._next_event:
            raise Misuse(f"event {index} comes after event {self._next_event - 1}")
        if not data or b"\n" in data or len(data) > MAX_EVENT_BYTES:
            raise MalformedInput(f"event {index} cannot be one line of {EVENTS}")
        self._events.write(b"\n" * (index - self._next_event) + data + b"\n")
        self._next_event = index + 1

    def finish(
        self, *, origin: str, size: int, checkpoint: bytes, older: Sequence[bytes] = ()
    ) -> Path:
        """Write the rest and rename ``DIR.tmp`` to ``DIR``; returns ``DIR``."""
        if self._leaf_count != size:
            raise Misuse(f"{self._leaf_count} leaf hashes written for a log of {size}")
        if self._next_event > size:
            raise Misuse(f"event {self._next_event - 1} is beyond the log's {size} entries")
        self._events.write(b"\n" * (size - self._next_event))
        self._next_event = size
        for handle in (self._events, self._leaves):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        header = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "origin": origin}
        _write_synced(self.tmp / LOG_JSON, json.dumps({**header, "size": size}).encode() + b"\n")
        _write_synced(self.tmp / CHECKPOINT, checkpoint)
        if older:
            _write_synced(
                self.tmp / CHECKPOINTS,
                b"".join(note + CHECKPOINT_SEPARATOR for note in older),
            )
        os.replace(self.tmp, self.directory)
        _fsync_dir(self.directory.parent)
        self._done = True
        return self.directory

    def abort(self) -> None:
        """Remove ``DIR.tmp`` (after a failure)."""
        for handle in (self._events, self._leaves):
            handle.close()
        if not self._done:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> ExportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.abort()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = [
    "CHECKPOINT",
    "CHECKPOINTS",
    "CHECKPOINT_SEPARATOR",
    "CHUNK_BYTES",
    "EVENTS",
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "LEAF_HASHES",
    "LOG_JSON",
    "MAX_LOG_SIZE",
    "ExportHeader",
    "ExportWriter",
    "count_event_lines",
    "iter_event_lines",
    "read_checkpoint",
    "read_header",
    "read_leaf_hashes",
    "read_older_checkpoints",
]
