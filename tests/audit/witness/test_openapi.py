"""The witness's OpenAPI document passes the Logius NL GOV API Design Rules (Spectral)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.spectral import lint_errors

from .conftest import BASE_URL

pytestmark = pytest.mark.service


def test_witness_openapi_has_no_errors(app: FastAPI, tmp_path: Path) -> None:
    document = app.openapi()
    assert lint_errors(document, tmp_path) == []
    assert document["servers"] == [{"url": BASE_URL + "/v1"}]
    # the C2SP path is fixed by the spec: served from the base URL, not under /v1
    assert set(document["paths"]) == {"/add-checkpoint", "/logs", "/logs/{log_hash}/checkpoint"}
    add = document["paths"]["/add-checkpoint"]
    assert add["servers"] == [{"url": BASE_URL}]
    responses = add["post"]["responses"]
    assert {"200", "400", "403", "404", "409", "413", "422", "500"} <= set(responses)
    assert "text/x.tlog.size" in responses["409"]["content"]
