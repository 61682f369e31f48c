"""``regie wallet log ...`` and ``regie audit keygen``, run as an operator, citizen, auditor."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from regie.cli import app
from regie_protocol.tlog.checkpoint import open_checkpoint
from regie_protocol.tlog.note import NoteVerifier
from tests.regie.consent_cli import citizen_environment, runner
from tests.wallet.consents.helpers import setup_wallet
from tests.wallet.databases import Target, target

__all__ = ["target"]


@pytest.fixture
def home(target: Target, monkeypatch: pytest.MonkeyPatch) -> Path:
    citizen_environment(monkeypatch, target.home, target.url)
    db = target.open()
    try:
        setup_wallet(db, now=int(time.time()))
    finally:
        db.dispose()
    return target.home


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_key_checkpoint_and_readers(home: Path, tmp_path: Path) -> None:
    vkey = NoteVerifier.parse(_ok("wallet", "log", "key").strip())
    assert _ok("wallet", "log", "key").strip() == vkey.vkey()  # the same key every time
    note = _ok("wallet", "log", "checkpoint").encode()
    assert open_checkpoint(note, vkey).checkpoint.origin == vkey.name

    key_file = tmp_path / "ap.jwk"
    public = json.loads(_ok("audit", "keygen", "--out", str(key_file)))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and "d" not in public
    (tmp_path / "ap-public.jwk").write_text(json.dumps(public))
    added = json.loads(
        _ok(
            "wallet",
            "log",
            "reader",
            "add",
            str(tmp_path / "ap-public.jwk"),
            "--name",
            "AP",
            "--json",
        )
    )
    assert (added["role"], added["wallet"]) == ("auditor", None)
    mine = tmp_path / "mine.jwk"
    (tmp_path / "mine-public.jwk").write_text(_ok("audit", "keygen", "--out", str(mine)))
    citizen = json.loads(
        _ok(
            "wallet", "log", "reader", "add", str(tmp_path / "mine-public.jwk"),
            "--name", "me", "--citizen", "--json",
        )
    )  # fmt: skip
    assert citizen["role"] == "citizen" and citizen["wallet"]
    listed = json.loads(_ok("wallet", "log", "reader", "list", "--json"))
    assert {r["name"] for r in listed} == {"AP", "me"}

    again = runner.invoke(
        app, ["wallet", "log", "reader", "add", str(tmp_path / "ap-public.jwk"), "--name", "AP"]
    )
    assert again.exit_code == 2 and "already a log reader" in again.stderr
    private = runner.invoke(
        app, ["wallet", "log", "reader", "add", str(key_file), "--name", "oops"]
    )
    assert private.exit_code == 1 and private.stderr.count("\n") == 1  # a private JWK: refused
    _ok("wallet", "log", "reader", "remove", added["jkt"])
    gone = runner.invoke(app, ["wallet", "log", "reader", "remove", added["jkt"]])
    assert gone.exit_code == 2 and "no log reader" in gone.stderr
    exists = runner.invoke(app, ["audit", "keygen", "--out", str(key_file)])
    assert exists.exit_code == 2 and "never overwritten" in exists.stderr
