"""``regie verifier request|collect|read|purge|consents``: ask, collect, read, forget.

A verifier asks a citizen for consent through their wallet host
(``request``), collects the answer into its store (``collect``, or
``request --wait``), reads the sealed data under a collected consent
(``read``, DPoP-bound; ``--keep`` keeps the values as long as the consent
allows), deletes kept data whose consent ended or whose retention ran out
(``purge``) and lists what it collected (``consents``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from regie_protocol.consent_request import REQUEST_MAX_LIFETIME as REQUEST_LIFETIME
from regie_protocol.consent_request import ConsentRequestClaims
from regie_protocol.errors import Misuse, RegieError, Unavailable
from verifier.purge import purge as run_purge
from verifier.store import VerifierStore
from wallet.consent_terms import (
    legal_basis_iri,
    purpose_iri,
    retention_iso,
    split_attributes,
    validity_seconds,
)

from . import cli_verifier_io as io
from .cli_verifier_io import (
    HomeOpt,
    JsonOpt,
    collect_answer,
    date_text,
    new_request_id,
    open_context,
    print_attributes,
    settings_for,
)
from .console import err, handle_errors, out, print_json


@handle_errors
def request(
    host: Annotated[str, typer.Option(help="The citizen's wallet host URL (trusted).")],
    inbox: Annotated[str, typer.Option(help="The citizen's inbox id at that host.")],
    attributes: Annotated[str, typer.Option(help="Comma-separated attributes you need.")],
    purpose: Annotated[str, typer.Option(help="The DPV purpose (short name ok).")],
    legal_basis: Annotated[str, typer.Option(help="The legal basis (A6-1-e, Consent, ...).")],
    valid: Annotated[str, typer.Option(help="How long the consent is to run: 30d, 2w.")] = "30d",
    optional: Annotated[
        str | None, typer.Option(help="Comma-separated attributes the citizen may leave out.")
    ] = None,
    retention: Annotated[
        str | None, typer.Option(help="How long you keep the data: 30d, P1Y (default: not).")
    ] = None,
    max_uses: Annotated[int | None, typer.Option(help="How many reads in all.")] = None,
    frequency: Annotated[
        str | None, typer.Option(help="At most one read per this period (P1D).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the citizen's answer.")] = False,
    timeout: Annotated[int, typer.Option(help="Seconds to wait with --wait.")] = 300,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Ask a citizen for consent through their wallet host; --wait collects the answer."""
    context = open_context(home)
    try:
        at = io.now()
        claims = ConsentRequestClaims(
            iss=context.identity.id,
            aud=host,
            jti=new_request_id(),
            iat=at,
            exp=at + min(REQUEST_LIFETIME, max(timeout, 86400)),
            inbox=inbox,
            attributes=split_attributes(attributes),
            purpose=purpose_iri(purpose),
            legal_basis=legal_basis_iri(legal_basis),
            valid_for=validity_seconds(valid),
            optional_attributes=split_attributes(optional) if optional else (),
            retention=retention_iso(retention),
            max_uses=max_uses,
            frequency=retention_iso(frequency) if frequency else None,
        )
        request_id = context.submit_request(claims)
        result: dict[str, Any] = {"request": request_id, "state": "pending", "host": host}
        if wait:
            result = collect_answer(context, request_id, wait=timeout, sleep=io.pause)
        if json_out:
            print_json(result)
        else:
            _say_answer(result)
    finally:
        context.close()


def _say_answer(result: dict[str, Any]) -> None:
    state = result["state"]
    if state == "approved":
        names = ", ".join(result["attributes"])
        text = f"Approved: consent {result['consent']} (attributes {names})."
    elif state == "pending":
        text = (
            f"Request {result['request']} waits for the citizen; "
            f"collect the answer with 'regie verifier collect {result['request']}'."
        )
    else:
        text = f"Request {result['request']} is {state}: no consent."
    out.print(text, markup=False, highlight=False)


