"""``regie consent ...``: give a verifier a signed, scoped consent; look at it; take it back.

Every check of a grant runs before anything is written (see
:mod:`wallet.consents`); a refusal is one line and exit 1, a wrong argument
exit 2, and the vault is left as it was. Answering verifiers' requests
(``requests``, ``approve``, ``refuse``) is in :mod:`regie.cli_consent_requests`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from regie_protocol import vocab
from regie_protocol.keys import Alg
from wallet import consents
from wallet.consent_status import list_uri
from wallet.consent_terms import (
    GDPR_CONSENT,
    legal_basis_iri,
    purpose_iri,
    retention_iso,
    split_attributes,
    validity_seconds,
)
from wallet.host.settings import HostSettings
from wallet.log.history import ReadReceipt, local_log_key, read_receipts
from wallet.registry_store import load_registry

from .cli_consent_requests import register as register_request_commands
from .console import handle_errors, out, print_json
from .wallet_session import opened_wallet

app = typer.Typer(
    help="Consents: give a verifier access to some of your data, see them, withdraw them.",
    no_args_is_help=True,
)

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Regie's data directory (default: $REGIE_HOME or your user data dir)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
IdArg = Annotated[str, typer.Argument(help="The consent id (see 'regie consent list').")]


class KeyAlg(StrEnum):
    EdDSA = "EdDSA"
    ES256 = "ES256"


def _date(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(iri: str) -> str:
    return iri.removeprefix(vocab.DPV)


@app.command()
@handle_errors
def grant(
    verifier: Annotated[str, typer.Option(help="The registered verifier's id (https://...).")],
    attributes: Annotated[
        str, typer.Option(help="Comma-separated attributes, e.g. age_over_18,address.locality.")
    ],
    purpose: Annotated[
        str, typer.Option(help="A W3C DPV purpose IRI, or its short name: ServiceProvision.")
    ],
    valid: Annotated[str, typer.Option(help="How long: 30d, 12h, 2w or ISO 8601 (P30D).")],
    max_uses: Annotated[
        int | None, typer.Option("--max-uses", help="How many times it may be used in all.")
    ] = None,
    retention: Annotated[
        str | None,
        typer.Option(help="How long the verifier may keep the data (e.g. 90d); default: not."),
    ] = None,
    legal_basis: Annotated[
        str,
        typer.Option(
            "--legal-basis", help="DPV / GDPR legal basis IRI (default: GDPR Art. 6(1)(a))."
        ),
    ] = GDPR_CONSENT,
    alg: Annotated[
        KeyAlg, typer.Option(help="Algorithm of a new pairwise key (first grant to a verifier).")
    ] = KeyAlg.EdDSA,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Give VERIFIER a signed consent to see ATTRIBUTES for PURPOSE; prints its id and token."""
    terms = consents.GrantTerms(
        verifier_id=verifier,
        attributes=split_attributes(attributes),
        purpose=purpose_iri(purpose),
        valid_for=validity_seconds(valid),
        legal_basis=legal_basis_iri(legal_basis),
        retention=retention_iso(retention),
        max_uses=max_uses,
    )
    now = int(time.time())
    with opened_wallet(home) as (config, wallet):
        registry = load_registry(wallet, now=now)
        granted = consents.grant(
            wallet,
            terms,
            registry=registry,
            now=now,
            host_url=config.host_url,
            alg=Alg(alg.value),
        )
        name = registry.verifiers[verifier].name
    if json_out:
        print_json(
            {
                "id": granted.id,
                "token": granted.token,
                "verifier": verifier,
                "expires_at": granted.claims.exp,
                "status": {"uri": granted.claims.status.uri, "idx": granted.status_idx},
            }
        )
        return
    out.print(
        f"consent {granted.id} given to {name} ({verifier}) until {_date(granted.claims.exp)}",
        markup=False,
        highlight=False,
    )
    out.print(granted.token, markup=False, highlight=False)


@app.command("list")
@handle_errors
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Also ended consents.")] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Your consents: the active ones (all with --all)."""
    with opened_wallet(home) as (_, wallet):
        views = consents.list_consents(wallet, now=int(time.time()), include_ended=all_)
    if json_out:
        print_json([view.summary() for view in views])
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Consents" if all_ else "Active consents")
    for column in ("state", "id", "verifier", "attributes", "purpose", "expires"):
        table.add_column(column, overflow="fold")
    for view in views:
        table.add_row(
            view.state.value,
            Text(view.id),
            Text(view.verifier_id),
            Text(", ".join(view.attributes)),
            Text(", ".join(_short(p) for p in view.purposes)),
            _date(view.expires_at),
        )
    out.print(table)


