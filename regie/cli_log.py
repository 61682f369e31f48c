"""``regie wallet log ...``: the host operator's side of the consent log; ``regie audit keygen``.

* ``key``: the log's verifier key (C2SP vkey) to hand to auditors out of band
  (the log and its key are made the first time);
* ``checkpoint``: sign a checkpoint of the log as it is now;
* ``reader add|list|remove``: who may read events through the host's API. An
  auditor's key sees every event; a citizen's key (``--citizen``, which asks
  for the wallet's passphrase) sees that wallet's events only.

``regie audit keygen`` makes an auditor's (or citizen's) key pair: the private
JWK file (0600) signs the DPoP proofs of ``regie audit verify --host``, the
public JWK is what ``reader add`` registers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from regie_protocol.errors import Misuse
from regie_protocol.keys import Alg, SigningKey, Unprotected, parse_jwk_text
from regie_protocol.private_files import write_private_file
from wallet.config import config_from_env
from wallet.host.log_service import STATE_FILE_NAME, HostLog
from wallet.host.settings import HostSettings
from wallet.log import access
from wallet.storage import LogReaderRole

from .console import err, handle_errors, home_dir, out, print_json, read_text_arg
from .wallet_session import opened_wallet

log_app = typer.Typer(
    help="The wallet host's tamper-evident consent log: its key, checkpoints and readers.",
    no_args_is_help=True,
)
reader_app = typer.Typer(
    help="Keys that may read log events through the host.", no_args_is_help=True
)
log_app.add_typer(reader_app, name="reader")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="The wallet's directory (default: $REGIE_HOME or your data dir)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _host_log(home: Path | None) -> HostLog:
    settings = HostSettings.from_env(home=home_dir(home))
    db = config_from_env(settings.home).open_database()
    return HostLog.open(
        db,
        key_file=settings.log_key_path,
        state_file=settings.log_key_path.with_name(STATE_FILE_NAME),
        now=int(time.time()),
        witnesses=settings.witness_list,
    )


@log_app.command("key")
@handle_errors
def key(home: HomeOpt = None) -> None:
    """Print the log's verifier key: auditors trust the log with it (give it out of band)."""
    log = _host_log(home)
    try:
        out.print(log.vkey(), markup=False, highlight=False)
    finally:
        log.db.dispose()


@log_app.command("checkpoint")
@handle_errors
def checkpoint(home: HomeOpt = None) -> None:
    """Sign a checkpoint of the log as it is now (and have it cosigned); print it."""
    log = _host_log(home)
    try:
        note = log.sign_now(now=int(time.time()))
    finally:
        log.db.dispose()
    out.print(note.decode("utf-8"), markup=False, highlight=False, end="")


@reader_app.command("add")
@handle_errors
def reader_add(
    jwk_file: Annotated[Path, typer.Argument(help="The reader's PUBLIC JWK ('-' reads stdin).")],
    name: Annotated[str, typer.Option(help="Who this is (shown in 'reader list').")],
    citizen: Annotated[
        bool,
        typer.Option("--citizen", help="A key of this wallet's citizen (asks for the passphrase)."),
    ] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Let a key read log events: an auditor's sees all, a citizen's (``--citizen``) their own."""
    jwk = parse_jwk_text(read_text_arg(jwk_file, what="the reader's JWK", max_bytes=8192))
    now = int(time.time())
    if citizen:
        with opened_wallet(home) as (_, wallet):
            added = wallet.db.run(
                lambda conn: access.add_reader(
                    conn,
                    jwk=jwk,
                    role=LogReaderRole.CITIZEN,
                    name=name,
                    now=now,
                    owner=wallet.owner,
                )
            )
    else:
        db = config_from_env(home_dir(home)).open_database()
        try:
            added = db.run(
                lambda conn: access.add_reader(
                    conn, jwk=jwk, role=LogReaderRole.AUDITOR, name=name, now=now
                )
            )
        finally:
            db.dispose()
    if json_out:
        print_json(added.to_json())
        return
    out.print(f"Added {added.role} {added.name} (key {added.jkt}).", markup=False, highlight=False)


@reader_app.command("list")
@handle_errors
def reader_list(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """The keys that may read log events."""
    db = config_from_env(home_dir(home)).open_database()
    try:
        readers = db.run(access.list_readers, write=False)
    finally:
        db.dispose()
    if json_out:
        print_json([reader.to_json() for reader in readers])
        return
    from rich.table import Table

    table = Table(title="Log readers")
    for column in ("role", "name", "key", "wallet"):
        table.add_column(column, overflow="fold")
    for reader in readers:
        table.add_row(reader.role, reader.name, reader.jkt, reader.owner or "all")
    out.print(table)


@reader_app.command("remove")
@handle_errors
def reader_remove(
    jkt: Annotated[str, typer.Argument(help="The reader's key thumbprint (from 'reader list').")],
    home: HomeOpt = None,
) -> None:
    """Take a key's access to log events away."""
    db = config_from_env(home_dir(home)).open_database()
    try:
        removed = db.run(lambda conn: access.remove_reader(conn, jkt))
    finally:
        db.dispose()
    if not removed:
        raise Misuse(f"no log reader has the key {jkt}")
    out.print(f"Removed the log reader {jkt}.", markup=False, highlight=False)


@handle_errors
def keygen(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the PRIVATE key (0600).")],
) -> None:
    """Make a key to read a wallet host's log with; prints the PUBLIC JWK to register."""
    if out_file.exists():
        raise Misuse(f"{out_file} exists already: a key file is never overwritten")
    key = SigningKey.generate(Alg.EDDSA)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    write_private_file(out_file, key.export_private_jwk(protection=Unprotected()))
    err.print(f"Wrote the private key to {out_file}", markup=False, highlight=False)
    out.print(json.dumps(key.public_key.to_jwk()), markup=False, highlight=False)


__all__ = ["keygen", "log_app"]
