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
from pathlib import Path
from typing import Annotated

import typer

from wallet import requests
from wallet.registry_store import load_registry
from wallet.request_text import date_text, describe, safe_text

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
    name = safe_text(view.verifier_name or view.verifier_id)
    lines = [
        f"You gave {name} consent to see {', '.join(done.attributes)} "
        f"for: {safe_text(view.purpose_text.en)}, until {date_text(consent.claims.exp)}.",
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
    name = safe_text(view.verifier_name or view.verifier_id)
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


__all__ = ["approve", "list_requests", "refuse", "register"]
