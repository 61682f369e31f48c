"""``regie wallet serve`` serves where the consents say the host is, unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from regie.cli_host import _listen_port, _settings


@pytest.fixture(autouse=True)
def _no_host_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIE_WALLET_HOST_URL", raising=False)


def test_by_default_the_host_serves_at_the_url_consents_name(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None, "127.0.0.1", None)
    assert settings.host_url == "http://127.0.0.1:8002"
    assert _listen_port(settings, None) == 8002


def test_the_configured_host_url_gives_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGIE_WALLET_HOST_URL", "http://127.0.0.1:9123")
    settings = _settings(tmp_path, None, "127.0.0.1", None)
    assert (settings.host_url, _listen_port(settings, None)) == ("http://127.0.0.1:9123", 9123)


def test_a_port_alone_names_this_machine(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None, "0.0.0.0", 9001)
    assert (settings.host_url, _listen_port(settings, 9001)) == ("http://127.0.0.1:9001", 9001)


def test_a_public_url_without_port_listens_on_the_scheme_default(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "https://wallet.example", "127.0.0.1", None)
    assert _listen_port(settings, None) == 443
