"""Real servers for tests: a process or an in-process uvicorn on 127.0.0.1, waited for and stopped.

:func:`serve_process` runs a server command (``uvicorn --factory ...``,
``regie ... serve``) as a subprocess writing to a log file; :func:`serve_app`
runs a FastAPI app on a real uvicorn in a thread of the test process, on a
socket bound before the server starts (so two tests never race for a port).
Both wait, bounded and by polling a URL (never a fixed sleep), until the
server answers, fail the test with its log when it stops first, and always
stop it. :func:`free_port` and :func:`stop_process` serve tests that manage
their processes themselves (``tests/e2e``).
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

#: seconds a server has to answer its readiness URL
START_TIMEOUT = 30.0
#: seconds a server process has to exit after being asked to
STOP_TIMEOUT = 10.0
#: seconds an in-process uvicorn has to finish its shutdown
THREAD_STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answering(
    url: str, *, name: str, stopped: Callable[[], str | None], pause: float = 0.1
) -> None:
    """Poll ``GET url`` until anything answers; fail if ``stopped()`` says why, or on time-out."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        why = stopped()
        if why is not None:
            pytest.fail(why)
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within {START_TIMEOUT} s")
            time.sleep(pause)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` if it still runs, then kill it if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def serve_process(
    command: Sequence[str], *, env: Mapping[str, str], log: Path, ready: str, name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (output to ``log``) until the block ends, once ``GET ready`` answers."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:

            def stopped() -> str | None:
                return None if process.poll() is None else f"{name} exited: " + log.read_text()

            wait_until_answering(ready, name=name, stopped=stopped)
            yield process
        finally:
            stop_process(process)


@contextmanager
def serve_app(app: FastAPI, *, ready: str, name: str) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends, once ``GET base+ready`` answers.

    Yields the base URL. The lifespan runs, so stopping the server also runs
    the app's shutdown (closing what it opened).
    """
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

        def stopped() -> str | None:
            return None if thread.is_alive() else f"{name}'s uvicorn stopped before it answered"

        wait_until_answering(base + ready, name=name, stopped=stopped, pause=0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(THREAD_STOP_TIMEOUT)
        sock.close()
        if thread.is_alive():
            pytest.fail(f"{name}'s uvicorn did not stop within {THREAD_STOP_TIMEOUT} s")


__all__ = [
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "free_port",
    "serve_app",
    "serve_process",
    "stop_process",
    "wait_until_answering",
]
