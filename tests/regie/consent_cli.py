"""Running ``regie consent ...`` as a citizen in tests: the environment, the command, its JSON.

The citizen's environment names the wallet (``REGIE_HOME``, and
``REGIE_DATABASE_URL`` when not the default SQLite file), the unsafe-fast
KDF, the test passphrase and the wallet host URL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from regie.cli import app
from tests.wallet.consents.helpers import HOST_URL, PASSPHRASE

runner = CliRunner()


def citizen_environment(monkeypatch: pytest.MonkeyPatch, home: Path, url: str | None) -> None:
    """Set the citizen's ``REGIE_*`` variables for the wallet at ``home`` (and ``url``)."""
    for name, value in {
        "REGIE_HOME": str(home),
        "REGIE_KDF": "unsafe-fast",
        "REGIE_PASSPHRASE": PASSPHRASE,
        "REGIE_WALLET_HOST_URL": HOST_URL,
    }.items():
        monkeypatch.setenv(name, value)
    if url:
        monkeypatch.setenv("REGIE_DATABASE_URL", url)
    else:
        monkeypatch.delenv("REGIE_DATABASE_URL", raising=False)


def run(*args: str) -> Result:
    """``regie consent ARGS``."""
    return runner.invoke(app, ["consent", *args])


def run_json(*args: str) -> Any:
    """``regie consent ARGS --json``, which must succeed; what it printed, parsed."""
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


__all__ = ["citizen_environment", "run", "run_json", "runner"]
