"""Verify a consent log against the auditor's trust: signatures, the tree, history, events.

:func:`verify_log` takes the unverified log from a :class:`~audit.source.LogSource`
and the :class:`~audit.trusted.TrustPolicy`, and raises at the first thing that
does not hold (STYLE habit 7), in this order:

1. the latest checkpoint is signed by the trusted log key with the witness
   quorum (``KEY_UNKNOWN``, ``SIGNATURE_INVALID``, ``LOG_COSIGNATURE_MISSING``);
2. against the trusted checkpoint: a smaller tree is ``LOG_ROLLBACK``, the same
   size with another root ``LOG_SPLIT_VIEW``;
3. every leaf hash, folded into the tree, gives the checkpoint's root
   (``LOG_INCONSISTENT``): entries changed, added or removed are caught here;
4. a larger tree extends the trusted one: its root at the trusted size is
   recomputed from the same leaves, and a host's consistency proof is checked
   too (``LOG_INCONSISTENT``);
5. each older checkpoint is signed by the log and has the root of the first
   ``size`` leaves; each receipt is signed by the log, proves its entry, and
   its tree is a prefix of this one;
6. each visible event's bytes hash to its leaf hash (``LOG_EVENT_MISMATCH``,
   naming the index, and for an export whether lines were moved, removed or
   added).

Speed (the bench's concern): the tree is built from the leaf-hash blob level
by level (:class:`audit._tree.LeafTree`) and events are hashed straight from
binary chunks with :mod:`hashlib`; a chunk whose hashes equal the stored ones
is passed with one comparison. For a large export whose events nobody needs
to see, worker processes (:mod:`audit._parallel`) hash the events while this
process builds the tree. Events are **not** JSON-decoded on this path:
decoding (:func:`check_event_decodes`: size, canonical form, the closed name
list) is about thirty times slower than hashing, so it is asked for apart
(``decode=True``, which ``regie audit verify`` sets; ``report`` decodes each
event into a view through ``on_event``), and only ever sees events whose hash
already matched. :func:`verify_export_tree` is the hash-only path the bench times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regie_protocol.errors import Code, LogRefused, MalformedInput, RegieError
from regie_protocol.tlog.checkpoint import Checkpoint, OpenedCheckpoint, open_checkpoint
from regie_protocol.tlog.event import EventView, decode_event
from regie_protocol.tlog.merkle import HASH_SIZE, verify_consistency
from regie_protocol.tlog.note import b64encode_std
from regie_protocol.tlog.receipt import Receipt, verify_receipt

from . import export_dir
from ._parallel import RangeResult, new_pool, split_ranges, start_ranges, worker_count
from ._tree import LeafTree
from .progress import SILENT, Progress
from .source import ExportSource, LogSource
from .trusted import TrustPolicy

#: called with (index, bytes) for each visible event whose hash matched
EventSink = Callable[[int, bytes], None]


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    label: str
    index: int
    size: int


@dataclass(frozen=True, slots=True)
class VerifiedLog:
    """What a verification established (only ever built when every check held)."""

    origin: str
    size: int
    root: bytes
    #: the verified signed checkpoint note, as the trusted file keeps it
    checkpoint: bytes
    cosigners: tuple[str, ...]
    events_checked: int
    hidden_events: int
    #: the trusted checkpoint's size before this run (None on the first run)
    previous_size: int | None
    older_checkpoints: int
    receipts: tuple[VerifiedReceipt, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": b64encode_std(self.root),
            "cosigners": list(self.cosigners),
            "eventsChecked": self.events_checked,
            "hiddenEvents": self.hidden_events,
            "previousSize": self.previous_size,
            "olderCheckpoints": self.older_checkpoints,
            "receipts": [
                {"file": r.label, "index": r.index, "size": r.size} for r in self.receipts
            ],
        }


def verify_log(
    source: LogSource,
    policy: TrustPolicy,
    *,
    receipts: Sequence[tuple[str, Receipt]] = (),
    decode: bool = False,
    on_event: EventSink | None = None,
    progress: Progress = SILENT,
) -> VerifiedLog:
    """Check everything the module docstring lists; raise at the first failure.

    ``decode`` also checks that each visible event decodes strictly
    (:func:`check_event_decodes`); ``on_event`` sees each visible event once
    its hash matched (and it decoded, with ``decode``).
    """
    note = source.checkpoint()
    try:
        latest = open_checkpoint(note, policy.log, witnesses=policy.witnesses, quorum=policy.quorum)
    except RegieError as exc:
        raise type(exc)(f"the latest checkpoint: {exc.message}", code=exc.code) from None
    head = latest.checkpoint
    if head.size > export_dir.MAX_LOG_SIZE:
        raise MalformedInput(
            f"the log has {head.size} entries; this auditor checks at most "
            f"{export_dir.MAX_LOG_SIZE}",
            code=Code.SIZE_EXCEEDED,
        )
    trusted = _trusted(policy)
    if trusted is not None:
        _check_against_trusted(head, trusted)
    older = [
        _open_older(note, policy, number)
        for number, note in enumerate(source.older_checkpoints(), start=1)
    ]
    for number, cp in enumerate(older, start=1):
        if cp.size > head.size:
            raise LogRefused(
                f"older checkpoint {number} has {cp.size} entries, more than the latest "
                f"{head.size}: the log was rolled back",
                code=Code.LOG_ROLLBACK,
            )
    leaves = source.leaf_hashes(head.size, progress)
    with _EventCheck(source, leaves, decode=decode, on_event=on_event) as events:
        progress.stage("Building the tree", max(head.size - 1, 0))
        tree = LeafTree(leaves, progress.advance)
        _check_tree(source, tree, head, trusted, older)
        checked = tuple(_check_receipt(label, r, tree, policy) for label, r in receipts)
        progress.stage("Checking events", head.size)
        visible, hidden = events.finish(progress)
    return VerifiedLog(
        origin=head.origin,
        size=head.size,
        root=head.root,
        checkpoint=latest.note.render(),
        cosigners=tuple(sorted(w.name for w in latest.cosigned_by)),
        events_checked=visible,
        hidden_events=hidden,
        previous_size=None if trusted is None else trusted.size,
        older_checkpoints=len(older),
        receipts=checked,
    )


class _EventCheck:
    """The events against the leaf hashes, in worker processes when that pays.

    Started before the tree is built: for an export of many entries whose events
    nobody needs to see (no ``on_event``), worker processes hash them while this
    process builds the tree. Whenever their result is not a clean match, and in
    every other case, :meth:`finish` runs :func:`check_event_hashes` in sequence,
    which names exactly what failed.
    """

    def __init__(
        self, source: LogSource, leaves: bytes, *, decode: bool, on_event: EventSink | None
    ) -> None:
        self._source = source
        self._leaves = leaves
        self._decode = decode
        self._on_event = on_event
        self._pool: ProcessPoolExecutor | None = None
        self._futures: list[Future[RangeResult]] = []
        workers = worker_count(len(leaves) // HASH_SIZE)
        if isinstance(source, ExportSource) and on_event is None and workers:
            events = source.directory / export_dir.EVENTS
            ranges = split_ranges(events, workers)
            self._pool = new_pool(len(ranges)) if ranges else None
            if self._pool is not None and ranges:
                try:
                    self._futures = start_ranges(self._pool, events, ranges, decode)
                except (BrokenProcessPool, OSError):
                    self._futures = []

    def finish(self, progress: Progress) -> tuple[int, int]:
        size = len(self._leaves) // HASH_SIZE
        if self._futures:
            try:
                results = [future.result() for future in self._futures]
            except BrokenProcessPool:
                results = []
            if results and _clean(results, self._leaves):
                progress.advance(size)
                return size, 0
        sink = self._on_event
        if self._decode:
            sink = _decoding(self._on_event)
        return check_event_hashes(
            self._source.event_lines(size),
            self._leaves,
            on_event=sink,
            progress=progress,
            line_count=self._source.line_count,
        )

    def __enter__(self) -> _EventCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _clean(results: list[RangeResult], leaves: bytes) -> bool:
    """Whether the workers saw exactly the stored leaves; raises their first decoding failure."""
    if any(r.irregular for r in results):
        return False
    if sum(r.lines for r in results) * HASH_SIZE != len(leaves):
        return False
    if b"".join(r.hashes for r in results) != leaves:
        return False
    first = 0
    for result in results:
        if result.decode_failure is not None:
            offset, why = result.decode_failure
            raise LogRefused(f"event {first + offset}: {why}", code=Code.LOG_EVENT_MISMATCH)
        first += result.lines
    return True


def _decoding(on_event: EventSink | None) -> EventSink:
    def sink(index: int, data: bytes) -> None:
        check_event_decodes(index, data)
        if on_event is not None:
            on_event(index, data)

    return sink


def _check_tree(
    source: LogSource,
    tree: LeafTree,
    head: Checkpoint,
    trusted: Checkpoint | None,
    older: Sequence[Checkpoint],
) -> None:
    if tree.root() != head.root:
        raise LogRefused(
            f"the {head.size} leaf hashes do not give the root of the signed checkpoint: "
            "entries were changed, added or removed",
            code=Code.LOG_INCONSISTENT,
        )
    if trusted is not None and 0 < trusted.size < head.size:
        _check_extends(source, tree, trusted, head)
    for number, cp in enumerate(older, start=1):
        if tree.root(cp.size) != cp.root:
            raise LogRefused(
                f"older checkpoint {number} ({cp.size} entries) has a root this log never "
                "had at that size: the history was rewritten",
                code=Code.LOG_INCONSISTENT,
            )


def _trusted(policy: TrustPolicy) -> Checkpoint | None:
    if policy.checkpoint is None:
        return None
    try:
        return open_checkpoint(policy.checkpoint, policy.log).checkpoint
    except RegieError as exc:
        raise type(exc)(f"the trusted file's checkpoint: {exc.message}", code=exc.code) from None


def _check_against_trusted(head: Checkpoint, trusted: Checkpoint) -> None:
    if head.size < trusted.size:
        raise LogRefused(
            f"the log shows {head.size} entries but you verified {trusted.size} before: "
            "it was rolled back",
            code=Code.LOG_ROLLBACK,
        )
    if head.size == trusted.size and head.root != trusted.root:
        raise LogRefused(
            f"the log signed two different trees of {head.size} entries (the one you verified "
            "before and this one): a split view",
            code=Code.LOG_SPLIT_VIEW,
        )


def _check_extends(
    source: LogSource, tree: LeafTree, trusted: Checkpoint, head: Checkpoint
) -> None:
    if tree.root(trusted.size) != trusted.root:
        raise LogRefused(
            f"the log of {head.size} entries does not extend the {trusted.size} entries you "
            "verified before: its history was rewritten (or you were shown a split view)",
            code=Code.LOG_INCONSISTENT,
        )
    proof = source.consistency_proof(trusted.size, head.size)
    if proof is not None:
        verify_consistency(trusted.size, head.size, proof, trusted.root, head.root)


def _open_older(note: bytes, policy: TrustPolicy, number: int) -> Checkpoint:
    try:
        return open_checkpoint(note, policy.log, witnesses=policy.witnesses).checkpoint
    except RegieError as exc:
        raise type(exc)(f"older checkpoint {number}: {exc.message}", code=exc.code) from None


def _check_receipt(
    label: str, receipt: Receipt, tree: LeafTree, policy: TrustPolicy
) -> VerifiedReceipt:
    try:
        opened: OpenedCheckpoint = open_checkpoint(
            receipt.checkpoint, policy.log, witnesses=policy.witnesses
        )
        size = opened.checkpoint.size
        if size > tree.size:
            raise LogRefused(
                f"it shows the log at {size} entries, more than the {tree.size} it shows now: "
                "the log was rolled back (or this log view is older than the receipt)",
                code=Code.LOG_ROLLBACK,
            )
        if receipt.index >= size:
            raise LogRefused(
                f"entry {receipt.index} cannot be in a tree of {size} entries",
                code=Code.LOG_PROOF_INVALID,
            )
        if tree.root(size) != opened.checkpoint.root:
            raise LogRefused(
                f"its checkpoint of {size} entries has a root this log never had at that size: "
                "the log signed two different histories",
                code=Code.LOG_INCONSISTENT,
            )
        verify_receipt(
            receipt, leaf_hash=tree.leaf(receipt.index), log=policy.log, witnesses=policy.witnesses
        )
    except RegieError as exc:
        raise type(exc)(f"receipt {label}: {exc.message}", code=exc.code) from None
    return VerifiedReceipt(label, receipt.index, size)


def check_event_hashes(
    chunks: Iterable[tuple[int, list[bytes]]],
    leaves: bytes,
    *,
    on_event: EventSink | None = None,
    progress: Progress = SILENT,
    line_count: Callable[[], int | None] = lambda: None,
) -> tuple[int, int]:
    """Each non-empty line hashes to its leaf hash; returns (visible, hidden) counts.

    ``chunks`` are consecutive ``(first index, lines)``; ``leaves`` holds exactly
    one hash per entry. ``on_event`` sees each visible event after its hash matched.
    """
    size = len(leaves) // HASH_SIZE
    copy = hashlib.sha256(b"\x00").copy  # leaf hashing with the 0x00 prefix already absorbed
    expected = 0
    visible = 0
    for start, lines in chunks:
        if start != expected:
            raise LogRefused(
                f"events jump from {expected} to {start}", code=Code.LOG_EVENT_MISMATCH
            )
        end = start + len(lines)
        inside = lines if end <= size else lines[: max(size - start, 0)]
        hashes: list[bytes] = []
        append = hashes.append
        for line in inside:
            leaf = copy()
            leaf.update(line)
            append(leaf.digest())
        computed = b"".join(hashes)
        if computed != leaves[start * HASH_SIZE : (start + len(inside)) * HASH_SIZE]:
            _find_mismatch(start, inside, computed, leaves, line_count)
        if end > size:
            raise _count_mismatch(line_count() or end, size)
        shown = len(inside) - inside.count(b"")
        visible += shown
        if on_event is not None and shown:
            for offset, line in enumerate(inside):
                if line:
                    on_event(start + offset, line)
        progress.advance(len(inside))
        expected = end
    if expected != size:
        raise _count_mismatch(line_count() or expected, size)
    return visible, size - visible


def _find_mismatch(
    start: int,
    lines: list[bytes],
    computed: bytes,
    leaves: bytes,
    line_count: Callable[[], int | None],
) -> None:
    """Raise for the first visible line whose hash differs (hidden lines are skipped)."""
    for offset, line in enumerate(lines):
        at = (start + offset) * HASH_SIZE
        mine = computed[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        if line and mine != leaves[at : at + HASH_SIZE]:
            raise _event_mismatch(start + offset, mine, leaves, line_count())


def _event_mismatch(index: int, mine: bytes, leaves: bytes, count: int | None) -> LogRefused:
    size = len(leaves) // HASH_SIZE
    why = f"event {index} does not match leaf hash {index} of the signed log"
    elsewhere = _leaf_index(leaves, mine)
    if elsewhere is not None:
        why += f"; it is the log's event {elsewhere}"
    if count is not None and count < size:
        why += f" ({export_dir.EVENTS} has {count} lines for {size} entries: events were removed)"
    elif count is not None and count > size:
        why += f" ({export_dir.EVENTS} has {count} lines for {size} entries: events were added)"
    elif elsewhere is not None:
        why += " (events were moved)"
    else:
        why += " (it was changed)"
    return LogRefused(why, code=Code.LOG_EVENT_MISMATCH)


def _leaf_index(leaves: bytes, leaf: bytes) -> int | None:
    at = leaves.find(leaf)
    while at >= 0:
        if at % HASH_SIZE == 0:
            return at // HASH_SIZE
        at = leaves.find(leaf, at + 1)
    return None


def _count_mismatch(count: int, size: int) -> LogRefused:
    change = "added" if count > size else "removed"
    return LogRefused(
        f"there are {count} event lines for the log's {size} entries: events were {change}",
        code=Code.LOG_EVENT_MISMATCH,
    )


def check_event_decodes(index: int, data: bytes) -> None:
    """``on_event`` for a full check: the event is one the log may hold (strict decode)."""
    try:
        decode_event(data)
    except RegieError as exc:
        raise LogRefused(f"event {index}: {exc.message}", code=Code.LOG_EVENT_MISMATCH) from None


def read_event(index: int, data: bytes) -> EventView:
    """An auditor's view of one event whose hash matched (strict decode, ``LOG_EVENT_MISMATCH``)."""
    try:
        return EventView.of(index, data)
    except RegieError as exc:
        prefix = f"event {index}: "
        message = exc.message if exc.message.startswith(prefix) else prefix + exc.message
        raise LogRefused(message, code=Code.LOG_EVENT_MISMATCH) from None


