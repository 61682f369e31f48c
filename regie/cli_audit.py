"""``regie audit ...``: trust a log's key, verify the log, report what it shows, export it.

::

    regie audit trust --log-key VKEY [--witness VKEY]... [--quorum N]
    regie audit verify (--host URL --key AUDITOR_JWK | --export DIR) [--receipt FILE]... [--json]
    regie audit report (--host URL --key AUDITOR_JWK | --export DIR) [--json] [--html FILE]
    regie audit export --host URL --key AUDITOR_JWK --out DIR

The trusted file (``--trusted``, else ``<REGIE_HOME>/audit/trusted.json``)
holds the log key and witness keys you got out of band, and the last
checkpoint you verified; each successful ``verify`` or ``report`` moves it
forward, so the next run catches a log that was rolled back or forked. A
refusal is one line, ``regie: <code>: <reason>``, and exit 1. ``report`` exits
1 when it finds violations, so a script can act on it.

The HTTP client (:func:`make_http`) and the clock (:func:`now`) are looked up
at call time, so a test replaces them for every command. An encrypted auditor
key is opened with ``REGIE_AUDITOR_PASSPHRASE`` or a prompt.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.table import Table

from audit.export import write_export
from audit.progress import BarProgress
from audit.report import KIND_TITLES, Analyser, AuditReport, Tally, date, printable
from audit.report import report_document as build_report_document
from audit.report_html import render_html
from audit.source import ExportSource, HostSource, LogSource, load_auditor_key
from audit.trusted import TrustPolicy, default_trust_file, load_trust, save_trust
from audit.verify import VerifiedLog, read_event, verify_log
from regie_protocol.errors import Misuse, RegieError
from regie_protocol.keys import SigningKey
from regie_protocol.tlog.note import NoteVerifier
from regie_protocol.tlog.receipt import MAX_RECEIPT_BYTES, Receipt

from .cli_witness import witness_app
from .console import EXIT_REFUSED, err, handle_errors, home_dir, out, print_json

audit_app = typer.Typer(
    help="The auditor: check that the consent log is intact, and what it shows.",
    no_args_is_help=True,
)
audit_app.add_typer(witness_app, name="witness")

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Regie's data directory (default: $REGIE_HOME or your user data dir)."
    ),
]
TrustedOpt = Annotated[
    Path | None,
    typer.Option("--trusted", help="The trusted file (default: <home>/audit/trusted.json)."),
]
HostOpt = Annotated[str | None, typer.Option("--host", help="The wallet host's URL (its log API).")]
KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", help="Your auditor private key (JWK file, 0600) the host knows."),
]
ExportOpt = Annotated[
    Path | None, typer.Option("--export", help="A log export directory instead of a host.")
]
FreshOpt = Annotated[
    bool,
    typer.Option("--fresh", help="Ask the host to sign a checkpoint of everything now (--key)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def make_http() -> httpx.Client:
    """The HTTP client every command uses (a test puts one that reaches an in-process app)."""
    return httpx.Client(timeout=30.0, follow_redirects=False)


def now() -> int:
    """The time every command uses (a test puts its own clock)."""
    return int(time.time())


def _trusted_path(trusted: Path | None, home: Path | None) -> Path:
    return trusted if trusted is not None else default_trust_file(home_dir(home))


def _auditor_key(path: Path) -> SigningKey:
    passphrase = os.environ.get("REGIE_AUDITOR_PASSPHRASE")
    try:
        return load_auditor_key(path, passphrase=passphrase)
    except Misuse as exc:
        if passphrase is not None or "passphrase" not in exc.message:
            raise
    asked: str = typer.prompt("Passphrase of the auditor key", hide_input=True, err=True)
    return load_auditor_key(path, passphrase=asked)


@contextlib.contextmanager
def _source(
    host: str | None, key: Path | None, export: Path | None, *, fresh: bool, need_key: bool
) -> Iterator[LogSource]:
    """The log source the options name (exactly one of --host and --export)."""
    if (host is None) == (export is None):
        raise Misuse("give either --host URL (with --key) or --export DIR")
    if export is not None:
        if key is not None or fresh:
            raise Misuse("--key and --fresh go with --host, not with --export")
        yield ExportSource(export)
        return
    assert host is not None
    if need_key and key is None:
        raise Misuse("reading the log's events from a host needs your auditor --key")
    signing = _auditor_key(key) if key is not None else None
    with make_http() as client:
        yield HostSource(host, client=client, key=signing, clock=now, fresh=fresh)


def _read_receipts(paths: list[Path]) -> list[tuple[str, Receipt]]:
    receipts = []
    for path in paths:
        if not path.is_file():
            raise Misuse(f"receipt {path} does not exist")
        with path.open("rb") as handle:
            data = handle.read(MAX_RECEIPT_BYTES + 1)
        try:
            receipts.append((str(path), Receipt.parse(data)))
        except RegieError as exc:
            raise type(exc)(f"receipt {path}: {exc.message}", code=exc.code) from None
    return receipts


def _verify(
    source: LogSource,
    path: Path,
    *,
    receipts: Sequence[tuple[str, Receipt]] = (),
    analyser: Analyser | None = None,
) -> VerifiedLog:
    """Verify against the trusted file and move its checkpoint forward."""
    policy = load_trust(path)
    on_event = None
    if analyser is not None:
        add = analyser.add

        def on_event(index: int, data: bytes) -> None:
            add(read_event(index, data))

    with BarProgress(err) as progress:
        result = verify_log(
            source,
            policy,
            receipts=receipts,
            decode=analyser is None,
            on_event=on_event,
            progress=progress,
        )
    save_trust(path, policy.advanced(result.checkpoint))
    return result


@audit_app.command()
@handle_errors
def trust(
    log_key: Annotated[str, typer.Option("--log-key", help="The log's verifier key (vkey).")],
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="A witness's verifier key (repeat for more)."),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(help="Witness cosignatures each checkpoint needs (default: all of them)."),
    ] = None,
    trusted: TrustedOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Trust a log's key and its witnesses (got out of band, never from the log itself)."""
    path = _trusted_path(trusted, home)
    log = NoteVerifier.parse(log_key)
    witnesses = tuple(NoteVerifier.parse(w) for w in witness or [])
    checkpoint = None
    if path.is_file():
        with contextlib.suppress(RegieError):
            previous = load_trust(path)
            if previous.log == log:
                checkpoint = previous.checkpoint
    policy = TrustPolicy(
        log=log,
        witnesses=witnesses,
        quorum=len(witnesses) if quorum is None else quorum,
        checkpoint=checkpoint,
    )
    save_trust(path, policy)
    if json_out:
        print_json(
            {
                "trusted": str(path),
                "origin": policy.origin,
                "witnesses": [w.name for w in witnesses],
                "witnessQuorum": policy.quorum,
                "checkpointKept": checkpoint is not None,
            }
        )
        return
    names = ", ".join(printable(w.name) for w in witnesses) or "none"
    out.print(
        f"Trusting log {printable(policy.origin)} (key {log.key_id.hex()}); witnesses: {names}; "
        f"cosignatures needed: {policy.quorum}.\n"
        + ("Your last verified checkpoint is kept.\n" if checkpoint is not None else "")
        + f"Written to {path}. Next: 'regie audit verify --host URL --key FILE' "
        "or '--export DIR'.",
        markup=False,
        highlight=False,
    )


