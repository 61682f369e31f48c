"""Verified reads per second over real HTTP, against a bare FastAPI endpoint served the same way.

``bench_reads()`` serves, each with uvicorn in its own process (one worker,
``--loop uvloop --http httptools --no-access-log``, 127.0.0.1, a free port):

* ``bare``: :mod:`bench.bare_app`, a plain ``FastAPI()`` answering a constant
  body as large as the real read answer;
* ``sqlite``: the wallet host (``create_app_from_env`` through
  :mod:`bench.served`) on a wallet in a SQLite file (WAL, ``synchronous=FULL``);
* ``postgresql``: the same on a fresh PostgreSQL database (created and dropped
  here; skipped with "PostgreSQL not reachable" when there is no server).

Each wallet holds one consent approved for the bench verifier
(:func:`bench.world.approved_consent`, no ``max_uses``, no ``frequency``). Just
before each run, one DPoP proof per request is made (fresh ``jti``, ``iat`` =
now, bound to the consent token); ``bench/node/load.mjs`` (autocannon) sends
each once over :data:`CONNECTIONS` keep-alive connections and reports 2xx per
second and p50/p99 latency. A host run counts only if every answer was 2xx and
the consent's ``uses`` grew by exactly the number of requests (every read
recorded). Rounds interleave the three servers; each figure is the median
over :data:`ROUNDS` rounds and each ratio the median of the per-round ratios.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from regie_protocol.dpop import create_proof
from wallet.storage import Database, open_database
from wallet.storage.models import metadata

from .pg import scratch_database
from .served import STATS_PREFIX
from .world import BenchConsent, approved_consent, uses

ROUNDS = int(os.environ.get("REGIE_BENCH_ROUNDS", "5"))
#: seconds one measured run should last (proofs are valid 60 s)
RUN_SECONDS = float(os.environ.get("REGIE_BENCH_READ_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("REGIE_BENCH_CONNECTIONS", "32"))
#: requests of the first (warm-up) run of each server
WARMUP = int(os.environ.get("REGIE_BENCH_WARMUP", "2000"))
#: a directory for cProfile data of the host processes (``<name>.prof``), or unset
PROFILE_DIR = os.environ.get("REGIE_BENCH_PROFILE_DIR")
ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).with_name("node")
START_TIMEOUT = 30.0
DATA_PATH = "/v1/data"
UVICORN_FLAGS = (
    "--host", "127.0.0.1", "--workers", "1", "--loop", "uvloop", "--http", "httptools",
    "--no-access-log", "--log-level", "warning",
)  # fmt: skip
_RELEASE = metadata.tables["release"]


@dataclass(frozen=True)
class LoadResult:
    """One autocannon run, as ``load.mjs`` reports it."""

    requests: int
    seconds: float
    per_s: float
    p50: float
    p99: float
    non2xx: int
    errors: int
    #: the server process's CPU time (user + system) per request, ms; None off Linux
    cpu_ms: float | None = None

    @classmethod
    def from_json(cls, value: Mapping[str, Any], cpu_ms: float | None = None) -> LoadResult:
        return cls(
            cpu_ms=cpu_ms,
            requests=int(value["requests"]),
            seconds=float(value["seconds"]),
            per_s=float(value["requestsPerSecond"]),
            p50=float(value["p50"]),
            p99=float(value["p99"]),
            non2xx=int(value["non2xx"]),
            errors=int(value["errors"]) + int(value["timeouts"]),
        )


@dataclass
class Target:
    """A server under load: where it listens, and (for a host) its consent and database."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    consent: BenchConsent
    db: Database | None = None
    runs: list[LoadResult] = field(default_factory=list)
    #: requests per second seen so far, to size the next run
    estimate: float = 0.0
    #: requests answered in all runs, warm-up included
    answered: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{DATA_PATH}"


def missing_tools() -> str | None:
    """Why the read bench cannot run here, or ``None``."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "autocannon").is_dir():
        return "autocannon is not installed (make bench runs npm ci in bench/node)"
    for module in ("uvloop", "httptools"):
        try:
            __import__(module)
        except ImportError:
            return f"the Python package {module} is not installed"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_")}
    env.update(extra)
    return env


@contextmanager
def serve(
    app: str, *, port: int, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``uvicorn app`` on 127.0.0.1:``port`` until the block ends (then SIGINT, and wait)."""
    command = [sys.executable, "-m", "uvicorn", *app.split(), "--port", str(port), *UVICORN_FLAGS]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{app} exited at start:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not listen within {START_TIMEOUT} s") from None
                time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (all its threads), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_requests(consent: BenchConsent, count: int, path: Path) -> None:
    """``count`` requests for ``load.mjs``: the token once, then a fresh DPoP proof each."""
    now = int(time.time())
    htu = consent.host_url + DATA_PATH
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"authorization": f"DPoP {consent.token}"}) + "\n")
        for _ in range(count):
            proof = create_proof(
                consent.verifier_key, htm="POST", htu=htu, now=now, access_token=consent.token
            )
            out.write(json.dumps({"dpop": proof}) + "\n")


