"""``regie issuer ...``: keys, issuing, revoking and serving, for an authoritative source."""

from __future__ import annotations

import hashlib
import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from issuer.issuer import Issuer, new_state
from issuer.sources import CREDENTIAL_TYPES, SOURCES
from issuer.state import StateFile, check_private_file, write_private_file
from issuer.status import StatusRegistry
from regie_protocol import sdjwt
from regie_protocol.errors import Misuse
from regie_protocol.keys import Alg, SigningKey, Unprotected, parse_jwk_text, public_key_from_jwk
from regie_protocol.statuslist import Status

from .console import handle_errors, home_dir, out, print_json, read_text_arg

app = typer.Typer(
    help="An authoritative source: make keys, issue credentials, revoke them, serve metadata.",
    no_args_is_help=True,
)

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Regie's data directory (default: $REGIE_HOME or your user data dir)."
    ),
]
IssuerOpt = Annotated[
    str | None,
    typer.Option(
        "--issuer",
        help="The issuer's https:// identifier (default: the example source for --type).",
    ),
]


class KeyAlg(StrEnum):
    EdDSA = "EdDSA"
    ES256 = "ES256"


def load_signing_key(path: Path) -> SigningKey:
    """A private JWK file; refused when others can read it."""
    if not path.is_file():
        raise Misuse(f"key file {path} does not exist")
    check_private_file(path)
    return SigningKey.from_private_jwk(parse_jwk_text(read_text_arg(path, what="key file")))


def state_file(home: Path | None, issuer_id: str) -> StateFile:
    slug = hashlib.sha256(issuer_id.encode("utf-8")).hexdigest()[:16]
    return StateFile(home_dir(home) / "issuers" / f"{slug}.json")


def open_state(home: Path | None, issuer_id: str, *, create: bool) -> StateFile:
    store = state_file(home, issuer_id)
    if not store.exists():
        if not create:
            raise Misuse(f"no issuer state for {issuer_id}: issue a credential first")
        store.create(new_state(issuer_id, allow_http_localhost=True))
    return store


def default_issuer(vct: str | None, issuer: str | None) -> str:
    if issuer:
        return issuer
    for source in SOURCES.values():
        if source.ctype.vct == vct:
            return source.issuer_id
    known = ", ".join(sorted(CREDENTIAL_TYPES))
    raise Misuse(
        f"unknown credential type {vct!r}; the example sources issue: {known} "
        "(see 'regie issuer types')"
    )


@app.command()
@handle_errors
def keygen(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the private JWK (mode 0600).")
    ],
    alg: Annotated[KeyAlg, typer.Option(help="Signature algorithm.")] = KeyAlg.EdDSA,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Make a signing key. Writes the private JWK (only you can read it); prints the public JWK."""
    if out_file.exists() and not force:
        raise Misuse(f"{out_file} exists; pass --force to overwrite it")
    key = SigningKey.generate(Alg(alg.value))
    write_private_file(out_file, key.export_private_jwk(protection=Unprotected()) + "\n")
    print_json(key.public_key.to_jwk())


@app.command("types")
@handle_errors
def list_types(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the credential types of the example sources and their claims."""
    rows: list[dict[str, Any]] = [
        {
            "source": s.key,
            "issuer": s.issuer_id,
            "vct": s.ctype.vct,
            "name": s.ctype.name_en,
            "claims": [c.name for c in s.ctype.claims],
        }
        for s in SOURCES.values()
    ]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Credential types")
    for column in ("source", "issuer", "vct", "claims"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["source"]), str(row["issuer"]), str(row["vct"]), ", ".join(row["claims"])
        )
    out.print(table)


