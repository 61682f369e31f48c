"""A wallet host app served by a real uvicorn on 127.0.0.1, in a thread of the test process.

The listening socket is bound (to a port the kernel picks) before the server
starts and handed to it, so two tests never race for a port. :func:`serve`
waits, bounded, until ``GET /v1/keys`` answers, and always stops the server
(its lifespan shutdown closes the host's group committer and database).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if not thread.is_alive():
                pytest.fail("the host's uvicorn stopped before it answered")
            try:
                httpx.get(base + "/v1/keys", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the host did not answer within {START_TIMEOUT} s")
                time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()
        if thread.is_alive():
            pytest.fail(f"the host's uvicorn did not stop within {STOP_TIMEOUT} s")


__all__ = ["serve"]