def load(target: Target, amount: int, work: Path) -> LoadResult:
    """One run of ``amount`` requests against ``target``; checks a host recorded every read."""
    requests_file = work / f"{target.name}.jsonl"
    write_requests(target.consent, amount + CONNECTIONS + 16, requests_file)
    before = uses(target.db, target.consent.consent_id) if target.db is not None else 0
    cpu_before = cpu_seconds(target.process.pid)
    done = subprocess.run(
        [
            "node",
            str(NODE_DIR / "load.mjs"),
            target.url,
            str(requests_file),
            str(CONNECTIONS),
            str(amount),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    cpu_after = cpu_seconds(target.process.pid)
    requests_file.unlink()
    if done.returncode != 0:
        raise RuntimeError(f"load.mjs failed against {target.name}: {done.stderr.strip()}")
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None:
        cpu_ms = (cpu_after - cpu_before) * 1000 / amount
    result = LoadResult.from_json(json.loads(done.stdout.strip().splitlines()[-1]), cpu_ms)
    if result.non2xx or result.errors or result.requests != amount:
        raise RuntimeError(
            f"{target.name}: {result.non2xx} non-2xx answers, {result.errors} errors, "
            f"{result.requests} of {amount} requests answered (see {target.log})"
        )
    if target.db is not None:
        grew = uses(target.db, target.consent.consent_id) - before
        if grew != amount:
            raise RuntimeError(f"{target.name}: {amount} reads answered but uses grew by {grew}")
    target.answered += amount
    target.estimate = (
        result.per_s
        if not target.runs
        else statistics.median([*(r.per_s for r in target.runs), result.per_s])
    )
    return result


def _amount(target: Target) -> int:
    return max(CONNECTIONS * 20, int(target.estimate * RUN_SECONDS))


def _release_chars(db: Database, consent_id: str) -> int:
    rows = db.fetch_all(select(_RELEASE.c.jwe).where(_RELEASE.c.consent_id == consent_id))
    return len(str(rows[0]["jwe"]))


def _batches(log: Path) -> tuple[int, int] | None:
    found = re.search(STATS_PREFIX + r" batches=(\d+) units=(\d+)", log.read_text(errors="replace"))
    return (int(found[1]), int(found[2])) if found else None


def _host(stack: ExitStack, name: str, home: Path, url: str | None, work: Path) -> Target:
    port = free_port()
    host_url = f"http://127.0.0.1:{port}"
    db = stack.enter_context(open_database(url, home=home))
    consent = approved_consent(db, host_url=host_url, now=int(time.time()))
    env = _clean_env(
        REGIE_HOME=str(home),
        REGIE_WALLET_HOST_URL=host_url,
        REGIE_HOST_RATE_LIMIT="100000",
        REGIE_HOST_PUBLIC_RATE_LIMIT="1000000",
    )
    if url is not None:
        env["REGIE_DATABASE_URL"] = url
    if PROFILE_DIR:
        env["REGIE_BENCH_PROFILE"] = str(Path(PROFILE_DIR).resolve() / f"{name}.prof")
    log = work / f"{name}.log"
    process = stack.enter_context(
        serve("--factory bench.served:host_app", port=port, env=env, log=log)
    )
    return Target(name, port, process, log, consent, db)


def _summary(targets: list[Target]) -> dict[str, Any]:
    out: dict[str, Any] = {"connections": CONNECTIONS, "rounds": ROUNDS}
    bare = targets[0]
    for target in targets:
        runs = target.runs
        out[target.name] = {
            "per_s": statistics.median(r.per_s for r in runs),
            "p50_ms": statistics.median(r.p50 for r in runs),
            "p99_ms": statistics.median(r.p99 for r in runs),
            "requests": sum(r.requests for r in runs),
            "cpu_ms": statistics.median(r.cpu_ms or 0.0 for r in runs),
            "ratio": statistics.median(
                r.per_s / b.per_s for r, b in zip(runs, bare.runs, strict=True)
            ),
        }
        if target is not bare:
            batches = _batches(target.log)
            if batches is not None and batches[0]:
                # reads per commit (the committer's units are groups of reads, see
                # wallet.host.read_batches); every read of the run went through it
                out[target.name]["batch_mean"] = target.answered / batches[0]
    return out


def bench_reads() -> dict[str, Any]:
    """Median reads per second, p50/p99 (ms) and ratio to bare, per server; see the module."""
    missing = missing_tools()
    if missing is not None:
        return {"skipped": missing}
    with ExitStack() as stack:
        work = Path(
            stack.enter_context(tempfile.TemporaryDirectory(dir=os.environ.get("REGIE_BENCH_DIR")))
        )
        targets: list[Target] = []
        sqlite = _host(stack, "sqlite", work / "sqlite", None, work)
        assert sqlite.db is not None
        bare_port = free_port()
        bare_env = _clean_env(
            REGIE_BENCH_RELEASE_CHARS=str(_release_chars(sqlite.db, sqlite.consent.consent_id))
        )
        bare_log = work / "bare.log"
        bare_process = stack.enter_context(
            serve("bench.bare_app:app", port=bare_port, env=bare_env, log=bare_log)
        )
        # the bare app ignores the headers; it gets the same requests as the hosts
        bare = Target("bare", bare_port, bare_process, bare_log, sqlite.consent)
        targets = [bare, sqlite]
        pg_url = stack.enter_context(scratch_database())
        if pg_url is not None:
            targets.append(_host(stack, "postgresql", work / "postgresql", pg_url, work))
        for target in targets:
            load(target, WARMUP, work)  # warm up: imports, pools, caches; sizes the runs
        for _ in range(ROUNDS):
            for target in targets:
                target.runs.append(load(target, _amount(target), work))
        for target in reversed(targets):  # stop the servers: their exit writes the batch counts
            target.process.send_signal(signal.SIGINT)
            target.process.wait(timeout=30)
        result = _summary(targets)
        if pg_url is None:
            result["postgresql"] = None
        return result


if __name__ == "__main__":
    print(json.dumps(bench_reads(), indent=2))
