"""``regie wallet export`` / ``import`` as a citizen runs them, on SQLite and PostgreSQL.

A round trip into a fresh home, an old export that does not undo a revocation
(T26), and bad files: each one line, exit 1, the vault unchanged.
"""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from regie.cli import app
from tests.wallet.consents.helpers import HOST_URL, PASSPHRASE, Setup, setup_wallet, snapshot
from tests.wallet.databases import Target, target
from tests.wallet.export.helpers import EXPORT_PASSPHRASE, contents, sibling, terms
from wallet import consents
from wallet.core import unlock_wallet
from wallet.export import decrypt_export, encrypt_export
from wallet.vault import KdfFloor, VaultPassphrase

__all__ = ["target"]

runner = CliRunner()


@dataclass
class Env:
    target: Target
    setup: Setup
    consent_ids: list[str]
    monkeypatch: pytest.MonkeyPatch

    def use(self, where: Target) -> None:
        self.monkeypatch.setenv("REGIE_HOME", str(where.home))
        if where.url:
            self.monkeypatch.setenv("REGIE_DATABASE_URL", where.url)
        else:
            self.monkeypatch.delenv("REGIE_DATABASE_URL", raising=False)

    def run(self, *args: str) -> Result:
        return runner.invoke(app, list(args))

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, result.stderr
        return result

    def export(self, name: str = "backup.jwe") -> Path:
        path = self.target.home.parent / f"{self.target.home.name}-{name}"
        self.ok("wallet", "export", str(path))
        return path


@pytest.fixture
def env(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for name, value in {
        "REGIE_KDF": "unsafe-fast",
        "REGIE_PASSPHRASE": PASSPHRASE,
        "REGIE_EXPORT_PASSPHRASE": EXPORT_PASSPHRASE,
        "REGIE_WALLET_HOST_URL": HOST_URL,
    }.items():
        monkeypatch.setenv(name, value)
    db = target.open()
    try:
        now = int(time.time())
        setup = setup_wallet(db, now=now)
        ids = [
            consents.grant(
                setup.wallet, terms(), registry=setup.registry, now=now, host_url=HOST_URL
            ).id
            for _ in range(2)
        ]
        consents.revoke(setup.wallet, ids[1], now=now)
        e = Env(target, setup, ids, monkeypatch)
        e.use(target)
        yield e
    finally:
        db.dispose()


def _contents(where: Target) -> dict[str, Any]:
    db = where.open()
    try:
        wallet = unlock_wallet(
            db, VaultPassphrase(PASSPHRASE), floor=KdfFloor.unsafe_accept_test_params()
        )
        return contents(wallet, now=int(time.time()))
    finally:
        db.dispose()


def _snap(where: Target) -> tuple[object, ...]:
    db = where.open()
    try:
        return snapshot(db, where.home)
    finally:
        db.dispose()


def test_round_trip_into_a_fresh_home(env: Env) -> None:
    path = env.export()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().count(".") == 4
    before = _contents(env.target)
    with sibling(env.target) as fresh:
        env.use(fresh)
        env.ok("wallet", "init")
        result = env.ok("wallet", "import", str(path), "--json")
        summary = json.loads(result.stdout)
        assert summary["consents_added"] == 2 and summary["registry"] == "added"
        assert _contents(fresh) == before  # same records (all open), consents, tokens, events
        shown = json.loads(env.ok("consent", "show", env.consent_ids[0], "--json").stdout)
        original = consents.show(env.setup.wallet, env.consent_ids[0], now=int(time.time()))
        assert shown["token"] == original.token and shown["state"] == "given"
        plain = env.ok("wallet", "import", str(path))
        assert "0 record(s) added" in plain.stdout and "0 consent(s) added" in plain.stdout


def test_an_old_export_does_not_undo_a_revocation(env: Env) -> None:
    path = env.export()
    env.ok("consent", "revoke", env.consent_ids[0])
    env.ok("wallet", "import", str(path))
    shown = json.loads(env.ok("consent", "show", env.consent_ids[0], "--json").stdout)
    assert shown["state"] == "withdrawn" and shown["status"]["value"] == 1
    history = json.loads(env.ok("consent", "history", env.consent_ids[0], "--json").stdout)
    assert [e["event"] for e in history] == ["consent.granted", "consent.withdrawn"]


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _flipped(path: Path) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2
    data[i] = ord("A") if data[i] != ord("A") else ord("B")
    path.write_bytes(bytes(data))


def _unknown_version(path: Path) -> None:
    doc = decrypt_export(path.read_bytes(), VaultPassphrase(EXPORT_PASSPHRASE))
    raw = {
        "format": "regie-wallet-export",
        "version": 2,
        "wallet": doc.wallet,
        "exported_at": doc.exported_at,
        "records": list(doc.records),
        "trusted_issuers": list(doc.trusted_issuers),
        "registry": doc.registry,
        "consents": list(doc.consents),
        "consent_events": list(doc.consent_events),
        "status": list(doc.status),
    }
    path.write_text(encrypt_export(raw, VaultPassphrase(EXPORT_PASSPHRASE)))


def _nothing(path: Path) -> None:
    pass


BAD: list[tuple[str, Callable[[Path], None], str]] = [
    ("wrong_passphrase", _nothing, "key_invalid"),
    ("truncated_file", _truncated, "malformed"),
    ("flipped_byte", _flipped, "key_invalid"),
    ("unknown_version", _unknown_version, "malformed"),
    ("another_wallets_export", _nothing, "claim_invalid"),
]


@pytest.mark.parametrize(("case", "damage", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_import_is_one_line_and_changes_nothing(
    env: Env, case: str, damage: Callable[[Path], None], code: str
) -> None:
    path = env.export()
    env.ok("wallet", "import", str(path))  # positive control: the good file imports
    if case == "another_wallets_export":
        with sibling(env.target) as someone:
            db = someone.open()
            try:
                setup_wallet(db, now=int(time.time()))
            finally:
                db.dispose()
            env.use(someone)
            path = env.export("someone.jwe")
        env.use(env.target)
    damage(path)
    if case == "wrong_passphrase":
        env.monkeypatch.setenv("REGIE_EXPORT_PASSPHRASE", "een heel ander wachtwoord")
    before = _snap(env.target)
    result = env.run("wallet", "import", str(path))
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith(f"regie: {code}: "), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert _snap(env.target) == before
    if case == "another_wallets_export":
        assert "belongs to another wallet" in result.stderr


def test_export_refusals(env: Env) -> None:
    path = env.export()
    again = env.run("wallet", "export", str(path))
    assert again.exit_code == 2 and "already exists" in again.stderr
    env.monkeypatch.setenv("REGIE_EXPORT_PASSPHRASE", "password123")
    weak = env.run("wallet", "export", str(path.with_name("weak.jwe")))
    assert weak.exit_code == 1 and weak.stderr.count("\n") == 1
    assert not path.with_name("weak.jwe").exists()
    missing = env.run("wallet", "import", str(path.with_name("missing.jwe")))
    assert missing.exit_code == 2