def _detail(view: consents.ConsentView, public_jwk: dict[str, Any], status: int) -> dict[str, Any]:
    return {
        **view.summary(),
        "state_iri": vocab.ConsentState(view.state.value).iri,
        "status": {
            "list": view.status_list_id,
            "idx": view.status_idx,
            "uri": view.claims["status"]["status_list"]["uri"],
            "value": status,
        },
        "token": view.token,
        "claims": view.claims,
        "public_jwk": public_jwk,
    }


@app.command()
@handle_errors
def show(consent_id: IdArg, home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """One consent; --json adds its token, decoded claims and the key that verifies it."""
    with opened_wallet(home) as (_, wallet):
        view = consents.show(wallet, consent_id, now=int(time.time()))
        key = consents.pairwise_public_key(wallet, view.verifier_id, str(view.claims["iss"]))
        status = consents.status_of(wallet, view)
    detail = _detail(view, key.to_jwk(), status)
    if json_out:
        print_json(detail)
        return
    lines = [
        f"consent    {view.id}",
        f"state      {view.state.value}",
        f"verifier   {view.verifier_id}",
        f"attributes {', '.join(view.attributes)}",
        f"purpose    {', '.join(_short(p) for p in view.purposes)}",
        f"given      {_date(view.granted_at)}",
        f"expires    {_date(view.expires_at)}",
        f"ended      {_date(view.ended_at)}",
        f"status     {detail['status']['uri']} #{view.status_idx} = {status}",
    ]
    out.print("\n".join(lines), markup=False, highlight=False)


@app.command()
@handle_errors
def revoke(consent_id: IdArg, home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Withdraw a consent now: the verifier can no longer use it."""
    with opened_wallet(home) as (config, wallet):
        view = consents.revoke(wallet, consent_id, now=int(time.time()))
        uri = list_uri(config.host_url, view.status_list_id)
    if json_out:
        print_json(view.summary())
        return
    out.print(
        f"consent {view.id} withdrawn at {_date(view.ended_at)}; "
        f"{uri} index {view.status_idx} is now INVALID",
        markup=False,
        highlight=False,
    )


@app.command()
@handle_errors
def history(
    consent_id: Annotated[str | None, typer.Argument(help="Only this consent.")] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
    receipts_dir: Annotated[
        Path | None,
        typer.Option("--receipts", help="Save each read's receipt (.tlog-proof) in this folder."),
    ] = None,
) -> None:
    """What happened to your consents (or one of them), oldest first; each read with its receipt.

    A read's receipt (a C2SP tlog-proof) shows where the read is in the host's
    tamper-evident log; it is checked here against the log's key when this is
    the host's machine. ``--receipts DIR`` saves each as ``<consent>-<use>.tlog-proof``.
    """
    with opened_wallet(home) as (config, wallet):
        events = consents.history(wallet, consent_id, now=int(time.time()))
        key_file = HostSettings.from_env(home=config.home).log_key_path
        log_key = local_log_key(wallet.db, key_file)
        reads = read_receipts(wallet.db, wallet.owner, consent_id=consent_id, log=log_key)
    by_use = {(read.consent_id, read.use): read for read in reads}
    if receipts_dir is not None:
        _save_receipts(receipts_dir, reads)
    if json_out:
        print_json([_event_json(event, by_use) for event in events])
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Consent history")
    for column in ("when", "event", "consent", "receipt"):
        table.add_column(column, overflow="fold")
    for event in events:
        read = by_use.get((event.consent_id, int(event.detail.get("use", 0))))
        shown = "" if event.name != "consent.used" else _receipt_text(read)
        table.add_row(_date(event.at), event.name, Text(event.consent_id), shown)
    out.print(table)


def _event_json(
    event: consents.ConsentEventView, by_use: dict[tuple[str, int], ReadReceipt]
) -> dict[str, Any]:
    shown = event.to_json()
    if event.name == "consent.used":
        read = by_use.get((event.consent_id, int(event.detail.get("use", 0))))
        if read is not None:
            shown.update(logIndex=read.index, receipt=read.receipt, receiptChecked=read.checked)
    return shown


def _receipt_text(read: ReadReceipt | None) -> str:
    if read is None or read.receipt is None:
        return "no receipt yet"
    verdict = {True: "checked", False: "DOES NOT CHECK OUT", None: "not checked here"}
    return f"log entry {read.index}, {verdict[read.checked]}"


def _save_receipts(folder: Path, reads: list[ReadReceipt]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for read in reads:
        if read.receipt is not None:
            (folder / f"{read.consent_id}-{read.use}.tlog-proof").write_text(
                read.receipt, encoding="utf-8"
            )


register_request_commands(app)

__all__ = ["app"]
