"""The issuer's OpenAPI document passes the Logius NL GOV API Design Rules ruleset (Spectral).

Spectral (npm @stoplight/spectral-cli, in tests/interop/node) runs the Logius
ruleset unchanged (tests/vectors/nlgov-rulesets/). A default FastAPI document
fails it, which shows the ruleset is really applied; ours has 0 errors.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from regie_protocol.keys import Alg, SigningKey
from tests.conftest import require_tool

from .service_harness import start

pytestmark = pytest.mark.service

TESTS = Path(__file__).resolve().parent.parent
RULESET = TESTS / "vectors" / "nlgov-rulesets" / "nlgov-api-design-rules.spectral.yaml"
SPECTRAL = TESTS / "interop" / "node" / "node_modules" / ".bin" / "spectral"
ERROR = 0


class Thing(BaseModel):
    name: str


def spectral() -> Path:
    require_tool("node")
    if not SPECTRAL.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("spectral is required under CI: run `make install`")
        pytest.skip("spectral is not installed (run `make install`)")
    return SPECTRAL


def lint(document: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
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


def test_a_default_fastapi_document_fails_the_ruleset(tmp_path: Path) -> None:
    app = FastAPI()

    @app.post("/v1/things")
    def make(thing: Thing) -> Thing:
        return thing

    rules = {f["code"] for f in lint(app.openapi(), tmp_path) if f["severity"] == ERROR}
    assert {"info-contact", "oas3-api-servers", "nlgov:missing-header"} <= rules
    assert {"nlgov:problem-invalid-input", "nlgov:use-problem-schema"} <= rules


def test_issuer_openapi_has_no_errors(tmp_path: Path) -> None:
    harness = start(tmp_path, SigningKey.generate(Alg.EDDSA))
    document = harness.app.openapi()
    findings = lint(document, tmp_path)
    errors = [
        f"{f['code']} at {'.'.join(map(str, f['path']))}: {f['message']}"
        for f in findings
        if f["severity"] == ERROR
    ]
    assert errors == []
    assert document["servers"] == [{"url": harness.settings.issuer_id + "/v1"}]
    assert "/status-lists/1" in document["paths"]
    assert "/jwt-vc-issuer" in document["paths"]
