"""``regie registry ...``: a registrar's signed list of registered verifiers.

The registry file is the compact JWS (one line). ``init`` makes a new
registrar key (a private JWK, mode 0600) and prints the registrar's public
JWK: that is what a wallet trusts (``regie wallet trust add-registry``).
``add`` re-signs the file with the next version; ``show`` prints it, checking
the signature when the registrar's key is given.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from regie_protocol import vocab
from regie_protocol.errors import Misuse
from regie_protocol.keys import (
    Alg,
    PublicKey,
    SigningKey,
    Unprotected,
    parse_jwk_text,
    public_key_from_jwk,
)
from regie_protocol.private_files import check_private_file, write_private_file
from regie_protocol.registry import (
    DEFAULT_LIFETIME,
    RegisteredVerifier,
    Registry,
    parse_registry,
    verify_registry,
)

from .console import handle_errors, out, print_json, read_text_arg

app = typer.Typer(
    help="A registrar's signed list of verifiers: who they are, their keys, "
    "and what they may ask for and why.",
    no_args_is_help=True,
)

DEFAULT_REGISTRAR = "https://registrar.regie.example"

RegistryArg = Annotated[Path, typer.Argument(help="The registry file (a signed JWT).")]
KeyOpt = Annotated[Path, typer.Option("--key", help="The registrar's private JWK file.")]


def default_key_path(registry_file: Path) -> Path:
    """Where ``init`` puts the registrar key unless told: ``<name>.registrar.jwk`` beside it."""
    return registry_file.with_name(registry_file.stem + ".registrar.jwk")


def load_registrar_key(path: Path) -> SigningKey:
    if not path.is_file():
        raise Misuse(f"key file {path} does not exist")
    check_private_file(path)
    return SigningKey.from_private_jwk(parse_jwk_text(read_text_arg(path, what="key file")))


def write_registry(path: Path, token: str) -> None:
    """Replace ``path`` atomically with the registry (a public file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(token + "\n", encoding="ascii")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _read_registry(path: Path) -> str:
    return read_text_arg(path, what="registry file", max_bytes=2 << 20).strip()


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _purpose_iri(value: str) -> str:
    """``ServiceProvision`` is short for ``https://w3id.org/dpv#ServiceProvision``."""
    return value if ":" in value else vocab.DPV + value


def _legal_basis_iri(value: str) -> str:
    """``A6-1-e`` or ``Consent`` is short for the GDPR / DPV legal basis IRI (as elsewhere)."""
    if ":" not in value:
        for namespace in (vocab.DPV, vocab.GDPR):
            if vocab.is_legal_basis(namespace + value):
                return namespace + value
    return value


def _jwk_file(path: Path, *, what: str) -> dict[str, Any]:
    return parse_jwk_text(read_text_arg(path, what=what))


@app.command()
@handle_errors
def init(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the registry.")],
    registrar_id: Annotated[
        str, typer.Option("--registrar-id", help="The registrar's https:// identifier.")
    ] = DEFAULT_REGISTRAR,
    key_out: Annotated[
        Path | None,
        typer.Option(
            "--key-out", help="Where to write the new registrar key (default: beside --out)."
        ),
    ] = None,
    alg: Annotated[str, typer.Option(help="Signature algorithm: EdDSA or ES256.")] = "EdDSA",
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Start an empty registry with a new registrar key; prints the registrar's public JWK."""
    if alg not in (Alg.EDDSA.value, Alg.ES256.value):
        raise Misuse(f"--alg is EdDSA or ES256, not {alg!r}")
    key_file = key_out or default_key_path(out_file)
    for path in (out_file, key_file):
        if path.exists() and not force:
            raise Misuse(f"{path} exists; pass --force to overwrite it")
    key = SigningKey.generate(Alg(alg))
    token = Registry.new(registrar_id, now=int(time.time())).sign(key)
    write_private_file(key_file, key.export_private_jwk(protection=Unprotected()) + "\n")
    write_registry(out_file, token)
    print_json(key.public_key.to_jwk())


@app.command()
@handle_errors
def add(
    registry_file: RegistryArg,
    key: KeyOpt,
    verifier: Annotated[str, typer.Option("--verifier", help="The verifier's https:// id.")],
    name: Annotated[str, typer.Option(help="The verifier's name, as citizens will see it.")],
    jwk: Annotated[
        list[Path], typer.Option("--jwk", help="A public signing JWK file (repeatable).")
    ],
    attributes: Annotated[str, typer.Option(help="Comma-separated attribute ids it may ask for.")],
    purposes: Annotated[
        str,
        typer.Option(help="Comma-separated DPV purpose IRIs (or short names: ServiceProvision)."),
    ],
    enc_jwk: Annotated[
        list[Path] | None,
        typer.Option("--enc-jwk", help="A public X25519 encryption JWK file (repeatable)."),
    ] = None,
    legal_bases: Annotated[
        str | None,
        typer.Option(help="Comma-separated DPV / GDPR legal basis IRIs (or short: A6-1-e)."),
    ] = None,
    lifetime_days: Annotated[
        int, typer.Option(help="Days until the re-signed registry expires.")
    ] = DEFAULT_LIFETIME // 86400,
) -> None:
    """Register a verifier (or replace its registration) and re-sign the registry."""
    registrar_key = load_registrar_key(key)
    now = int(time.time())
    registry = verify_registry(
        _read_registry(registry_file),
        registrar_keys=registrar_key.public_key,
        now=now,
        min_version=None,
    )
    entry = RegisteredVerifier.from_json(
        {
            "id": verifier,
            "name": name,
            "signing_keys": [_jwk_file(path, what="verifier key") for path in jwk],
            "encryption_keys": [_jwk_file(path, what="encryption key") for path in (enc_jwk or [])],
            "attributes": _split(attributes),
            "purposes": [_purpose_iri(p) for p in _split(purposes)],
            "legal_bases": [_legal_basis_iri(b) for b in _split(legal_bases or "")],
        }
    )
    replaced = entry.id in registry.verifiers
    updated = registry.with_verifier(entry, now=now, lifetime=lifetime_days * 86400)
    write_registry(registry_file, updated.sign(registrar_key))
    word = "Updated" if replaced else "Registered"
    out.print(
        f"{word} {entry.id} ({entry.name}); the registry is now version {updated.version}.",
        markup=False,
        highlight=False,
    )


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(iri: str) -> str:
    return iri.removeprefix(vocab.DPV)


@app.command()
@handle_errors
def show(
    registry_file: RegistryArg,
    registrar_jwk: Annotated[
        Path | None,
        typer.Option(help="The registrar's public JWK: check the signature with it."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the registry. Without --registrar-jwk the signature is NOT checked (said so)."""
    token = _read_registry(registry_file)
    registrar: PublicKey | None = None
    if registrar_jwk is not None:
        registrar = public_key_from_jwk(_jwk_file(registrar_jwk, what="registrar key"))
        registry = verify_registry(
            token, registrar_keys=registrar, now=int(time.time()), min_version=None
        )
    else:
        registry = parse_registry(token).unverified_registry
    verified = registrar is not None
    if json_out:
        print_json({"verified": verified, **registry.to_json()})
        return
    from rich.table import Table
    from rich.text import Text

    state = (
        "signature checked"
        if verified
        else "signature NOT checked: pass --registrar-jwk to check it"
    )
    # names come from the file: Text(), so that "[...]" in them is not Rich markup
    table = Table(
        title=Text(f"Registry of {registry.registrar}, version {registry.version}"),
        caption=Text(f"issued {_date(registry.iat)}, expires {_date(registry.exp)}; {state}"),
    )
    for column in ("verifier", "name", "attributes", "purposes", "keys"):
        table.add_column(column, overflow="fold")
    for entry in registry.verifiers.values():
        keys = [k.thumbprint()[:12] + "…" for k in entry.signing_keys]
        keys += [k.thumbprint()[:12] + "… (enc)" for k in entry.encryption_keys]
        table.add_row(
            Text(entry.id),
            Text(entry.name),
            Text(", ".join(sorted(entry.attributes))),
            Text(", ".join(_short(p) for p in sorted(entry.purposes))),
            Text("\n".join(keys)),
        )
    out.print(table)
