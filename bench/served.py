"""The wallet host as the read bench serves it: ``create_app_from_env()`` unchanged, plus a report.

``uvicorn --factory bench.served:host_app`` serves exactly the app
:func:`wallet.host.app.create_app_from_env` builds (same routes, middleware,
settings from the environment). Two additions outside the app, at process exit
(uvicorn returns normally after SIGINT/SIGTERM, so ``atexit`` runs):

* one line on stderr, ``regie-bench group-commit batches=B units=U``: the group
  committer's counters (:class:`wallet.storage.group_commit.GroupCommitter`);
* with ``REGIE_BENCH_PROFILE=<file>``, a cProfile of every thread (the event
  loop, the threadpool running the sync route, the group committer's writer),
  written to ``<file>`` as pstats data: ``python -m pstats <file>``.
"""

from __future__ import annotations

import atexit
import cProfile
import os
import pstats
import sys
import threading
from types import FrameType
from typing import Any

from fastapi import FastAPI

from wallet.host.app import create_app_from_env

STATS_PREFIX = "regie-bench group-commit"


def _report(app: FastAPI) -> None:
    committer = app.state.host.committer
    print(f"{STATS_PREFIX} batches={committer.batches} units={committer.units}", file=sys.stderr)


def _profile_every_thread(path: str) -> None:
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(frame: FrameType, event: str, arg: Any) -> None:
        sys.setprofile(None)  # this hook only starts the thread's own profiler
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()

    def dump() -> None:
        with lock:
            for profile in profiles:
                profile.disable()
            if profiles:
                pstats.Stats(*profiles).dump_stats(path)

    threading.setprofile(start)
    main = cProfile.Profile()
    profiles.append(main)
    main.enable()
    atexit.register(dump)


def host_app() -> FastAPI:
    """The wallet host from the environment (see :mod:`wallet.host.settings`)."""
    profile = os.environ.get("REGIE_BENCH_PROFILE")
    if profile:
        _profile_every_thread(profile)
    app = create_app_from_env()
    atexit.register(_report, app)
    return app


__all__ = ["STATS_PREFIX", "host_app"]
