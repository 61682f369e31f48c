"""The issuer's OpenAPI document passes the Logius NL GOV API Design Rules ruleset (Spectral).

Spectral runs the Logius ruleset unchanged (:mod:`tests.spectral`). A default
FastAPI document fails it, which shows the ruleset is really applied; ours has
0 errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from regie_protocol.keys import Alg, SigningKey
from tests.spectral import ERROR, lint, lint_errors

from .service_harness import start

pytestmark = pytest.mark.service


class Thing(BaseModel):
    name: str


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
    assert lint_errors(document, tmp_path) == []
    assert document["servers"] == [{"url": harness.settings.issuer_id + "/v1"}]
    assert "/status-lists/1" in document["paths"]
    assert "/jwt-vc-issuer" in document["paths"]