@app.command()
@handle_errors
def issue(
    key: Annotated[Path, typer.Option(help="The issuer's private JWK file.")],
    holder: Annotated[
        Path, typer.Option(help="The holder's PUBLIC JWK file (the key to bind to).")
    ],
    vct: Annotated[str, typer.Option("--type", help="The credential type (vct).")],
    claims: Annotated[Path, typer.Option(help="A JSON file with the claims ('-' for stdin).")],
    sd: Annotated[
        str | None,
        typer.Option(help="Comma-separated top-level claims to make selectively disclosable."),
    ] = None,
    sd_all: Annotated[
        bool, typer.Option("--sd-all", help="Every claim the schema allows (the default).")
    ] = False,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON with the index.")] = False,
) -> None:
    """Issue an SD-JWT VC bound to the holder's key; prints the credential."""
    if sd is not None and sd_all:
        raise Misuse("give --sd NAMES or --sd-all, not both")
    signing_key = load_signing_key(key)
    holder_key = public_key_from_jwk(parse_jwk_text(read_text_arg(holder, what="holder key")))
    try:
        claim_values = json.loads(read_text_arg(claims, what="claims file"))
    except json.JSONDecodeError as exc:
        raise Misuse(
            f"claims file {claims} is not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if not isinstance(claim_values, dict):
        raise Misuse("the claims file must hold a JSON object")
    issuer_id = default_issuer(vct, issuer)
    chosen = None if sd is None else [n.strip() for n in sd.split(",") if n.strip()]
    store = open_state(home, issuer_id, create=True)
    import datetime as dt

    from issuer.sources import with_derived_claims

    with store.transaction() as state:
        ctype_claims = with_derived_claims(vct, claim_values, dt.datetime.now(dt.UTC).date())
        issued = Issuer(state, signing_key, CREDENTIAL_TYPES).issue(
            vct=vct,
            claims=ctype_claims,
            holder=holder_key,
            now=int(time.time()),
            disclosable=chosen,
        )
    if json_out:
        print_json(
            {
                "credential": issued.token,
                "vct": issued.vct,
                "status_index": issued.status_index,
                "expires_at": issued.expires_at,
            }
        )
    else:
        typer.echo(issued.token)


def _index_from_credential(path: Path) -> tuple[str, int]:
    parsed = sdjwt.parse(read_text_arg(path, what="credential").strip())
    claims: dict[str, Any] = dict(parsed.unverified_claims)
    status = claims.get("status", {}).get("status_list", {})
    if not isinstance(status.get("idx"), int) or not isinstance(claims.get("iss"), str):
        raise Misuse(f"{path} is not a credential with a status list entry")
    return claims["iss"], status["idx"]


@app.command()
@handle_errors
def revoke(
    credential: Annotated[
        Path | None, typer.Option(help="The credential to revoke (reads its status index).")
    ] = None,
    index: Annotated[int | None, typer.Option(help="Or: its status list index.")] = None,
    suspend: Annotated[bool, typer.Option(help="Suspend instead of revoking.")] = False,
    reinstate: Annotated[bool, typer.Option(help="Lift a suspension.")] = False,
    issuer: IssuerOpt = None,
    home: HomeOpt = None,
) -> None:
    """Revoke (or suspend, or reinstate) a credential through the issuer's status list."""
    if (credential is None) == (index is None):
        raise Misuse("give --credential FILE or --index N")
    if suspend and reinstate:
        raise Misuse("give --suspend or --reinstate, not both")
    if credential is not None:
        issuer_id, idx = _index_from_credential(credential)
        if issuer and issuer != issuer_id:
            raise Misuse(f"the credential was issued by {issuer_id}, not {issuer}")
    else:
        if not issuer:
            raise Misuse("--issuer is needed with --index")
        issuer_id, idx = issuer, int(index or 0)
    status = Status.SUSPENDED if suspend else Status.VALID if reinstate else Status.INVALID
    store = open_state(home, issuer_id, create=False)
    with store.transaction() as state:
        StatusRegistry(state).set_status(idx, status)
    word = {Status.INVALID: "revoked", Status.SUSPENDED: "suspended", Status.VALID: "reinstated"}
    out.print(f"Credential {idx} of {issuer_id} is now {word[status]}.")


@app.command()
@handle_errors
def serve(
    key: Annotated[Path, typer.Option(help="The issuer's private JWK file.")],
    issuer: Annotated[
        str | None, typer.Option(help="The issuer identifier (default: http://HOST:PORT).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8001,
    home: HomeOpt = None,
) -> None:
    """Serve the issuer's metadata, status list and OpenID4VCI endpoints."""
    import os
    import secrets

    import uvicorn

    from issuer.app import create_app
    from issuer.settings import IssuerSettings

    load_signing_key(key)
    issuer_id = issuer or f"http://{host}:{port}"
    store = open_state(home, issuer_id, create=True)
    admin = os.environ.get("REGIE_ISSUER_ADMIN_TOKEN")
    if not admin:
        admin = secrets.token_urlsafe(32)
        out.print(f"Admin token for this run (set REGIE_ISSUER_ADMIN_TOKEN to fix it): {admin}")
    settings = IssuerSettings(
        issuer_id=issuer_id,
        key_file=key,
        state_file=store.path,
        admin_token=admin,
        dev=issuer_id.startswith("http://"),
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
