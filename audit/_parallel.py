"""Hash (and optionally decode) a large events.jsonl in worker processes.

SHA-256 of a short line holds the GIL, so threads do not help; processes do.
The file is cut into byte ranges at line boundaries, each worker hashes its
lines as leaves (and, when asked, decodes each one strictly) and returns the
concatenated leaf hashes, its line count and its first decoding failure. The
caller compares the result with the stored leaf hashes; whenever anything is
off (a mismatch, a hidden line, a line too long, a count that differs) it runs
the sequential check instead, which says precisely what failed. This module
therefore never has to explain a failure, only to be fast when all is well.
"""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from regie_protocol.errors import RegieError
from regie_protocol.tlog.event import MAX_EVENT_BYTES, decode_event

#: below this many entries the work is too small to be worth a process
PARALLEL_MIN_ENTRIES = 100_000
MAX_WORKERS = 8
_READ_BYTES = 128 * 1024


@dataclass(frozen=True, slots=True)
class RangeResult:
    """One byte range: its line count, leaf hashes, and what went wrong (line offset, why)."""

    lines: int
    hashes: bytes
    #: a line that is empty or too long: the caller must take the sequential path
    irregular: bool
    decode_failure: tuple[int, str] | None


def worker_count(entries: int) -> int:
    """How many worker processes to use for ``entries`` (0: do it in this process)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if entries < PARALLEL_MIN_ENTRIES or not cpus or cpus < 2:
        return 0
    return min(cpus, MAX_WORKERS)


def split_ranges(path: Path, parts: int) -> list[tuple[int, int]] | None:
    """Byte ranges of ``path`` that each start at a line; None when lines are too long."""
    total = path.stat().st_size
    cuts = [0]
    with path.open("rb") as handle:
        for part in range(1, parts):
            at = max(total * part // parts, cuts[-1])
            handle.seek(at)
            window = handle.read(MAX_EVENT_BYTES + 2)
            newline = window.find(b"\n")
            if newline < 0:
                if len(window) < MAX_EVENT_BYTES + 2:
                    break  # the rest of the file is one last line
                return None
            cuts.append(at + newline + 1)
    cuts.append(total)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def hash_range(path: str, begin: int, end: int, decode: bool) -> RangeResult:
    """Leaf hashes of the lines in ``[begin, end)`` (a worker's whole job)."""
    copy = hashlib.sha256(b"\x00").copy  # the leaf prefix already absorbed
    out: list[bytes] = []
    append = out.append
    irregular = False
    failure: tuple[int, str] | None = None
    carry = b""
    with open(path, "rb") as handle:
        handle.seek(begin)
        remaining = end - begin
        while remaining > 0:
            chunk = handle.read(min(_READ_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            lines = (carry + chunk).split(b"\n")
            carry = lines.pop()
            if len(carry) > MAX_EVENT_BYTES:
                return RangeResult(len(out), b"", True, None)
            irregular = irregular or b"" in lines
            if decode and failure is None:
                failure = _first_failure(lines, len(out))
            for line in lines:
                leaf = copy()
                leaf.update(line)
                append(leaf.digest())
    if carry:
        if decode and failure is None:
            failure = _first_failure([carry], len(out))
        leaf = copy()
        leaf.update(carry)
        append(leaf.digest())
    return RangeResult(len(out), b"".join(out), irregular, failure)


def _first_failure(lines: list[bytes], offset: int) -> tuple[int, str] | None:
    for number, line in enumerate(lines):
        if not line:
            continue
        try:
            decode_event(line)
        except RegieError as exc:
            return offset + number, exc.message
    return None


def start_ranges(
    pool: ProcessPoolExecutor, path: Path, ranges: list[tuple[int, int]], decode: bool
) -> list[Future[RangeResult]]:
    return [pool.submit(hash_range, str(path), begin, end, decode) for begin, end in ranges]


def new_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of forked workers, or None where forking is not safe.

    Forking copies only the calling thread, so it is done only on Linux and
    only while this process runs no other thread (a lock held by another
    thread would stay held in the child). Fork, unlike spawn, never re-runs
    the caller's main module, so any script may call the auditor.
    """
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))


__all__ = [
    "PARALLEL_MIN_ENTRIES",
    "RangeResult",
    "hash_range",
    "new_pool",
    "split_ranges",
    "start_ranges",
    "worker_count",
]
