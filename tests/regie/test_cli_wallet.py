"""``regie wallet ...`` as a person runs it: exit codes, one-line refusals, the vault unchanged.

The issuer is a real in-process service (its status list served through
``httpx.ASGITransport``); the CLI's fetcher is replaced by one that reaches it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from issuer import CREDENTIAL_TYPES, Issuer, new_state
from regie.cli import app
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from regie_protocol.registry import RegisteredVerifier, Registry
from regie_protocol.statuslist import Status
from tests.wallet.credentials.helpers import (
    BRP_SAMPLE,
    BRP_VCT,
    ISSUER_ID,
    PASSPHRASE,
    AsgiFetcher,
    IssuerWorld,
    start_issuer,
)
from wallet.unlock_guard import FAILURES_FILE

runner = CliRunner()
YEAR = 365 * 86400


@dataclass
class Env:
    home: Path
    tmp: Path
    world: IssuerWorld
    now: int
    monkeypatch: pytest.MonkeyPatch

    def run(self, *args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["wallet", *args], input=input)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, result.stderr
        return result

    def file(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def holder(self) -> str:
        """A new holder key's public JWK (JSON text)."""
        return self.ok("holder-key").stdout

    def credential(self, holder_jwk: str, *, at: int | None = None) -> tuple[Path, int]:
        public = public_key_from_jwk(json.loads(holder_jwk))
        token, index = self.world.issue(public, now=self.now if at is None else at)
        return self.file(f"cred-{index}.txt", token + "\n"), index

    def vault_bytes(self) -> bytes:
        """The database file and its WAL (an empty WAL, which holds nothing, counts as none)."""
        parts = [self.home / "wallet.sqlite3", self.home / "wallet.sqlite3-wal"]
        return b"".join(
            p.name.encode() + p.read_bytes() for p in parts if p.exists() and p.stat().st_size
        )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    home = tmp_path / "home"
    for name, value in {
        "REGIE_HOME": str(home),
        "REGIE_PASSPHRASE": PASSPHRASE,
        "REGIE_KDF": "unsafe-fast",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REGIE_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGIE_ALLOW_LOCAL_URLS", raising=False)
    now = int(time.time())
    world = start_issuer(tmp_path, now=now)
    monkeypatch.setattr("regie.cli_wallet.make_fetcher", lambda: AsgiFetcher(world.app))
    return Env(home, tmp_path, world, now, monkeypatch)


def _ready(env: Env) -> str:
    """init, a holder key, the BRP issuer trusted: returns the holder's public JWK."""
    env.ok("init")
    holder = env.holder()
    env.ok("trust", "add-issuer", ISSUER_ID, "--metadata", ISSUER_ID)
    return holder


def test_init_refuses_a_second_time_and_weak_passphrases(env: Env) -> None:
    created = env.ok("init")
    assert str(env.home) in created.stdout
    again = env.run("init")
    assert again.exit_code == 2 and "already exists" in again.stderr
    env.monkeypatch.setenv("REGIE_PASSPHRASE", "password123")
    weak = env.run("init", "--home", str(env.tmp / "other"))
    assert weak.exit_code == 1
    assert "key_weak" in weak.stderr and "too common" in weak.stderr
    env.monkeypatch.delenv("REGIE_PASSPHRASE")
    mismatch = env.run("init", "--home", str(env.tmp / "third"), input=f"{PASSPHRASE}\nother\n" * 2)
    assert mismatch.exit_code != 0
    asked = env.run("init", "--home", str(env.tmp / "fourth"), input=f"{PASSPHRASE}\n" * 2)
    assert asked.exit_code == 0, asked.stderr


def test_holder_key_prints_a_public_jwk(env: Env) -> None:
    env.ok("init")
    for alg in ("EdDSA", "ES256"):
        jwk = json.loads(env.ok("holder-key", "--alg", alg).stdout)
        assert "d" not in jwk and jwk["alg"] == alg
        assert public_key_from_jwk(jwk).thumbprint() == jwk["kid"]


def test_receive_list_show_replace_prune_delete(env: Env) -> None:
    holder = _ready(env)
    listed = json.loads(env.ok("trust", "list", "--json").stdout)
    assert [i["issuer"] for i in listed] == [ISSUER_ID]
    assert "Trusted issuers" in env.ok("trust", "list").stdout  # a Rich table

    first_file, _ = env.credential(holder)
    got = env.ok("receive", str(first_file)).stdout
    assert "Received" in got and BRP_VCT in got
    (row,) = json.loads(env.ok("list", "--json").stdout)
    assert (row["issuer"], row["state"], row["type"]) == (
        ISSUER_ID,
        "valid",
        "brp-persoonsgegevens",
    )
    shown = json.loads(env.ok("show", row["id"], "--json").stdout)
    assert shown["claims"]["address"]["street_address"] == BRP_SAMPLE["address"]["street_address"]
    assert "family_name" in shown["disclosable"]
    assert "Oudegracht 231" in env.ok("show", row["id"]).stdout
    assert "Credentials" in env.ok("list").stdout  # a Rich table

    newer_file, index = env.credential(holder, at=env.now + 1)
    replaced = (
        env.ok(
            "receive",
            "-",
        ).stdout
        if False
        else env.ok("receive", str(newer_file)).stdout
    )
    assert f"replaces the older one: {row['id']}" in replaced
    (row2,) = json.loads(env.ok("list", "--json").stdout)
    env.world.set_status(index, Status.INVALID)
    assert json.loads(env.ok("list", "--json").stdout)[0]["state"] == "revoked"
    pruned = env.ok("prune").stdout
    assert row2["id"] in pruned and "revoked" in pruned
    assert json.loads(env.ok("list", "--json").stdout) == []
    assert "Nothing to remove" in env.ok("prune").stdout

    third, _ = env.credential(holder, at=env.now + 2)
    result = runner.invoke(app, ["wallet", "receive", "-"], input=third.read_text())
    assert result.exit_code == 0, result.stderr
    (row3,) = json.loads(env.ok("list", "--json").stdout)
    env.ok("delete", row3["id"])
    assert json.loads(env.ok("list", "--json").stdout) == []
    missing = env.run("delete", row3["id"])
    assert missing.exit_code == 2 and "no record" in missing.stderr


def test_offline_status_is_unknown(env: Env) -> None:
    holder = _ready(env)
    env.ok("receive", str(env.credential(holder)[0]))
    env.monkeypatch.setattr("regie.cli_wallet.make_fetcher", lambda: _Offline())
    (row,) = json.loads(env.ok("list", "--json").stdout)
    assert row["state"] == "unknown (offline)"


class _Offline:
    def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        from regie_protocol.errors import Unavailable

        raise Unavailable("offline")


def test_trust_with_jwks_file_and_registry(env: Env) -> None:
    env.ok("init")
    jwks = env.file("jwks.json", json.dumps(env.world.jwks()))
    assert "Now trusting" in env.ok("trust", "add-issuer", ISSUER_ID, "--jwks", str(jwks)).stdout
    assert "Updated" in env.ok("trust", "add-issuer", ISSUER_ID, "--jwks", str(jwks)).stdout
    both = env.run("trust", "add-issuer", ISSUER_ID, "--jwks", str(jwks), "--metadata", ISSUER_ID)
    assert both.exit_code == 2
    registrar = SigningKey.generate(Alg.EDDSA)
    key_file = env.file("registrar.jwk", json.dumps(registrar.public_key.to_jwk()))
    verifier = RegisteredVerifier(
        id="https://gemeente.example/parkeren",
        name="Parkeren",
        signing_keys=(SigningKey.generate(Alg.EDDSA).public_key,),
        attributes=frozenset({"address"}),
        purposes=frozenset({"https://w3id.org/dpv#ServiceProvision"}),
    )
    v2 = Registry.new("https://registrar.example", now=env.now).with_verifier(verifier, now=env.now)
    v3 = v2.with_verifier(verifier, now=env.now)
    first = env.file("reg2.jwt", v2.sign(registrar))
    no_key = env.run("trust", "add-registry", str(first))
    assert no_key.exit_code == 2 and "--registrar-jwk" in no_key.stderr
    loaded = env.ok("trust", "add-registry", str(first), "--registrar-jwk", str(key_file)).stdout
    assert "version 2" in loaded
    assert (
        "was version 2"
        in env.ok("trust", "add-registry", str(env.file("r3", v3.sign(registrar)))).stdout
    )
    rollback = env.run("trust", "add-registry", str(first))
    assert rollback.exit_code == 1 and "version_rollback" in rollback.stderr


# --- bad input, nothing lost ---------------------------------------------------------


def _flip_wrapped_master(env: Env) -> None:
    with sqlite3.connect(env.home / "wallet.sqlite3") as conn:
        (blob,) = conn.execute("SELECT wrapped_master FROM wallet").fetchone()
        flipped = bytes([blob[0]]) + bytes([blob[1] ^ 1]) + blob[2:]
        conn.execute("UPDATE wallet SET wrapped_master = ?", (flipped,))
    with sqlite3.connect(env.home / "wallet.sqlite3") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _garbage_file(env: Env) -> None:
    path = env.home / "wallet.sqlite3"
    data = bytearray(path.read_bytes())
    data[:100] = b"\x00" * 100
    path.write_bytes(bytes(data))


def _issue_elsewhere(env: Env, holder: str) -> Path:
    other = Issuer(
        new_state("https://other.example"), SigningKey.generate(Alg.EDDSA), CREDENTIAL_TYPES
    )
    claims = {**BRP_SAMPLE, "age_over_18": True, "age_over_65": True}
    issued = other.issue(
        vct=BRP_VCT, claims=claims, holder=public_key_from_jwk(json.loads(holder)), now=env.now
    )
    return env.file("other.txt", issued.token)


def _tamper(path: Path) -> Path:
    token = path.read_text().strip()
    head, body, sig = token.split("~", 1)[0].split(".")
    flipped = sig[:5] + ("A" if sig[5] != "A" else "B") + sig[6:]
    path.write_text(f"{head}.{body}.{flipped}~{token.split('~', 1)[1]}")
    return path


@dataclass
class Bad:
    #: prepares the damage (may write files), returns the command to run
    prepare: Callable[[Env, str], list[str]]
    message: str


def _wrong_passphrase(env: Env, holder: str) -> list[str]:
    env.monkeypatch.setenv("REGIE_PASSPHRASE", "a different passphrase")
    return ["list"]


def _another_holder(env: Env, holder: str) -> list[str]:
    other = json.dumps(SigningKey.generate(Alg.EDDSA).public_key.to_jwk())
    return ["receive", str(env.credential(other)[0])]


def _expired(env: Env, holder: str) -> list[str]:
    return ["receive", str(env.credential(holder, at=env.now - 2 * YEAR)[0])]


def _revoked(env: Env, holder: str) -> list[str]:
    path, index = env.credential(holder)
    env.world.set_status(index, Status.INVALID)
    return ["receive", str(path)]


BAD = {
    "wrong passphrase": Bad(_wrong_passphrase, "passphrase is wrong or the vault is damaged"),
    "corrupt vault (wrapped key)": Bad(
        lambda e, h: (_flip_wrapped_master(e), ["list"])[1],
        "passphrase is wrong or the vault is damaged",
    ),
    "corrupt vault file": Bad(lambda e, h: (_garbage_file(e), ["list"])[1], "unavailable"),
    "credential for another holder": Bad(_another_holder, "bound to another holder"),
    "expired credential": Bad(_expired, "expired"),
    "revoked credential": Bad(_revoked, "revoked"),
    "unknown issuer": Bad(
        lambda e, h: ["receive", str(_issue_elsewhere(e, h))], "issuer_untrusted"
    ),
    "tampered credential": Bad(
        lambda e, h: ["receive", str(_tamper(e.credential(h)[0]))], "signature_invalid"
    ),
}


@pytest.mark.parametrize("bad", BAD.values(), ids=BAD.keys())
def test_bad_input_nothing_lost(env: Env, bad: Bad) -> None:
    holder = _ready(env)
    env.ok("receive", str(env.credential(holder, at=env.now - 10)[0]))  # positive control
    args = bad.prepare(env, holder)
    before = env.vault_bytes()
    result = env.run(*args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("regie: ") and bad.message in lines[0], lines
    assert env.vault_bytes() == before


def test_failed_unlock_is_counted_and_reset(env: Env) -> None:
    env.ok("init")
    env.monkeypatch.setenv("REGIE_PASSPHRASE", "a different passphrase")
    assert env.run("list").exit_code == 1
    assert (env.home / FAILURES_FILE).read_text() == "1"
    env.monkeypatch.setattr("wallet.unlock_guard.time.sleep", lambda s: None)
    env.monkeypatch.setenv("REGIE_PASSPHRASE", PASSPHRASE)
    env.ok("list")
    assert not (env.home / FAILURES_FILE).exists()
