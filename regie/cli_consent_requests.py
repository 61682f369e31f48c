"""``regie consent requests|approve|refuse``: answer the requests verifiers sent to your wallet.

A verifier (a municipality, a shop) sends a signed request to the wallet host;
here the citizen sees who asks, for what, why, on which legal ground and for
how long, and approves (optionally leaving out attributes the verifier marked
optional) or refuses. Approving gives a consent that can be withdrawn at any
time with ``regie consent revoke``. The commands are registered on the
``regie consent`` app by :mod:`regie.cli_consent`. A refusal is one line and
exit 1; a wrong argument exit 2; nothing is written then.
"""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from regie_protocol.consent import Duration
from wallet import requests
from wallet.registry_store import load_registry

from .console import handle_errors, out, print_json
from .wallet_session import opened_wallet

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Regie's data directory (default: $REGIE_HOME or your user data dir)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RequestArg = Annotated[
    str, typer.Argument(metavar="REQ", help="The request id (see 'regie consent requests').")
]

_UNITS = (
    ("year", "years"),
    ("month", "months"),
    ("week", "weeks"),
    ("day", "days"),
    ("hour", "hours"),
    ("minute", "minutes"),
    ("second", "seconds"),
)


def _date(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _safe(text: str) -> str:
    """Verifier-supplied text, with control and invisible formatting characters made visible."""
    return "".join(
        " " if ch in "\n\t" else "?" if unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in text
    )


def _words(duration: Duration) -> str:
    values = (
        duration.years,
        duration.months,
        duration.weeks,
        duration.days,
        duration.hours,
        duration.minutes,
        duration.seconds,
    )
    parts = [
        f"{n} {one if n == 1 else many}" for n, (one, many) in zip(values, _UNITS, strict=True) if n
    ]
    return ", ".join(parts) or "no time"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return _words(Duration("", days=days, hours=hours, minutes=rest // 60, seconds=rest % 60))


def _who(view: requests.RequestView) -> str:
    if view.verifier_name is None:
        return f"{view.verifier_id} (NOT in your verifier registry: do not approve)"
    return f"{_safe(view.verifier_name)} ({view.verifier_id})"


def _ground(view: requests.RequestView) -> str:
    if view.relies_on_consent:
        return f"your consent ({view.legal_basis_label}): you are free to say no"
    return (
        f"{view.legal_basis_label}: this organisation does not rely on your consent but on "
        "another legal ground; you still choose whether your wallet shares the data"
    )


def _how_long(view: requests.RequestView) -> str:
    text = f"{_span(view.valid_for)} after you approve"
    if view.max_uses is not None:
        text += f", at most {view.max_uses} time{'s' if view.max_uses != 1 else ''}"
    if view.frequency is not None:
        text += f", at most once every {_words(Duration.parse(view.frequency))}"
    return text


def _keeps(view: requests.RequestView) -> str:
    retention = Duration.parse(view.retention)
    if retention.is_zero:
        return "no: it may only look, and must not keep your data after each use"
    return f"yes, for {_words(retention)} after each use"


def describe(view: requests.RequestView) -> list[tuple[str, str]]:
    """The request in plain words, one ``(label, text)`` per line of its table."""
    why = view.purpose_text
    rows = [
        ("Who asks", _who(view)),
        ("Wants to see", ", ".join(view.attributes) or "-"),
    ]
    if view.optional_attributes:
        optional = ", ".join(view.optional_attributes)
        rows.append(("Optional", f"{optional} (you may leave these out)"))
    rows += [
        ("Why", f"{_safe(why.en)} (nl: {_safe(why.nl)})"),
        ("Legal ground", _ground(view)),
        ("For how long", _how_long(view)),
        ("May keep it", _keeps(view)),
        ("Answer before", _date(view.expires_at)),
    ]
    if view.not_held:
        rows.append(
            (
                "Not in your wallet",
                f"{', '.join(view.not_held)}: you hold no credential with this",
            )
        )
    return rows


def list_requests(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Requests from verifiers waiting for your answer: who asks, what, why, for how long."""
    with opened_wallet(home) as (_, wallet):
        views = requests.pending_requests(wallet, now=int(time.time()))
    if json_out:
        print_json([view.to_json() for view in views])
        return
    if not views:
        out.print("No requests are waiting for your answer.", markup=False)
        return
    from rich.table import Table
    from rich.text import Text

    for view in views:
        table = Table(title=f"Request {view.id}", title_justify="left", show_header=False)
        table.add_column("what", style="bold")
        table.add_column("value", overflow="fold")
        for label, value in describe(view):
            table.add_row(label, Text(value))
        out.print(table)
    out.print(
        "To approve: regie consent approve REQ (add --leave-out ATTRIBUTE to keep an optional "
        "one to yourself). To refuse: regie consent refuse REQ.\n"
        "After approving you can withdraw your consent at any time: "
        "regie consent revoke CONSENT-ID.",
        markup=False,
        highlight=False,
    )


def approve(
    request_id: RequestArg,
    leave_out: Annotated[
        list[str] | None,
        typer.Option(
            "--leave-out",
            metavar="ATTR",
            help="An optional attribute not to share (repeat it, or separate with commas).",
        ),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Approve a request: give the verifier a consent and seal the data only it can read."""
    left = tuple(a.strip() for item in leave_out or () for a in item.split(",") if a.strip())
    now = int(time.time())
    with opened_wallet(home) as (config, wallet):
        registry = load_registry(wallet, now=now)
        done = requests.approve(
            wallet,
            request_id,
            leave_out=left,
            registry=registry,
            now=now,
            host_url=config.host_url,
        )
    view, consent = done.request, done.consent
    if json_out:
        print_json(
            {
                "request": view.id,
                "state": view.state.value,
                "consent": consent.id,
                "verifier": view.verifier_id,
                "attributes": list(done.attributes),
                "left_out": list(done.left_out),
                "expires_at": consent.claims.exp,
                "token": consent.token,
            }
        )
        return
    name = _safe(view.verifier_name or view.verifier_id)
    lines = [
        f"You gave {name} consent to see {', '.join(done.attributes)} "
        f"for: {_safe(view.purpose_text.en)}, until {_date(consent.claims.exp)}.",
    ]
    if done.left_out:
        lines.append(f"You left out: {', '.join(done.left_out)}.")
    lines += [
        f"Your data is sealed so that only {name} can read it. Consent id: {consent.id}",
        f"You can withdraw this consent at any time: regie consent revoke {consent.id}",
    ]
    out.print("\n".join(lines), markup=False, highlight=False)


def refuse(request_id: RequestArg, home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Refuse a request: nothing is shared and the verifier is told you said no."""
    with opened_wallet(home) as (_, wallet):
        view = requests.refuse(wallet, request_id, now=int(time.time()))
    if json_out:
        print_json(view.to_json())
        return
    name = _safe(view.verifier_name or view.verifier_id)
    out.print(
        f"You refused request {view.id} from {name}. Nothing was shared.",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``requests``, ``approve`` and ``refuse`` to the ``regie consent`` app."""
    app.command("requests")(handle_errors(list_requests))
    app.command("approve")(handle_errors(approve))
    app.command("refuse")(handle_errors(refuse))


__all__ = ["approve", "describe", "list_requests", "refuse", "register"]
