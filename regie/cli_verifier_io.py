"""What several ``regie verifier`` commands share: options, the context, answers, files, output.

The clock (:func:`now`), the HTTP client (:func:`make_http`) and the wait
(:func:`pause`) are looked up here at call time, so a test replaces them once
for every command module.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from verifier.client import ReadResult
from verifier.context import VerifierContext
from verifier.settings import VerifierSettings

from .console import out

#: seconds between two looks at a pending request with --wait
POLL_SECONDS = 2.0

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="The verifier's directory (default: $REGIE_VERIFIER_HOME)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def make_http() -> httpx.Client:
    """The HTTP client every command uses (a test puts one that reaches in-process apps)."""
    return httpx.Client(timeout=10.0, follow_redirects=False)


def now() -> int:
    """The time every command uses (a test puts its own clock)."""
    return int(time.time())


def pause(seconds: float) -> None:
    """Wait between two looks at a pending request (a test answers it meanwhile)."""
    time.sleep(seconds)


def settings_for(home: Path | None) -> VerifierSettings:
    """The verifier's settings for ``--home`` (else from the environment)."""
    return VerifierSettings.from_env(home=home)


def open_context(home: Path | None) -> VerifierContext:
    """The verifier's identity, trust and store, with this module's clock and HTTP client."""
    return VerifierContext.open(settings_for(home), clock=lambda: now(), http=make_http())


def date_text(timestamp: int) -> str:
    """A time for people: ``2026-12-06 14:30 UTC``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def new_request_id() -> str:
    """A fresh request ``jti``: 96 random bits, URL-safe."""
    return "req-" + secrets.token_urlsafe(12)


def write_public_json(path: Path, value: Any) -> None:
    """Write a public JSON file atomically (keys and registrations: nothing secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def collect_answer(
    context: VerifierContext,
    request_id: str,
    *,
    wait: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The citizen's answer to a request sent from this verifier, collected into its store.

    Looks again every :data:`POLL_SECONDS` while the request is pending, for at
    most ``wait`` seconds; each look is :meth:`~verifier.context.VerifierContext.collect`
    (an approved answer's consent is checked before it is saved).
    """
    deadline = clock() + wait
    collected = context.collect(request_id)
    while collected.state == "pending" and clock() + POLL_SECONDS <= deadline:
        sleep(POLL_SECONDS)
        collected = context.collect(request_id)
    result: dict[str, Any] = {
        "request": request_id,
        "state": collected.state,
        "host": collected.host,
    }
    consent = collected.consent
    if consent is not None:
        result.update(
            consent=consent.jti,
            attributes=sorted(consent.consented),
            expiresAt=consent.claims.exp,
        )
    return result


def print_attributes(result: ReadResult, *, kept_until: int | None) -> None:
    """The released attributes, one per line (values as compact JSON, no markup)."""
    out.print(f"Read {result.use} under consent {result.consent_id}:", markup=False)
    for name, value in sorted(result.attributes.items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out.print(f"  {name}: {shown}", markup=False, highlight=False)
    for name in result.missing:
        out.print(f"  {name}: (not in the release)", markup=False, highlight=False)
    if kept_until is not None:
        out.print(
            f"Kept until {date_text(kept_until)}; 'regie verifier purge' deletes it then.",
            markup=False,
        )


__all__ = [
    "POLL_SECONDS",
    "HomeOpt",
    "JsonOpt",
    "collect_answer",
    "date_text",
    "make_http",
    "new_request_id",
    "now",
    "open_context",
    "pause",
    "print_attributes",
    "settings_for",
    "write_public_json",
]