def verify_export_tree(directory: Path, progress: Progress = SILENT) -> tuple[int, bytes]:
    """The fast path alone: every visible event hashes to its leaf; returns (size, root).

    No signature is checked and nothing is decoded: the caller compares the root
    with a checkpoint it trusts (:func:`verify_log` does all of it). The bench
    times this function.
    """
    source = ExportSource(directory)
    header = export_dir.read_header(directory)
    leaves = export_dir.read_leaf_hashes(directory, header.size)
    with _EventCheck(source, leaves, decode=False, on_event=None) as events:
        progress.stage("Building the tree", max(header.size - 1, 0))
        root = LeafTree(leaves, progress.advance).root()
        progress.stage("Checking events", header.size)
        events.finish(progress)
    return header.size, root


def verify_export(
    directory: Path,
    policy: TrustPolicy,
    *,
    receipts: Sequence[tuple[str, Receipt]] = (),
    decode: bool = False,
    on_event: EventSink | None = None,
    progress: Progress = SILENT,
) -> VerifiedLog:
    """:func:`verify_log` over an export directory."""
    return verify_log(
        ExportSource(directory),
        policy,
        receipts=receipts,
        decode=decode,
        on_event=on_event,
        progress=progress,
    )


__all__ = [
    "EventSink",
    "VerifiedLog",
    "VerifiedReceipt",
    "check_event_decodes",
    "check_event_hashes",
    "read_event",
    "verify_export",
    "verify_export_tree",
    "verify_log",
]
