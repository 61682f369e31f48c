"""``regie verify`` and ``regie verifier ...`` as an operator runs them, against the real host.

The wallet host and the issuer's status list are the in-process apps of
:mod:`tests.verifier.host_world`; the CLI's HTTP client and clock are replaced
(``regie.cli_verifier_io.make_http`` / ``now``) by ones that reach them. Exit
codes: 0 ok, 1 refused (one line, no traceback), 2 usage.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from regie.cli import app
from regie_protocol.registry import RegisteredVerifier
from tests.verifier.host_world import BRP, DESK, HOST_URL, HostWorld, host_world
from tests.wallet.databases import Target
from verifier.identity import load_identity, save_identity
from wallet.consents import revoke
from wallet.requests import pending_requests

runner = CliRunner()


@dataclass
class Env:
    world: HostWorld
    home: Path
    monkeypatch: pytest.MonkeyPatch


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with host_world(Target("sqlite", None, tmp_path), tmp_path) as world:
        home = tmp_path / "desk"
        monkeypatch.setenv("REGIE_VERIFIER_HOME", str(home))
        monkeypatch.delenv("REGIE_VERIFIER_DATABASE_URL", raising=False)
        monkeypatch.setattr(
            "regie.cli_verifier_io.make_http", lambda: httpx.Client(transport=world.transport)
        )
        monkeypatch.setattr("regie.cli_verifier_io.now", world.clock)
        yield Env(world, home, monkeypatch)


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def run_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def set_up(env: Env) -> None:
    """The desk's identity (the registered one), and its trust in the host and the issuer."""
    save_identity(env.world.identity, env.home / "identity.json")
    assert run("verifier", "trust", "host", HOST_URL).exit_code == 0
    jwks = env.home.parent / "issuer.jwks"
    jwks.write_text(json.dumps(env.world.issuer.jwks()))
    result = run("verifier", "trust", "issuer", BRP.issuer_id, "--jwks", str(jwks))
    assert result.exit_code == 0, result.stderr


def ask(env: Env, *extra: str) -> dict[str, Any]:
    return dict(
        run_json(
            "verifier",
            "request",
            "--host",
            HOST_URL,
            "--inbox",
            env.world.wallet.owner,
            "--attributes",
            "address",
            "--purpose",
            "ServiceProvision",
            "--legal-basis",
            "A6-1-a",
            "--retention",
            "30d",
            *extra,
        )
    )


def test_keygen_register(env: Env) -> None:
    shown = run_json("verifier", "keygen", "--id", DESK, "--name", "Parkeren", "--alg", "ES256")
    identity_file = env.home / "identity.json"
    assert stat.S_IMODE(identity_file.stat().st_mode) == 0o600
    identity = load_identity(identity_file)
    assert shown["jkt"] == identity.jkt
    assert all("d" not in key for key in shown["keys"])
    again = run("verifier", "keygen", "--id", DESK, "--name", "Parkeren")
    assert again.exit_code == 2  # exists: --force needed
    out_dir = env.home.parent / "registration"
    result = run(
        "verifier",
        "register",
        "--attributes",
        "address",
        "--purposes",
        "ServiceProvision",
        "--out",
        str(out_dir),
    )
    assert result.exit_code == 0, result.stderr
    entry = RegisteredVerifier.from_json(json.loads(result.stdout))
    assert entry.id == DESK
    assert entry.signing_keys[0] == identity.signing_key.public_key
    assert "regie registry add" in result.stderr
    assert json.loads((out_dir / "signing.jwk").read_text())["kid"] == identity.jkt
    assert "d" not in json.loads((out_dir / "encryption.jwk").read_text())
    bad = run("verifier", "keygen", "--id", "http://desk.example", "--name", "x", "--force")
    assert bad.exit_code == 2


def test_request_collect_verify_read_purge_revoke(env: Env) -> None:
    set_up(env)
    trust = run_json("verifier", "trust", "show")
    assert list(trust["walletHosts"]) == [HOST_URL]
    asked = ask(env)
    assert asked["state"] == "pending"
    request_id = asked["request"]
    pending = run_json("verifier", "collect", request_id)
    assert pending["state"] == "pending"
    consent_id = env.world.approve(request_id)
    collected = run_json("verifier", "collect", request_id)
    assert (collected["state"], collected["consent"]) == ("approved", consent_id)
    assert collected["attributes"] == ["address"]
    token = _token(env, consent_id)

    verified = run_json("verify", token, "--audience", DESK)
    assert verified["valid"] is True
    assert verified["consent"] == consent_id
    plain = run("verify", token, "--audience", DESK, "--attributes", "address")
    assert plain.exit_code == 0
    assert plain.stdout.startswith("valid: consent")

    read = run_json("verifier", "read", consent_id, "--attributes", "address", "--keep")
    assert read["attributes"]["address"]["locality"] == "Utrecht"
    assert read["use"] == 1
    assert read["keptUntil"] is not None
    env.world.clock.now += 60
    text = run("verifier", "read", consent_id)
    assert text.exit_code == 0, text.stderr
    assert "Oudegracht 231" in text.stdout

    assert run_json("verifier", "purge")["purged"] == []
    listed = run_json("verifier", "consents")
    assert [c["consent"] for c in listed] == [consent_id]

    revoke(env.world.wallet, consent_id, now=env.world.clock.now)
    env.world.clock.now += 3600
    refused = run("verify", token, "--audience", DESK)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("regie: revoked:")
    assert len(refused.stderr.strip().splitlines()) == 1
    refused_json = run("verify", token, "--audience", DESK, "--json")
    assert refused_json.exit_code == 1
    assert json.loads(refused_json.stdout)["code"] == "revoked"
    purged = run_json("verifier", "purge")
    assert [(p["consent"], p["reason"]) for p in purged["purged"]] == [(consent_id, "withdrawn")]
    assert run("verifier", "read", consent_id).exit_code == 1


