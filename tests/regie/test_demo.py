"""``regie demo`` tells the whole story end to end, as a new user runs it."""

from __future__ import annotations

import subprocess
import sys


def test_regie_demo_runs_end_to_end_in_plain_mode() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "regie", "demo", "--plain"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # the console wraps lines at its width
    assert "Is 'Oudegracht' readable in the wallet's database file? No." in out
    assert "Refused before anything was stored: beyond_registration" in out
    assert "State now: withdrawn; status bit: 1" in out
    assert "Refused, as it should be: revoked" in out
    assert "\x1b[" not in result.stdout  # no colour codes in plain mode
    assert result.stderr == ""
