"""Run ``regie`` as a user does: commands as processes, servers as processes on 127.0.0.1.

A :class:`Role` is one party (issuer, citizen, registrar, verifier) with its
own home directory and environment; :meth:`Role.run` runs one ``regie``
command and returns what it printed. :class:`Servers` starts ``regie ...
serve`` processes on free ports, waits (bounded, polling a URL, never a fixed
sleep) until the server answers as itself, retries on another port when the
chosen one was taken meanwhile, and stops every server it started, also when
the test fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import START_TIMEOUT, free_port, stop_process

#: the ``regie`` console script of this environment (``.venv/bin/regie``)
REGIE = Path(sys.executable).with_name("regie")
COMMAND_TIMEOUT = 120.0
PORT_ATTEMPTS = 5
#: characters of each server log printed at the end
LOG_TAIL = 4000


def regie_command() -> list[str]:
    return [str(REGIE)] if REGIE.is_file() else [sys.executable, "-m", "regie"]


def clean_environment(**values: str) -> dict[str, str]:
    """The test's environment without any ``REGIE_*`` or ``CI`` setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGIE_") and k != "CI"}
    env.update(values)
    return env


@dataclass
class Role:
    """One party: a name (for messages), a working directory and an environment."""

    name: str
    home: Path
    env: dict[str, str]

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        """Run ``regie ARGS``; fail the test unless it exits with ``expect``."""
        done = subprocess.run(
            [*regie_command(), *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if done.returncode != expect:
            pytest.fail(
                f"{self.name}: regie {' '.join(args)} exited {done.returncode}, not {expect}\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def json(self, *args: str) -> Any:
        """Run ``regie ARGS --json`` and parse what it printed."""
        return json.loads(self.run(*args, "--json").stdout)


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Servers:
    """The servers a test started; :meth:`stop_all` ends them (terminate, then kill)."""

    logs: Path
    started: list[Server] = field(default_factory=list)

    def start(
        self,
        role: Role,
        args: Callable[[int], list[str]],
        *,
        ready: str,
        is_ours: Callable[[str, httpx.Response], bool],
    ) -> Server:
        """``regie ARGS(port)`` as a server; returns once ``GET base+ready`` answers as ours."""
        for attempt in range(PORT_ATTEMPTS):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log = self.logs / f"{role.name}-{attempt}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [*regie_command(), *args(port)],
                    cwd=role.home,
                    env=role.env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            server = Server(role.name, base, process, log)
            self.started.append(server)
            if self._wait(server, ready, is_ours):
                return server
            stop_process(server.process)
            if "address already in use" not in log.read_text(errors="replace").lower():
                pytest.fail(f"{role.name} did not start:\n{log.read_text(errors='replace')}")
        pytest.fail(f"{role.name}: no free port in {PORT_ATTEMPTS} attempts")

    @staticmethod
    def _wait(server: Server, ready: str, is_ours: Callable[[str, httpx.Response], bool]) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                answer = httpx.get(server.base + ready, timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            # another program may hold the port: only our server's answer counts
            if server.process.poll() is None and is_ours(server.base, answer):
                return True
            time.sleep(0.1)
        return False

    def stop_all(self) -> None:
        """Stop every server, then print the end of each log (shown when the test failed)."""
        for server in reversed(self.started):
            stop_process(server.process)
        for server in self.started:
            tail = server.log.read_text(errors="replace")[-LOG_TAIL:]
            print(f"--- {server.name} at {server.base} ({server.log.name}) ---\n{tail}")


__all__ = ["REGIE", "Role", "Server", "Servers", "clean_environment"]