@audit_app.command()
@handle_errors
def verify(
    host: HostOpt = None,
    key: KeyOpt = None,
    export: ExportOpt = None,
    receipt: Annotated[
        list[Path] | None,
        typer.Option("--receipt", help="A receipt (.tlog-proof) to check too (repeatable)."),
    ] = None,
    fresh: FreshOpt = False,
    trusted: TrustedOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check the whole log: signatures, every entry, no rollback or fork since your last check."""
    path = _trusted_path(trusted, home)
    receipts = _read_receipts(receipt or [])
    with _source(host, key, export, fresh=fresh, need_key=False) as source:
        result = _verify(source, path, receipts=receipts)
    if json_out:
        print_json({"ok": True, "trusted": str(path), **result.to_json()})
        return
    _print_verified(result, path)


def _print_verified(result: VerifiedLog, path: Path) -> None:
    lines = [
        f"The log {printable(result.origin)} is intact.",
        f"  Entries: {result.size:,} ({result.events_checked:,} events checked"
        + (f", {result.hidden_events:,} not visible to you" if result.hidden_events else "")
        + ")",
        f"  Root: {_b64(result.root)}",
        "  Witnessed by: "
        + (", ".join(printable(c) for c in result.cosigners) or "no witness cosignature"),
    ]
    if result.previous_size is None:
        lines.append("  First check: this checkpoint is trusted from now on.")
    elif result.previous_size == result.size:
        lines.append("  Unchanged since your last check.")
    else:
        lines.append(
            f"  Grew from {result.previous_size:,} to {result.size:,} entries since your last "
            "check, without changing what was there."
        )
    if result.older_checkpoints:
        lines.append(f"  Older checkpoints checked: {result.older_checkpoints}")
    for r in result.receipts:
        lines.append(
            f"  Receipt {printable(r.label)}: entry {r.index:,} is in the log (tree of {r.size:,})."
        )
    lines.append(f"Trusted checkpoint updated in {path}.")
    out.print("\n".join(lines), markup=False, highlight=False)


def _b64(raw: bytes) -> str:
    from regie_protocol.tlog.note import b64encode_std

    return b64encode_std(raw)


@audit_app.command()
@handle_errors
def report(
    host: HostOpt = None,
    key: KeyOpt = None,
    export: ExportOpt = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report to this file.")
    ] = None,
    at: Annotated[
        int | None,
        typer.Option("--now", help="Judge deadlines as of this time (epoch seconds).", min=0),
    ] = None,
    fresh: FreshOpt = False,
    trusted: TrustedOpt = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Verify the log, then say what it shows: violations, reads per service, purpose, basis."""
    path = _trusted_path(trusted, home)
    analyser = Analyser()
    with _source(host, key, export, fresh=fresh, need_key=True) as source:
        result = _verify(source, path, analyser=analyser)
    found = analyser.finish(now=now() if at is None else at)
    if html is not None:
        _write_text(html, render_html(found, result.to_json()))
    if json_out:
        print_json(build_report_document(found, result.to_json()))
    else:
        _print_report(found, result)
    if not found.ok:
        count = len(found.violations)
        err.print(
            f"regie: {count} violation{'s' if count != 1 else ''} found",
            markup=False,
            highlight=False,
        )
        raise typer.Exit(EXIT_REFUSED)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _tally_table(title: str, what: str, tallies: tuple[Tally, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(what)
    table.add_column("Reads" if "Reads" in title else "Count", justify="right")
    for tally in tallies:
        table.add_row(printable(tally.name), f"{tally.count:,}")
    if not tallies:
        table.add_row("none", "0")
    return table


def _print_report(found: AuditReport, result: VerifiedLog) -> None:
    period = (
        "no events"
        if found.first_at is None or found.last_at is None
        else f"from {date(found.first_at)} to {date(found.last_at)}"
    )
    out.print(
        f"The log {printable(result.origin)} is intact: {result.size:,} entries, "
        f"{found.events:,} events you may see, {period}.",
        markup=False,
        highlight=False,
    )
    names = found.by_name
    out.print(
        f"Consents: {names['consent.granted']:,} given, {names['consent.withdrawn']:,} withdrawn, "
        f"{names['consent.revoked']:,} revoked, {names['consent.expired']:,} expired, "
        f"{names['consent.refused']:,} refused. Reads: {names['data.released']:,} done, "
        f"{names['data.refused']:,} refused. Deletions reported: {names['retention.purged']:,}.",
        markup=False,
        highlight=False,
    )
    out.print(_tally_table("Reads per service", "Service", found.reads_by_verifier))
    out.print(_tally_table("Reads per purpose", "Purpose", found.reads_by_purpose))
    out.print(_tally_table("Reads per legal basis", "Legal basis", found.reads_by_legal_basis))
    out.print(_tally_table("Refused reads per reason", "Reason", found.refusals_by_type))
    if found.ok:
        out.print("No violations found.", markup=False, highlight=False)
        return
    table = Table(title="Violations", title_justify="left", show_lines=True)
    for column in ("Entry", "When", "What", "Details"):
        table.add_column(column)
    for v in found.violations:
        table.add_row(f"#{v.index}", date(v.at), KIND_TITLES[v.kind], printable(v.detail))
    out.print(table)


@audit_app.command("export")
@handle_errors
def export_log(
    out_dir: Annotated[Path, typer.Option("--out", help="The directory to write (new or empty).")],
    host: Annotated[str, typer.Option("--host", help="The wallet host's URL (its log API).")],
    key: Annotated[Path, typer.Option("--key", help="Your auditor private key (JWK file).")],
    fresh: FreshOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Copy the log (what your key may see) into a directory to verify or keep offline."""
    signing = _auditor_key(key)
    with make_http() as client, BarProgress(err) as progress:
        source = HostSource(host, client=client, key=signing, clock=now, fresh=fresh)
        head, visible = write_export(source, out_dir, progress=progress)
    if json_out:
        print_json(
            {"out": str(out_dir), "origin": head.origin, "size": head.size, "visible": visible}
        )
        return
    out.print(
        f"Exported {head.size:,} entries of {printable(head.origin)} ({visible:,} events visible "
        f"to your key) to {out_dir}.\nNothing is verified yet: run "
        f"'regie audit verify --export {out_dir}'.",
        markup=False,
        highlight=False,
    )


__all__ = ["audit_app", "make_http", "now"]
