"""``regie wallet ...``: the citizen's vault: init, holder keys, trust, receive, look and take away.

Every command but ``init`` opens the wallet with the passphrase
(``REGIE_PASSPHRASE`` or a hidden prompt). URLs are fetched through
:class:`wallet.fetch.SafeFetcher` (HTTPS to public addresses only;
``REGIE_ALLOW_LOCAL_URLS=1`` adds this machine, for demos).
"""

from __future__ import annotations

import os
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import Misuse, RegieError
from regie_protocol.keys import Alg, parse_jwk_text
from wallet import credentials, trust
from wallet.config import config_from_env
from wallet.core import create_wallet, wallet_ids
from wallet.export import MAX_EXPORT_BYTES, export_wallet
from wallet.fetch import ALLOW_LOCAL_ENV, Fetcher, SafeFetcher
from wallet.holder_keys import new_holder_key
from wallet.registry_store import add_registry
from wallet.releases import reseal
from wallet.restore import import_wallet
from wallet.vault import VaultPassphrase, check_passphrase

from .console import handle_errors, out, print_json, read_text_arg
from .wallet_session import opened_wallet, read_passphrase

app = typer.Typer(
    help="Your wallet: keep credentials encrypted, choose whom you trust, look at what you hold.",
    no_args_is_help=True,
)
trust_app = typer.Typer(help="The issuers and the verifier registry this wallet trusts.")
app.add_typer(trust_app, name="trust")

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="The wallet's directory (default: $REGIE_HOME or your user data dir)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class HolderAlg(StrEnum):
    EdDSA = "EdDSA"
    ES256 = "ES256"


def allow_local() -> bool:
    return os.environ.get(ALLOW_LOCAL_ENV) == "1"


def make_fetcher() -> Fetcher:
    """The fetcher commands use (tests replace this function to serve from an in-process app)."""
    return SafeFetcher(allow_local_http=allow_local())


def _now() -> int:
    return int(time.time())


def _date(value: int | None) -> str:
    if value is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(value)) + " UTC"


@app.command()
@handle_errors
def init(home: HomeOpt = None) -> None:
    """Create a wallet: choose a passphrase (asked twice, or REGIE_PASSPHRASE)."""
    config = config_from_env(home)
    with config.open_database() as db:
        if wallet_ids(db):
            raise Misuse(f"a wallet already exists in {config.home} ({db.url}); nothing changed")
        passphrase = read_passphrase(confirm=True)
        check_passphrase(passphrase)
        owner = create_wallet(db, passphrase, now=_now(), kdf=config.new_kdf())
    out.print(f"Created wallet {owner} in {config.home}.", markup=False, highlight=False)


@app.command("holder-key")
@handle_errors
def holder_key(
    alg: Annotated[HolderAlg, typer.Option(help="Signature algorithm.")] = HolderAlg.EdDSA,
    home: HomeOpt = None,
) -> None:
    """Make a holder key; prints its PUBLIC JWK for an issuer to bind a credential to."""
    with opened_wallet(home) as (_, wallet):
        public = new_holder_key(wallet, Alg(alg.value), now=_now())
    print_json(public.to_jwk())


