"""Run one of the node peer scripts in ``tests/interop/node/``: JSON requests in, results out.

Needs node and ``tests/interop/node/node_modules`` (``npm ci`` there, which
``make test`` does): skipped with a reason when absent on a workstation, a
failure under CI.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool

NODE_DIR = Path(__file__).parent / "node"


def require_node_package(package: str) -> str:
    """Path of node, once the given npm package is installed for the peers."""
    node = require_tool("node")
    if not (NODE_DIR / "node_modules" / package).is_dir():
        message = "tests/interop/node/node_modules is missing: run `npm ci` in tests/interop/node"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


def run_peer(script: str, requests: list[dict[str, Any]], *, package: str) -> list[dict[str, Any]]:
    """Send ``requests`` to ``script`` in one node process; one result per request, in order."""
    node = require_node_package(package)
    completed = subprocess.run(
        [node, script],
        input=json.dumps({"requests": requests}),
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)["results"]
    assert len(results) == len(requests)
    return results
