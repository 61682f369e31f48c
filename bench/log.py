"""The consent log's speed: appends with group commit, proofs at a million events, verification.

* **appends per second**: 16 threads each hand single-event units of work to one
  :class:`~wallet.storage.group_commit.GroupCommitter` (one transaction and one
  commit per batch), on SQLite (WAL, ``synchronous=FULL``) and PostgreSQL
  (``synchronous_commit=on``); the events are real ``data.released`` events
  encoded by the appender. Target: at least 5,000 appends/s on SQLite.
* **inclusion proof at 10^6 events**: a log of 1,000,000 events (appended in
  bulk through the same appender code path: one transaction per 10,000), then
  the time of one ``store.inclusion_proof`` (one node query + folding) for
  random indices. Target: under 1 ms.
* **verifying a 10^6-event export**: ``audit.verify`` recomputing the tree from
  ``events.jsonl`` (every leaf hashed, every node hashed, compared with the
  root), as a ratio to raw SHA-256 of the same lines in the same run. Target:
  at least 0.5.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from audit.export_dir import ExportWriter
from regie_protocol.tlog.event import EventName
from regie_protocol.tlog.note import NoteKey
from wallet.log import checkpoints, store
from wallet.log.appender import append, ensure_log
from wallet.storage import Database, open_database
from wallet.storage.group_commit import GroupCommitter

from .pg import scratch_database

MILLION = int(os.environ.get("REGIE_BENCH_LOG_EVENTS", "1000000"))
APPENDS = int(os.environ.get("REGIE_BENCH_LOG_APPENDS", "20000"))
THREADS = 16
NOW = 1_790_000_000
DETAILS: dict[str, Any] = {
    "consent_id": "c-5b0f3c9e8f434c1e9a571c1f0e6f2d11",
    "consent_hash": "q0bUAX5oWG3bC9x8vH0s1lG5n0a6W9c0s3g9nQk2a8E",
    "verifier": "https://parkeren.gemeente-utrecht.example",
    "purpose": "https://w3id.org/dpv#ServiceProvision",
    "legal_basis": "https://w3id.org/dpv#Consent",
    "attributes": ["address"],
    "use": 1,
    "outcome": "released",
}


def _one(conn: Connection) -> int:
    return append(conn, EventName.RELEASED, at=NOW, owner="w-bench", details=DETAILS).index


def appends_per_second(db: Database, total: int = APPENDS) -> dict[str, float]:
    """Events appended per second by THREADS writers through one group committer."""
    db.run(lambda conn: ensure_log(conn, now=NOW))
    committer = GroupCommitter(db)
    each = total // THREADS

    def writer() -> None:
        futures = [committer.submit(_one) for _ in range(each)]
        for future in futures:
            future.result()

    threads = [threading.Thread(target=writer) for _ in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    committer.close()
    batches = max(committer.batches, 1)
    return {"per_s": each * THREADS / elapsed, "per_commit": committer.units / batches}


def fill(db: Database, events: int, *, chunk: int = 10_000) -> None:
    """Append ``events`` events in transactions of ``chunk`` (the appender's own code path)."""
    db.run(lambda conn: ensure_log(conn, now=NOW))
    done = db.run(lambda conn: (store.head(conn) or _zero()).size, write=False)
    while done < events:
        n = min(chunk, events - done)

        def work(conn: Connection, n: int = n) -> None:
            for _ in range(n):
                _one(conn)

        db.run(work)
        done += n


def _zero() -> Any:
    class Empty:
        size = 0

    return Empty()


def proof_ms(db: Database, size: int, samples: int = 2000) -> dict[str, float]:
    """Milliseconds for one inclusion proof from the database at ``size`` events."""
    rng = random.Random(7)
    indices = [rng.randrange(size) for _ in range(samples)]
    times = []
    with db.connect(write=False) as conn:
        for index in indices:
            start = time.perf_counter()
            store.inclusion_proof(conn, index, size)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "mean_ms": statistics.fmean(times),
    }


def export_database(db: Database, directory: Path, *, chunk: int = 50_000) -> None:
    """Write the database's log as an export directory (what ``regie audit export`` writes)."""
    key = NoteKey.generate(db.run(lambda conn: ensure_log(conn, now=NOW)))
    signed = db.run(lambda conn: checkpoints.sign_checkpoint(conn, key, now=NOW, state=None))
    with ExportWriter(directory) as writer, db.connect(write=False) as conn:
        for start in range(0, signed.size, chunk):
            end = min(signed.size, start + chunk)
            writer.add_leaf_hashes(b"".join(store.leaf_hashes(conn, start, end)))
            for index, body in store.events(conn, start, end):
                writer.add_event(index, body)
        writer.finish(origin=key.name, size=signed.size, checkpoint=signed.note)


def _best(func: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def verify_ratio(export_dir: Path) -> dict[str, float]:
    """Full tree verification of an export vs raw SHA-256 of its event lines."""
    from audit.verify import verify_export_tree

    lines = (export_dir / "events.jsonl").read_bytes().splitlines()

    def raw() -> object:
        sha = hashlib.sha256
        for line in lines:
            sha(b"\x00" + line).digest()
        return None

    def ours() -> object:
        return verify_export_tree(export_dir)

    ratios = []
    for _ in range(3):
        raw_s, ours_s = _best(raw, 1), _best(ours, 1)
        ratios.append(raw_s / ours_s)
    return {
        "ratio": statistics.median(ratios),
        "raw_per_s": len(lines) / _best(raw),
        "verify_per_s": len(lines) / _best(ours),
        "events": float(len(lines)),
    }


def bench_log() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="regie-bench-log-") as tmp:
        home = Path(tmp)
        db = open_database(None, home=home / "appends")
        try:
            out["sqlite_appends"] = appends_per_second(db)
        finally:
            db.dispose()
        with scratch_database("regie_bench_log") as url:
            if url is None:
                out["pg_appends"] = None
            else:
                pg = open_database(url, home=home / "pg")
                try:
                    out["pg_appends"] = appends_per_second(pg)
                finally:
                    pg.dispose()
        big = open_database(None, home=home / "million")
        try:
            start = time.perf_counter()
            fill(big, MILLION)
            out["fill_s"] = time.perf_counter() - start
            out["proof"] = proof_ms(big, MILLION)
            export = home / "export"
            export_database(big, export)
            out["verify"] = verify_ratio(export)
        finally:
            big.dispose()
    return out


__all__ = [
    "appends_per_second",
    "bench_log",
    "export_database",
    "fill",
    "proof_ms",
    "verify_ratio",
]
