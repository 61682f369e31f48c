"""Issuer settings: every wrong value refused at start, by name, without echoing secrets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from issuer.app import create_app
from issuer.settings import IssuerSettings
from issuer.state import StateFile
from regie_protocol.errors import Misuse
from regie_protocol.keys import Alg, Passphrase, SigningKey

from .service_harness import ADMIN_TOKEN, ISSUER_ID, make_settings, write_key


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate(Alg.EDDSA)


def test_good_settings_are_accepted(tmp_path: Path, key: SigningKey) -> None:
    settings = make_settings(tmp_path, key)
    assert settings.issuer_id == ISSUER_ID
    assert settings.admin_token.get_secret_value() == ADMIN_TOKEN
    assert ADMIN_TOKEN not in repr(settings)


def test_dev_allows_a_local_http_issuer_and_a_short_token(tmp_path: Path, key: SigningKey) -> None:
    settings = make_settings(
        tmp_path, key, dev=True, issuer_id="http://127.0.0.1:8001", admin_token="dev-token"
    )
    assert settings.issuer_id == "http://127.0.0.1:8001"


BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "http issuer outside dev": (
        {"issuer_id": "http://127.0.0.1:8001"},
        "REGIE_ISSUER_ISSUER_ID",
    ),
    "http issuer on a public host even in dev": (
        {"issuer_id": "http://issuer.example", "dev": True},
        "REGIE_ISSUER_ISSUER_ID",
    ),
    "issuer with a trailing slash": ({"issuer_id": ISSUER_ID + "/"}, "REGIE_ISSUER_ISSUER_ID"),
    "issuer with a path": ({"issuer_id": ISSUER_ID + "/tenant"}, "REGIE_ISSUER_ISSUER_ID"),
    "issuer with a query": ({"issuer_id": ISSUER_ID + "?a=b"}, "REGIE_ISSUER_ISSUER_ID"),
    "short admin token": ({"admin_token": "k3y-" + "abcdefgh"}, "REGIE_ISSUER_ADMIN_TOKEN"),
    "placeholder admin token": ({"admin_token": "changeme" * 5}, "REGIE_ISSUER_ADMIN_TOKEN"),
    "placeholder admin token in dev": (
        {"admin_token": "changeme", "dev": True},
        "REGIE_ISSUER_ADMIN_TOKEN",
    ),
    "repetitive admin token": ({"admin_token": "ab" * 20}, "REGIE_ISSUER_ADMIN_TOKEN"),
    "empty admin token": ({"admin_token": "", "dev": True}, "REGIE_ISSUER_ADMIN_TOKEN"),
    "offer lifetime of zero": ({"offer_lifetime": 0}, "REGIE_ISSUER_OFFER_LIFETIME"),
    "access token lifetime of a day": (
        {"access_token_lifetime": 86400},
        "REGIE_ISSUER_ACCESS_TOKEN_LIFETIME",
    ),
    "negative status ttl": ({"status_ttl": -5}, "REGIE_ISSUER_STATUS_TTL"),
    "unknown setting": ({"admin_tokn": "x"}, "REGIE_ISSUER_ADMIN_TOKN"),
}


@pytest.mark.parametrize("case", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_wrong_values_are_named(
    tmp_path: Path, key: SigningKey, case: tuple[dict[str, Any], str]
) -> None:
    overrides, variable = case
    with pytest.raises(Misuse) as refused:
        make_settings(tmp_path, key, **overrides)
    assert variable in refused.value.message
    token = overrides.get("admin_token")
    if token:
        assert token not in refused.value.message


def test_key_file_readable_by_others_is_refused(tmp_path: Path, key: SigningKey) -> None:
    path = write_key(tmp_path / "issuer-key.jwk", key)
    os.chmod(path, 0o644)
    with pytest.raises(Misuse) as refused:
        IssuerSettings(
            issuer_id=ISSUER_ID,
            key_file=path,
            state_file=tmp_path / "state.json",
            admin_token=ADMIN_TOKEN,
        )
    assert "REGIE_ISSUER_KEY_FILE" in refused.value.message
    assert "chmod 600" in refused.value.message


def test_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Misuse, match="REGIE_ISSUER_KEY_FILE"):
        IssuerSettings(
            issuer_id=ISSUER_ID,
            key_file=tmp_path / "nothing.jwk",
            state_file=tmp_path / "state.json",
            admin_token=ADMIN_TOKEN,
        )


def test_settings_come_from_the_environment(
    tmp_path: Path, key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_key(tmp_path / "issuer-key.jwk", key)
    monkeypatch.setenv("REGIE_ISSUER_ISSUER_ID", ISSUER_ID)
    monkeypatch.setenv("REGIE_ISSUER_KEY_FILE", str(path))
    monkeypatch.setenv("REGIE_ISSUER_STATE_FILE", str(tmp_path / "state.json"))
    monkeypatch.setenv("REGIE_ISSUER_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("REGIE_ISSUER_STATUS_TTL", "120")
    settings = IssuerSettings()
    assert settings.status_ttl == 120
    monkeypatch.setenv("REGIE_ISSUER_STATUS_TTL", "soon")
    with pytest.raises(Misuse, match="REGIE_ISSUER_STATUS_TTL"):
        IssuerSettings()


def test_app_refuses_a_state_file_of_another_issuer(tmp_path: Path, key: SigningKey) -> None:
    create_app(make_settings(tmp_path, key))  # creates the state for ISSUER_ID
    assert StateFile(tmp_path / "issuer-state.json").exists()
    other = make_settings(tmp_path, key, issuer_id="https://duo.example")
    with pytest.raises(Misuse, match="belongs to"):
        create_app(other)


def test_app_loads_a_passphrase_protected_key(tmp_path: Path, key: SigningKey) -> None:
    settings = make_settings(tmp_path, key)
    settings.key_file.write_text(key.export_private_jwk(protection=Passphrase("open sesame")))
    with pytest.raises(Misuse, match="PASSPHRASE"):
        create_app(settings)
    protected = make_settings(tmp_path, key, key_passphrase="open sesame")
    protected.key_file.write_text(key.export_private_jwk(protection=Passphrase("open sesame")))
    assert create_app(protected).state.issuer.key.kid == key.kid