def test_after_a_withdrawal_read_is_refused_and_purge_deletes_at_once(env: Env) -> None:
    set_up(env)
    request_id = ask(env)["request"]
    consent_id = env.world.approve(request_id)
    collected = run("verifier", "collect", request_id)
    assert collected.exit_code == 0, collected.stderr
    assert collected.stdout == f"Approved: consent {consent_id} (attributes address).\n"
    run_json("verifier", "read", consent_id, "--keep")
    revoke(env.world.wallet, consent_id, now=env.world.clock.now)
    # no time passes: each command sees the host's list (or the host's refusal) as it is now
    refused = run("verifier", "read", consent_id)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(("regie: consent_ended:", "regie: revoked:"))
    purged = run_json("verifier", "purge")
    assert [(p["consent"], p["reason"]) for p in purged["purged"]] == [(consent_id, "withdrawn")]
    assert (purged["remaining"], purged["unchecked"]) == (0, [])
    assert [c["state"] for c in run_json("verifier", "consents")] == ["withdrawn"]


def _token(env: Env, consent_id: str) -> str:
    from verifier.store import VerifierStore

    store = VerifierStore.open(env.home / "verifier.sqlite3")
    try:
        stored = store.consent(consent_id)
        assert stored is not None
        return stored.token
    finally:
        store.close()


def test_request_wait_collects_the_answer(env: Env) -> None:
    set_up(env)
    approvals: list[str] = []

    def citizen_answers(seconds: float) -> None:
        views = pending_requests(env.world.wallet, now=env.world.clock.now)
        approvals.append(env.world.approve(views[0].id))

    env.monkeypatch.setattr("regie.cli_verifier_io.pause", citizen_answers)
    answered = ask(env, "--wait", "--timeout", "30")
    assert answered["state"] == "approved"
    assert answered["consent"] == approvals[0]


def test_verify_fails_closed_when_the_status_list_is_unreachable(env: Env) -> None:
    set_up(env)
    request_id = ask(env)["request"]
    consent_id = env.world.approve(request_id)
    run_json("verifier", "collect", request_id)
    token = _token(env, consent_id)

    def unreachable() -> httpx.Client:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("unreachable", request=request)

        return httpx.Client(transport=httpx.MockTransport(refuse))

    env.monkeypatch.setattr("regie.cli_verifier_io.make_http", unreachable)
    result = run("verify", token, "--audience", DESK)
    assert result.exit_code == 1
    assert result.stderr.startswith("regie: unavailable:")


def test_verify_with_a_holder_jwk_file_and_refusals(env: Env) -> None:
    set_up(env)
    request_id = ask(env)["request"]
    consent_id = env.world.approve(request_id)
    run_json("verifier", "collect", request_id)
    token = _token(env, consent_id)
    from verifier.store import VerifierStore

    store = VerifierStore.open(env.home / "verifier.sqlite3")
    stored = store.consent(consent_id)
    store.close()
    assert stored is not None
    jwk = env.home.parent / "holder.jwk"
    jwk.write_text(json.dumps(dict(stored.holder_jwk)))
    assert run("verify", token, "--audience", DESK, "--holder-jwk", str(jwk)).exit_code == 0
    other = run("verify", token, "--audience", "https://bank.example")
    assert other.exit_code == 1
    assert other.stderr.startswith("regie: audience_mismatch:")
    garbage = run("verify", "not-a-token", "--audience", DESK)
    assert garbage.exit_code == 1
    needs = run("verify", token, "--audience", DESK, "--attributes", "given_name")
    assert needs.exit_code == 1
    assert needs.stderr.startswith("regie: not_consented:")
    env.monkeypatch.setenv("REGIE_VERIFIER_HOME", str(env.home.parent / "empty"))
    nothing = run("verify", token, "--audience", DESK)
    assert nothing.exit_code == 2  # no holder key anywhere: a usage problem


def test_save_identity_refuses_overwrite(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "id.json"
    save_identity(env.world.identity, path)
    from regie_protocol.errors import Misuse

    with pytest.raises(Misuse):
        save_identity(env.world.identity, path)