@trust_app.command("add-issuer")
@handle_errors
def add_issuer(
    issuer_id: Annotated[str, typer.Argument(metavar="ID", help="The issuer's https:// id.")],
    jwks: Annotated[Path | None, typer.Option(help="A JWKS file with its keys.")] = None,
    metadata: Annotated[
        str | None,
        typer.Option(help="The issuer's URL; its /.well-known/jwt-vc-issuer is fetched."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Trust an issuer: its keys from a JWKS file or from its published metadata."""
    if (jwks is None) == (metadata is None):
        raise Misuse("give exactly one of --jwks FILE or --metadata URL")
    if jwks is not None:
        keys: Any = loads_strict(
            read_text_arg(jwks, what="JWKS file", max_bytes=64 * 1024).encode("utf-8"),
            max_depth=8,
            what="JWKS",
        )
    else:
        assert metadata is not None
        keys = trust.fetch_issuer_jwks(
            issuer_id, metadata, fetcher=make_fetcher(), allow_local_http=allow_local()
        )
    with opened_wallet(home) as (_, wallet):
        info, replaced = trust.add_issuer(
            wallet, issuer_id, keys, now=_now(), allow_local_http=allow_local()
        )
    verb = "Updated the keys of" if replaced else "Now trusting"
    listed = ", ".join(info.kids)
    out.print(f"{verb} {info.issuer_id} (keys: {listed}).", markup=False, highlight=False)


@trust_app.command("list")
@handle_errors
def trust_list(json_out: JsonOpt = False, home: HomeOpt = None) -> None:
    """List the trusted issuers."""
    with opened_wallet(home) as (_, wallet):
        issuers = trust.trusted_issuers(wallet)
    if json_out:
        print_json([i.to_json() for i in issuers])
        return
    from rich.table import Table

    table = Table(title="Trusted issuers")
    for column in ("issuer", "keys", "added"):
        table.add_column(column)
    for i in issuers:
        table.add_row(i.issuer_id, "\n".join(i.kids), _date(i.added_at))
    out.print(table)


@trust_app.command("add-registry")
@handle_errors
def trust_add_registry(
    file: Annotated[Path, typer.Argument(help="The signed registry file ('-' for stdin).")],
    registrar_jwk: Annotated[
        Path | None,
        typer.Option(help="The registrar's PUBLIC JWK file (the first time only)."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Load the verifier registry (signed by the registrar key this wallet trusts)."""
    token = read_text_arg(file, what="registry file", max_bytes=1 << 20)
    jwk = None
    if registrar_jwk is not None:
        jwk = parse_jwk_text(read_text_arg(registrar_jwk, what="registrar key file"))
    with opened_wallet(home) as (_, wallet):
        registry, previous = add_registry(wallet, token, now=_now(), registrar_jwk=jwk)
    was = f" (was version {previous})" if previous is not None else ""
    out.print(
        f"Loaded the registry of {registry.registrar}, version {registry.version}{was}: "
        f"{len(registry.verifiers)} verifier(s).",
        markup=False,
        highlight=False,
    )


@app.command()
@handle_errors
def receive(
    file: Annotated[Path, typer.Argument(help="The credential (SD-JWT VC); '-' for stdin.")],
    home: HomeOpt = None,
) -> None:
    """Verify a credential from its issuer and keep it in the vault.

    Data already sealed for active consents is re-sealed from the new credential.
    """
    token = read_text_arg(file, what="credential file", max_bytes=256 * 1024)
    with opened_wallet(home) as (_, wallet):
        now = _now()
        got = credentials.receive(wallet, token, now=now, fetcher=make_fetcher())
        resealed: int | str = 0
        if not got.already_held:
            try:
                resealed = reseal(wallet, now=now)
            except RegieError as exc:  # the credential is stored: say so, and what failed
                resealed = str(exc)
    if got.already_held:
        message = f"This credential is already in the wallet as {got.id}; nothing changed."
    else:
        message = f"Received {got.vct} from {got.issuer} as {got.id}."
        if got.replaced:
            message += f" It replaces the older one: {', '.join(got.replaced)}."
    if isinstance(resealed, str):
        message += f"\nThe data prepared for your active consents was NOT updated: {resealed}"
    elif resealed:
        message += (
            f"\nUpdated the data prepared for {resealed} active consent(s): "
            "those verifiers now get the new credential."
        )
    out.print(message, markup=False, highlight=False)


@app.command("list")
@handle_errors
def list_credentials(json_out: JsonOpt = False, home: HomeOpt = None) -> None:
    """List the credentials and their state (status looked up when reachable)."""
    now = _now()
    with opened_wallet(home) as (_, wallet):
        rows = credentials.credential_states(wallet, now=now, fetcher=make_fetcher())
    if json_out:
        print_json(
            [
                {
                    "id": c.id,
                    "type": c.type_name,
                    "vct": c.vct,
                    "issuer": c.issuer,
                    "received_at": c.received_at,
                    "expires_at": c.expires_at,
                    "state": state.value,
                }
                for c, state in rows
            ]
        )
        return
    from rich.table import Table

    table = Table(title="Credentials")
    for column in ("id", "type", "issuer", "received", "expires", "state"):
        table.add_column(column)
    for c, state in rows:
        table.add_row(
            c.id, c.type_name, c.issuer, _date(c.received_at), _date(c.expires_at), state.value
        )
    out.print(table)


@app.command()
@handle_errors
def show(
    credential_id: Annotated[str, typer.Argument(metavar="ID")],
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Show a credential's claims and which of them you may leave out when sharing."""
    with opened_wallet(home) as (_, wallet):
        held = credentials.get_credential(wallet, credential_id)
    data = held.to_json()
    if json_out:
        print_json(data)
        return
    for label, value in (
        ("id", held.id),
        ("type", held.vct),
        ("issuer", held.issuer),
        ("received", _date(held.received_at)),
        ("expires", _date(held.expires_at)),
        ("disclosable", ", ".join(data["disclosable"]) or "-"),
    ):
        out.print(f"{label}: {value}", markup=False, highlight=False)
    out.print("claims:", markup=False)
    print_json(data["claims"])


@app.command()
@handle_errors
def delete(
    credential_id: Annotated[str, typer.Argument(metavar="ID")], home: HomeOpt = None
) -> None:
    """Delete a credential (its key is destroyed with it)."""
    with opened_wallet(home) as (_, wallet):
        credentials.delete_credentials(wallet, [credential_id])
    out.print(f"Deleted {credential_id}.", markup=False, highlight=False)


@app.command()
@handle_errors
def prune(home: HomeOpt = None) -> None:
    """Remove expired and revoked credentials, and say which."""
    with opened_wallet(home) as (_, wallet):
        gone = credentials.prune(wallet, now=_now(), fetcher=make_fetcher())
    if not gone:
        out.print("Nothing to remove: no credential is expired or revoked.", markup=False)
    for c, state in gone:
        out.print(
            f"Removed {c.id} ({c.type_name} from {c.issuer}): {state.value}.",
            markup=False,
            highlight=False,
        )


def read_export_passphrase(*, confirm: bool) -> VaultPassphrase:
    """The export file's passphrase: ``REGIE_EXPORT_PASSPHRASE`` or a hidden prompt."""
    env = os.environ.get("REGIE_EXPORT_PASSPHRASE")
    if env:
        return VaultPassphrase(env)
    text: str = typer.prompt("Export passphrase", hide_input=True, confirmation_prompt=confirm)
    return VaultPassphrase(text)


@app.command("export")
@handle_errors
def export_command(
    file: Annotated[Path, typer.Argument(help="The file to write (it must not exist yet).")],
    home: HomeOpt = None,
) -> None:
    """Write the whole wallet to one encrypted file (JWE, PBES2) under an export passphrase."""
    from regie_protocol.private_files import write_private_file

    if file.exists() or file.is_symlink():
        raise Misuse(f"{file} already exists; choose another file name")
    with opened_wallet(home) as (_, wallet):
        passphrase = read_export_passphrase(confirm=True)
        check_passphrase(passphrase)
        text = export_wallet(wallet, passphrase, now=_now())
    write_private_file(file, text + "\n")
    out.print(
        f"Exported wallet {wallet.owner} to {file} (keep the export passphrase safe).",
        markup=False,
        highlight=False,
    )


@app.command("import")
@handle_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="A file written by 'regie wallet export'.")],
    json_out: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Restore an export into this wallet (new and empty, or the one that made it)."""
    if not file.is_file():
        raise Misuse(f"export file {file} does not exist or is not a file")
    with file.open("rb") as handle:
        data = handle.read(MAX_EXPORT_BYTES + 1)
    with opened_wallet(home) as (_, wallet):
        passphrase = read_export_passphrase(confirm=False)
        summary = import_wallet(wallet, data, passphrase, now=_now())
    if json_out:
        print_json(summary.to_json())
        return
    out.print(
        f"Imported from wallet {summary.source_wallet}: {summary.records_added} record(s) "
        f"added ({summary.records_present} already here), {summary.consents_added} consent(s) "
        f"added, {summary.consents_ended} ended as in the export, {summary.events_added} "
        f"event(s), {summary.issuers_added} issuer(s), registry {summary.registry}.",
        markup=False,
        highlight=False,
    )


__all__ = ["app", "make_fetcher", "read_export_passphrase"]
