"""Shared test fixtures: a fixed clock and fresh keys. No mocks of Regie's own crypto."""

from __future__ import annotations

import os
import shutil

import pytest

from regie_protocol.keys import Alg, SigningKey

#: a fixed "now" for tests that build tokens; tests pass it explicitly (no patching)
NOW = 1_790_000_000


@pytest.fixture
def now() -> int:
    return NOW


@pytest.fixture(params=[Alg.EDDSA, Alg.ES256], ids=["Ed25519", "P-256"])
def signing_key(request: pytest.FixtureRequest) -> SigningKey:
    return SigningKey.generate(request.param)


def require_tool(name: str) -> str:
    """Path of an external tool; under CI its absence fails the test instead of skipping."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI but is not installed")
        pytest.skip(f"{name} is not installed on this machine")
    return path
