"""The host as a service: settings, its key file, problem answers everywhere, limits, CLI."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from regie.cli import app as cli
from regie_protocol.errors import KeyRefused, Misuse
from regie_protocol.http import PROBLEM_TYPE_BASE
from tests.wallet.databases import Target
from wallet.host import HostSettings, create_app
from wallet.host.rate_limit import RateLimiter
from wallet.host.refusals import purge_expired
from wallet.host.settings import KEY_FILE_NAME
from wallet.storage import DpopProof, IdempotencyEntry

from .world import HOST_URL, NOW, World, make_world


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {
        "REGIE_HOME": str(tmp_path),
        "REGIE_WALLET_HOST_URL": "https://host.example",
        "REGIE_HOST_STATUS_TTL": "120",
        "REGIE_HOST_RATE_LIMIT": "30",
        "REGIE_DATABASE_URL": "",
    }
    settings = HostSettings.from_env(env)
    assert settings.home == tmp_path and settings.database_url is None
    assert (settings.host_url, settings.status_ttl, settings.rate_limit) == (
        "https://host.example",
        120,
        30,
    )
    assert settings.host_key_file == tmp_path / KEY_FILE_NAME
    assert HostSettings.from_env(env, host_url="http://127.0.0.1:9").host_url.endswith(":9")


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("REGIE_WALLET_HOST_URL", "http://host.example", "only to this machine"),
        ("REGIE_WALLET_HOST_URL", "https://host.example/", "trailing slash"),
        ("REGIE_WALLET_HOST_URL", "ftp://host.example", "https:// URL"),
        ("REGIE_HOST_STATUS_TTL", "5", "greater than or equal to 10"),
        ("REGIE_HOST_MAX_BODY_BYTES", "lots", "valid integer"),
    ],
)
def test_a_wrong_setting_is_named_by_its_variable(
    tmp_path: Path, variable: str, value: str, words: str
) -> None:
    with pytest.raises(Misuse) as caught:
        HostSettings.from_env({"REGIE_HOME": str(tmp_path), variable: value})
    assert variable in caught.value.message and words in caught.value.message
    assert value not in caught.value.message.split(":", 1)[1].replace(variable, "")


def test_the_host_key_is_made_private_and_kept(tmp_path: Path) -> None:
    settings = HostSettings(home=tmp_path, host_url=HOST_URL)
    create_app(settings).state.host.db.dispose()
    path = settings.host_key_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kid = json.loads(path.read_text())["x"]
    app = create_app(settings)
    app.state.host.db.dispose()
    assert app.state.host.key.public_key.to_jwk()["x"] == kid
    os.chmod(path, 0o644)
    with pytest.raises(KeyRefused):
        create_app(settings)


def test_every_error_is_a_problem(sqlite_world: World) -> None:
    client = sqlite_world.client
    cases = [
        (client.get("/v1/nothing"), 404, "not_found"),
        (client.get("/v1/data"), 405, "method_not_allowed"),
        (client.get("/v1/keys/"), 404, "not_found"),
        (
            client.post(
                "/v1/data",
                content=b'{"attributes": ["' + b"a" * 70_000 + b'"]}',
                headers={"content-type": "application/json"},
            ),
            413,
            "body_too_large",
        ),
        (
            client.post(
                "/v1/data",
                content=b'{"attributes": ["x", "x"]}',
                headers={"content-type": "application/json"},
            ),
            400,
            "invalid_params",
        ),
        (
            client.post(
                "/v1/data",
                content=b'{"attributes": [], "attributes": []}',
                headers={"content-type": "application/json"},
            ),
            400,
            "duplicate_member",
        ),
    ]
    for response, status, kind in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == PROBLEM_TYPE_BASE + kind
        assert response.headers["api-version"] == "1.0.0"


def test_the_rate_limiter_refills_and_forgets() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, max_clients=2, clock=lambda: now[0])
    assert [limiter.try_take("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    now[0] += 1.0
    assert limiter.try_take("a") == 0.0
    limiter.try_take("b")
    limiter.try_take("c")  # "a" is forgotten: a full bucket again
    assert limiter.try_take("a") == 0.0 and limiter.try_take("a") == 0.0


def test_closed_dpop_windows_and_old_answers_are_purged(target: Target) -> None:
    db = target.open()
    try:
        db.run(
            lambda conn: conn.execute(
                insert(DpopProof),
                [
                    {"jkt": "k", "jti": "old", "expires_at": NOW - 1},
                    {"jkt": "k", "jti": "live", "expires_at": NOW + 60},
                ],
            )
        )
        db.run(
            lambda conn: conn.execute(
                insert(IdempotencyEntry).values(
                    scope="s", key="k", request_sha256="0" * 64, status=200, body="{}",
                    created_at=NOW - 2 * 86400,
                )
            )
        )  # fmt: skip
        assert purge_expired(db, now=NOW) == (1, 1)
        assert [row["jti"] for row in db.fetch_all(select(DpopProof))] == ["live"]
    finally:
        db.dispose()


def test_cli_host_key_makes_one_key_and_shows_its_public_half(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["wallet", "host-key", "--home", str(tmp_path)])
    assert first.exit_code == 0, first.output
    jwk = json.loads(first.stdout)
    assert "d" not in jwk and jwk["alg"] == "EdDSA"
    again = runner.invoke(cli, ["wallet", "host-key", "--home", str(tmp_path)])
    assert json.loads(again.stdout) == jwk


def test_rate_limited_failed_reads_write_no_more_refusals(tmp_path: Path) -> None:
    from wallet.storage import ReadRefusal

    with make_world(Target("sqlite", None, tmp_path), rate_limit=1) as w:
        statuses = [
            w.client.post("/v1/data", headers={"Authorization": "DPoP x"}).status_code
            for _ in range(7)
        ]
        assert statuses == [401] * 5 + [429] * 2
        assert len(w.db.fetch_all(select(ReadRefusal))) == 5


def test_the_uvicorn_factory_reads_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wallet.host import create_app_from_env

    monkeypatch.setenv("REGIE_HOME", str(tmp_path))
    monkeypatch.setenv("REGIE_WALLET_HOST_URL", "https://host.example")
    monkeypatch.setenv("REGIE_HOST_STATUS_TTL", "60")
    monkeypatch.delenv("REGIE_DATABASE_URL", raising=False)
    monkeypatch.delenv("REGIE_HOST_KEY_FILE", raising=False)
    app = create_app_from_env()
    try:
        service = app.state.host
        assert service.settings.status_ttl == 60 and service.host_url == "https://host.example"
        assert (tmp_path / KEY_FILE_NAME).is_file() and (tmp_path / "wallet.sqlite3").is_file()
    finally:
        app.state.host.db.dispose()