@handle_errors
def collect(
    request_id: Annotated[str, typer.Argument(help="The host's request id.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Collect the citizen's answer to a request into the store (once, no waiting)."""
    context = open_context(home)
    try:
        result = collect_answer(context, request_id, wait=0, sleep=io.pause)
    finally:
        context.close()
    if json_out:
        print_json(result)
    else:
        _say_answer(result)


@handle_errors
def read(
    consent_id: Annotated[str, typer.Argument(help="A collected consent's id.")],
    attributes: Annotated[
        str | None, typer.Option(help="Comma-separated attributes (default: all consented).")
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the values (if the consent allows).")] = False,
    receipt_file: Annotated[
        Path | None,
        typer.Option("--receipt", help="Save the read's receipt (.tlog-proof) to this file."),
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Read under a consent from the citizen's wallet host and print the released attributes.

    The host's answer carries a receipt: proof that the read is in the host's
    tamper-evident log (C2SP tlog-proof); ``--receipt FILE`` keeps it.
    """
    context = open_context(home)
    try:
        stored = context.store.consent(consent_id)
        if stored is None:
            raise Misuse(f"no consent {consent_id!r} in this verifier's store")
        wanted = split_attributes(attributes) if attributes else None
        result = context.client(stored.host).read(stored.token, wanted, policy=context.policy())
        kept = None
        if keep and result.attributes:
            kept = context.store.keep(consent_id, result.attributes, now=io.now())
    finally:
        context.close()
    if receipt_file is not None and result.receipt is not None:
        receipt_file.write_text(result.receipt, encoding="utf-8")
    if json_out:
        print_json(
            {
                "consent": result.consent_id,
                "use": result.use,
                "attributes": dict(result.attributes),
                "missing": list(result.missing),
                "keptUntil": None if kept is None else kept.keep_until,
                "receipt": result.receipt,
            }
        )
        return
    print_attributes(result, kept_until=None if kept is None else kept.keep_until)


@handle_errors
def purge(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Delete kept data whose consent was withdrawn, expired, or whose retention ran out."""
    context = open_context(home)
    unreported: list[str] = []
    try:
        now = io.now()
        report = run_purge(context.store, now=now, status=context.status)
        for consent_id, names in report.by_consent().items():
            stored = context.store.consent(consent_id)
            if stored is None:
                continue
            try:  # the citizen's log learns the data is gone (retention.purged)
                context.client(stored.host).report_purge(stored.token, names, purged_at=now)
            except RegieError as exc:
                unreported.append(f"{consent_id} ({exc.code.value})")
    finally:
        context.close()
    if json_out:
        print_json(report.to_json())
    else:
        for item in report.purged:
            out.print(
                f"purged {', '.join(item.attributes)} kept under {item.consent_id}: {item.reason}",
                markup=False,
                highlight=False,
            )
        out.print(f"{len(report.purged)} purged, {report.remaining} kept.", markup=False)
    if unreported:
        err.print(
            f"regie: the purge of {len(unreported)} consent(s) could not be reported to the "
            f"wallet host: {', '.join(unreported)}",
            markup=False,
            highlight=False,
        )
    if report.unchecked:
        raise Unavailable(
            f"the status of {len(report.unchecked)} consent(s) could not be checked "
            f"({', '.join(c for c, _ in report.unchecked)}); run purge again later"
        )


@handle_errors
def consents(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """List the consents this verifier collected."""
    settings = settings_for(home)
    store = VerifierStore.open(settings.database)
    try:
        rows = store.consents()
    finally:
        store.close()
    if json_out:
        print_json(
            [{"consent": c.jti, "host": c.host, "state": c.state, "expiresAt": c.exp} for c in rows]
        )
        return
    for c in rows:
        out.print(
            f"{c.jti}  {c.state:9}  until {date_text(c.exp)}  {c.host}",
            markup=False,
            highlight=False,
        )


def add_commands(app: typer.Typer) -> None:
    """Add ``request``, ``collect``, ``read``, ``purge`` and ``consents`` to ``app``."""
    for command in (request, collect, read, purge, consents):
        app.command()(command)


__all__ = ["add_commands", "collect", "consents", "purge", "read", "request"]
