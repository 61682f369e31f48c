"""Bad input to the new commands: one line and exit 1 for a refused token, 2 for usage."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from regie.cli import app


def test_verify_refuses_a_malformed_token_before_looking_for_keys(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["verify", "garbage", "--audience", "https://x.example", "--home", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "malformed" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command", [["wallet", "serve"], ["issuer", "serve"], ["verifier", "serve"]]
)
def test_a_port_out_of_range_is_a_usage_error(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--port", "99999"])
    assert result.exit_code == 2
