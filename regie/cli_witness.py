"""``regie audit witness``: make a witness key, trust a log, run the witness, list what it saw.

::

    regie audit witness keygen --name witness.example/w1 --out witness.key   # prints the vkey
    regie audit witness trust-log --db witness.sqlite3 --log-key '<log vkey>'
    regie audit witness serve --key witness.key --db witness.sqlite3 --port 8005
    regie audit witness logs --db witness.sqlite3 [--json]

The witness (:mod:`audit.witness`) speaks C2SP tlog-witness: a log posts its new
checkpoint with a consistency proof to ``<url>/add-checkpoint`` and gets a cosignature
back. Give the log the witness's URL and vkey; give auditors the vkey.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Annotated

import typer

from audit.witness.keys import create_witness_key, load_witness_key
from audit.witness.store import WitnessStore
from regie_protocol.tlog.note import NoteVerifier

from .console import err, fail, handle_errors, out, print_json

witness_app = typer.Typer(
    help="A witness: cosigns a log's checkpoints once it checked they extend what it saw.",
    no_args_is_help=True,
)

DbOpt = Annotated[Path, typer.Option("--db", help="The witness's SQLite database file.")]
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (names, not a bind)


@witness_app.command()
@handle_errors
def keygen(
    name: Annotated[
        str, typer.Option(help="The witness's name, a schema-less URL (witness.example/w1).")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="The private key file to write (mode 0600).")
    ],
) -> None:
    """Make the witness's Ed25519 cosigner key; prints its PUBLIC verifier key (vkey)."""
    key = create_witness_key(out_file, name)
    err.print(f"Wrote the witness key {out_file} (0600). Its verifier key:", markup=False)
    typer.echo(key.verifier().vkey())


@witness_app.command("trust-log")
@handle_errors
def trust_log(
    db: DbOpt,
    log_key: Annotated[
        str,
        typer.Option("--log-key", help="The log's verifier key (vkey), named by its origin."),
    ],
) -> None:
    """Cosign checkpoints of the log with this key (the key's name is the log's origin)."""
    verifier = NoteVerifier.parse(log_key.strip())
    store = WitnessStore.open(db)
    added = store.trust_log(verifier, now=int(time.time()))
    verb = "Now trusting" if added else "Already trusted"
    out.print(f"{verb} log {verifier.name} (key ID {verifier.key_id.hex()}).", markup=False)


def _check_port(host: str, port: int) -> None:
    """Fail with one line when ``host:port`` cannot be listened on (in use, no such address)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc}", code=2) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code=2) from None


@witness_app.command()
@handle_errors
def serve(
    key: Annotated[Path, typer.Option(help="The witness key file (from 'keygen').")],
    db: DbOpt,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8005,
    url: Annotated[
        str | None,
        typer.Option(help="The public base URL (default: http://HOST:PORT)."),
    ] = None,
) -> None:
    """Serve the witness: POST /add-checkpoint (C2SP tlog-witness) and GET /v1/logs."""
    import uvicorn

    from audit.witness.app import create_app
    from audit.witness.service import Witness

    cosigner = load_witness_key(key)
    store = WitnessStore.open(db)
    if not store.logs():
        err.print(
            "Note: this witness trusts no log yet; add one with "
            f"'regie audit witness trust-log --db {db} --log-key VKEY'.",
            markup=False,
            highlight=False,
        )
    shown = "127.0.0.1" if host in _WILDCARDS else host
    base_url = (url or f"http://{shown}:{port}").rstrip("/")
    _check_port(host, port)
    app = create_app(Witness(cosigner, store), base_url=base_url)
    out.print(
        f"Witness {cosigner.verifier().vkey()} at {base_url}/add-checkpoint",
        markup=False,
        highlight=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")


@witness_app.command()
@handle_errors
def logs(
    db: DbOpt,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The logs this witness trusts, and the latest checkpoint it cosigned for each."""
    if not db.is_file():
        raise fail(f"there is no witness database {db}", code=2)
    from audit.witness.app import log_state

    rows = [log_state(log).model_dump() for log in WitnessStore.open(db).logs()]
    if json_out:
        print_json({"logs": rows})
        return
    from rich.table import Table

    table = Table(title="Logs this witness cosigns for")
    for column in ("origin", "size", "cosigned at", "root hash"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["origin"]),
            "-" if row["size"] is None else str(row["size"]),
            str(row["cosignedAt"] or "-"),
            str(row["rootHash"] or "-"),
        )
    out.print(table)


__all__ = ["keygen", "logs", "serve", "trust_log", "witness_app"]
