"""``regie audit verify/report/export --host``: the auditor against the real wallet host.

The host is the app of :mod:`tests.wallet.host.world` on SQLite, reached by the
CLI's own :class:`httpx.Client` through a transport that runs each request on
the ASGI app (``regie.cli_audit.make_http`` is replaced; nothing else is).
The auditor's key is registered as a log reader the way the host does it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from regie.cli_audit import audit_app
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.private_files import write_private_file
from tests.wallet.databases import Target
from tests.wallet.host.world import HOST_URL, NOW, World, make_world
from wallet import consents
from wallet.log.access import add_reader
from wallet.storage import LogReaderRole

runner = CliRunner()


class AsgiBridge(httpx.BaseTransport):
    """A synchronous httpx transport that hands each request to an ASGI app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport) as client:
                answer = await client.request(
                    request.method, request.url, headers=request.headers, content=body
                )
                await answer.aread()
                return answer

        answer = anyio.run(send)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with make_world(Target("sqlite", None, tmp_path)) as built:
        bridge = AsgiBridge(built.client.app)
        monkeypatch.setattr("regie.cli_audit.make_http", lambda: httpx.Client(transport=bridge))
        monkeypatch.setattr("regie.cli_audit.now", built.clock)
        yield built


def auditor_key(world: World, path: Path, role: LogReaderRole = LogReaderRole.AUDITOR) -> Path:
    key = SigningKey.generate(Alg.EDDSA)
    jwk: dict[str, object] = dict(key.public_key.to_jwk())
    world.db.run(lambda conn: add_reader(conn, jwk=jwk, role=role, name="the auditor", now=NOW))
    write_private_file(path, key.export_private_jwk(protection=Unprotected()))
    return path


def run(*args: str | Path) -> Any:
    return runner.invoke(audit_app, [str(a) for a in args])


def history(world: World) -> None:
    granted = world.consent()
    for step in range(3):
        world.clock.now = NOW + 10 * (step + 1)
        assert world.read(granted.token).status_code == 200
    consents.revoke(world.wallet, granted.id, now=world.clock.now + 5)
    world.clock.now += 60
    assert world.read(granted.token).status_code == 403


def test_verify_report_and_export_against_the_host(world: World, tmp_path: Path) -> None:
    history(world)
    key = auditor_key(world, tmp_path / "auditor.jwk")
    trusted = tmp_path / "trusted.json"
    log_key = world.client.get("/v1/log/key").text.strip()
    assert run("trust", "--log-key", log_key, "--trusted", trusted).exit_code == 0

    verified = run(
        "verify", "--host", HOST_URL, "--key", key, "--fresh", "--trusted", trusted, "--json"
    )
    assert verified.exit_code == 0, verified.stderr
    summary = json.loads(verified.stdout)
    assert summary["size"] >= 7
    assert summary["eventsChecked"] == summary["size"]
    assert summary["hiddenEvents"] == 0

    reported = run(
        "report",
        "--host",
        HOST_URL,
        "--key",
        key,
        "--trusted",
        trusted,
        "--json",
        "--now",
        str(NOW),
    )
    assert reported.exit_code == 0, reported.stderr + reported.stdout
    document = json.loads(reported.stdout)
    assert document["ok"] is True
    assert document["events"]["byName"]["data.released"] == 3
    assert document["events"]["byName"]["data.refused"] == 1
    assert document["readsByVerifier"] == [{"name": world.a.id, "count": 3}]

    out = tmp_path / "export"
    exported = run("export", "--host", HOST_URL, "--key", key, "--out", out, "--json")
    assert exported.exit_code == 0, exported.stderr
    assert json.loads(exported.stdout)["size"] == summary["size"]
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.txt",
        "events.jsonl",
        "leaf-hashes.bin",
        "log.json",
    ]
    offline = run("verify", "--export", out, "--trusted", trusted)
    assert offline.exit_code == 0, offline.stderr
    assert "Unchanged since your last check" in offline.stdout
    again = run("export", "--host", HOST_URL, "--key", key, "--out", out)
    assert again.exit_code == 2
    assert "not an empty directory" in again.stderr

    world.consent()  # the log grows: the next check needs a consistency proof from the host
    grown = run("verify", "--host", HOST_URL, "--key", key, "--fresh", "--trusted", trusted)
    assert grown.exit_code == 0, grown.stderr
    assert f"Grew from {summary['size']} to" in grown.stdout


def test_without_a_key_the_tree_is_checked_and_events_stay_hidden(
    world: World, tmp_path: Path
) -> None:
    history(world)
    trusted = tmp_path / "trusted.json"
    assert (
        run(
            "trust", "--log-key", world.client.get("/v1/log/key").text.strip(), "--trusted", trusted
        ).exit_code
        == 0
    )
    result = run("verify", "--host", HOST_URL, "--trusted", trusted, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["eventsChecked"] == 0
    assert summary["hiddenEvents"] == summary["size"]


def test_a_key_the_host_does_not_know_is_refused(world: World, tmp_path: Path) -> None:
    history(world)
    stranger = SigningKey.generate(Alg.EDDSA)
    path = tmp_path / "stranger.jwk"
    write_private_file(path, stranger.export_private_jwk(protection=Unprotected()))
    trusted = tmp_path / "trusted.json"
    assert (
        run(
            "trust", "--log-key", world.client.get("/v1/log/key").text.strip(), "--trusted", trusted
        ).exit_code
        == 0
    )
    result = run("report", "--host", HOST_URL, "--key", path, "--trusted", trusted)
    assert result.exit_code == 1
    assert result.stderr.startswith("regie: log_access_refused: ")
    assert json.loads(trusted.read_text())["checkpoint"] is None
