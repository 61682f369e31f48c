"""``regie audit witness``: keygen, trust-log, logs, and serve in a real process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from regie.cli_witness import witness_app
from regie_protocol.tlog.checkpoint import open_checkpoint, with_cosignatures
from regie_protocol.tlog.note import NoteVerifier
from regie_protocol.tlog.witness_client import request_cosignature_sync
from tests.serving import free_port, serve_process

from .world import TestLog

#: runs the witness commands the way ``regie audit witness`` does, in a process of their own
COMMAND = [sys.executable, "-c", "from regie.cli_witness import witness_app; witness_app()"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(witness_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def make_witness(tmp_path: Path, log: TestLog) -> tuple[Path, Path, NoteVerifier]:
    key, db = tmp_path / "witness.key", tmp_path / "witness.sqlite3"
    code, out, _ = run("keygen", "--name", "witness.example/w1", "--out", str(key))
    assert code == 0
    witness = NoteVerifier.parse(out.strip())
    assert (witness.name, witness.sig_type) == ("witness.example/w1", 0x04)
    code, out, _ = run("trust-log", "--db", str(db), "--log-key", log.key.verifier().vkey())
    assert (code, out.strip()) == (
        0,
        f"Now trusting log {log.origin} (key ID {log.key.verifier().key_id.hex()}).",
    )
    return key, db, witness


def test_keygen_trust_log_and_logs(tmp_path: Path) -> None:
    log = TestLog.create("wallet.example/log", 4)
    key, db, _ = make_witness(tmp_path, log)
    assert key.stat().st_mode & 0o777 == 0o600
    code, out, _ = run("trust-log", "--db", str(db), "--log-key", log.key.verifier().vkey())
    assert (code, out.split()[0]) == (0, "Already")
    code, out, _ = run("logs", "--db", str(db), "--json")
    assert code == 0
    [listed] = json.loads(out)["logs"]
    assert (listed["origin"], listed["size"]) == (log.origin, None)
    code, out, _ = run("logs", "--db", str(db))
    assert code == 0
    assert log.origin in out


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["keygen", "--name", "has space", "--out", "{tmp}/k"], 1, "space"),
        (["trust-log", "--db", "{tmp}/w.sqlite3", "--log-key", "nonsense"], 1, "malformed"),
        (["logs", "--db", "{tmp}/absent.sqlite3"], 2, "no witness database"),
        (["serve", "--key", "{tmp}/absent.key", "--db", "{tmp}/w.sqlite3"], 2, "keygen"),
    ],
    ids=["bad name", "bad vkey", "no database", "no key"],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], code: int, says: str) -> None:
    exit_code, _, err = run(*(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert exit_code == code
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("regie: ")


def test_serve_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    key, db, _ = make_witness(tmp_path, TestLog.create("wallet.example/log", 1))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        exit_code, _, err = run("serve", "--key", str(key), "--db", str(db), "--port", str(port))
    assert exit_code == 2
    assert err.startswith(f"regie: cannot listen on 127.0.0.1:{port}")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.service
def test_serve_cosigns_over_http(tmp_path: Path) -> None:
    log = TestLog.create("wallet.example/log", 6)
    key, db, witness = make_witness(tmp_path, log)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*COMMAND, "serve", "--key", str(key), "--db", str(db), "--port", str(port)]
    server = serve_process(
        command, env=dict(os.environ), log=tmp_path / "witness.log", ready=base + "/v1/logs",
        name="the witness",
    )  # fmt: skip
    with server, httpx.Client(timeout=10) as client:
        answer = request_cosignature_sync(
            client, base, old_size=0, proof=[], checkpoint=log.checkpoint(6)
        )
    note = with_cosignatures(log.checkpoint(6), answer.cosignatures)
    opened = open_checkpoint(note, log.key.verifier(), witnesses=[witness], quorum=1)
    assert opened.checkpoint.size == 6
    _, out, _ = run("logs", "--db", str(db), "--json")
    assert json.loads(out)["logs"][0]["size"] == 6
