"""The wallet host's OpenAPI document passes the Logius NL GOV API Design Rules (Spectral)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spectral import lint_errors

from .world import HOST_URL, World

pytestmark = pytest.mark.service


def test_host_openapi_has_no_errors(sqlite_world: World, tmp_path: Path) -> None:
    document = sqlite_world.client.app.openapi()
    assert lint_errors(document, tmp_path) == []
    assert document["servers"] == [{"url": HOST_URL + "/v1"}]
    assert set(document["paths"]) == {
        "/requests",
        "/requests/{request_id}",
        "/data",
        "/status-lists/{list_id}",
        "/keys",
        "/purge-reports",
        "/log/checkpoint",
        "/log/key",
        "/log/leaf-hashes",
        "/log/events",
        "/log/proofs/inclusion",
        "/log/proofs/consistency",
        "/log/receipts/{index}",
    }
    data = document["paths"]["/data"]["post"]
    assert {"401", "403", "413", "422", "429", "500"} <= set(data["responses"])
    assert data["security"] == [{"dpopConsent": []}]
    assert document["components"]["securitySchemes"]["dpopConsent"]["scheme"] == "DPoP"


def test_openapi_is_served(sqlite_world: World) -> None:
    response = sqlite_world.client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Regie wallet host"
