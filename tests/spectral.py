"""Lint an OpenAPI document with the Logius NL GOV API Design Rules ruleset (Spectral).

Spectral (npm @stoplight/spectral-cli, in tests/interop/node) runs the Logius
ruleset unchanged (tests/vectors/nlgov-rulesets/). :func:`lint` returns every
finding; :func:`lint_errors` the error-level ones, one readable line each.
Without node or spectral the test skips, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool

TESTS = Path(__file__).resolve().parent
RULESET = TESTS / "vectors" / "nlgov-rulesets" / "nlgov-api-design-rules.spectral.yaml"
SPECTRAL = TESTS / "interop" / "node" / "node_modules" / ".bin" / "spectral"
#: Spectral's severity of an error
ERROR = 0


def spectral() -> Path:
    """The spectral command; skips (fails under CI) when node or spectral is missing."""
    require_tool("node")
    if not SPECTRAL.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("spectral is required under CI: run `make install`")
        pytest.skip("spectral is not installed (run `make install`)")
    return SPECTRAL


def lint(document: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    """Every finding of the ruleset on ``document`` (written to ``tmp_path``)."""
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run(
        [str(spectral()), "lint", "-r", str(RULESET), "-f", "json", "-q", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    start_of_json = result.stdout.find("[")
    assert start_of_json >= 0, result.stdout + result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout[start_of_json:])
    return findings


def lint_errors(document: dict[str, Any], tmp_path: Path) -> list[str]:
    """The error-level findings on ``document``: ``code at path.to.node: message`` each."""
    return [
        f"{f['code']} at {'.'.join(map(str, f['path']))}: {f['message']}"
        for f in lint(document, tmp_path)
        if f["severity"] == ERROR
    ]


__all__ = ["ERROR", "RULESET", "SPECTRAL", "lint", "lint_errors", "spectral"]
