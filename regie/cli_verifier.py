"""``regie verifier ...``: a service that asks citizens for consent and reads under it.

The verifier's home (``--home``, ``$REGIE_VERIFIER_HOME``, else
``<REGIE_HOME>/verifier``) holds ``identity.json`` (its keys, 0600, from
``keygen``), ``trust.json`` (the wallet hosts and issuers it trusts, from
``trust host`` / ``trust issuer``) and its SQLite store (requests, collected
consents, kept data). This module is the Typer app with ``keygen``,
``register`` and ``serve``; asking and reading are in
:mod:`regie.cli_verifier_read`, trust in :mod:`regie.cli_verifier_trust`, and
``regie verify`` (one token) in :mod:`regie.cli_verify`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from regie_protocol.errors import Misuse
from regie_protocol.keys import Alg
from verifier.identity import VerifierIdentity, save_identity
from verifier.settings import VerifierSettings
from wallet.consent_terms import legal_basis_iri, purpose_iri, split_attributes

from . import cli_verifier_read
from .cli_verifier_io import HomeOpt, JsonOpt, settings_for
from .cli_verifier_trust import app as trust_app
from .console import err, handle_errors, out, print_json

app = typer.Typer(
    help="A verifier (a service): ask citizens for consent, read under it, purge what ended.",
    no_args_is_help=True,
)
app.add_typer(trust_app, name="trust")


@app.command()
@handle_errors
def keygen(
    verifier_id: Annotated[str, typer.Option("--id", help="Your https:// verifier id.")],
    name: Annotated[str, typer.Option(help="Your name as citizens will see it.")],
    alg: Annotated[str, typer.Option(help="Signing algorithm: EdDSA or ES256.")] = "EdDSA",
    force: Annotated[bool, typer.Option(help="Replace an existing identity (keys lost).")] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make the verifier's identity: a signing key and an X25519 encryption key (0600)."""
    if alg not in (Alg.EDDSA.value, Alg.ES256.value):
        raise Misuse(f"--alg is EdDSA or ES256, not {alg!r}")
    settings = settings_for(home)
    identity = VerifierIdentity.generate(verifier_id, name, alg=Alg(alg))
    save_identity(identity, settings.identity_file, overwrite=force)
    if json_out:
        print_json({"id": identity.id, "jkt": identity.jkt, **identity.public_jwks()})
        return
    out.print(
        f"Identity of {identity.id} written to {settings.identity_file} (key {identity.jkt}).\n"
        "Next: 'regie verifier register' for what a registrar needs.",
        markup=False,
        highlight=False,
    )


@app.command()
@handle_errors
def register(
    attributes: Annotated[str, typer.Option(help="Comma-separated attributes you will ask for.")],
    purposes: Annotated[str, typer.Option(help="Comma-separated DPV purposes (short names ok).")],
    legal_bases: Annotated[
        str | None, typer.Option(help="Comma-separated legal bases (A6-1-e, Consent, ...).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write signing.jwk, encryption.jwk, registration.json here."),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Print the registration a registrar signs (and with --out the public JWK files)."""
    from regie_protocol.registry import RegisteredVerifier

    from .cli_verifier_io import write_public_json

    settings = settings_for(home)
    identity = _identity(settings)
    registration = identity.registration(
        attributes=split_attributes(attributes),
        purposes=[purpose_iri(p.strip()) for p in purposes.split(",") if p.strip()],
        legal_bases=[legal_basis_iri(b.strip()) for b in (legal_bases or "").split(",") if b],
    )
    RegisteredVerifier.from_json(registration)  # refuse now what a registrar would refuse
    if out_dir is not None:
        signing, encryption = out_dir / "signing.jwk", out_dir / "encryption.jwk"
        write_public_json(signing, identity.signing_key.public_key.to_jwk())
        write_public_json(encryption, identity.encryption_key.public_key.to_jwk())
        write_public_json(out_dir / "registration.json", registration)
        bases = registration.get("legal_bases") or []
        err.print(
            f"regie registry add REGISTRY --key REGISTRAR_KEY --verifier {identity.id} "
            f"--name '{identity.name}' --jwk {signing} --enc-jwk {encryption} "
            f"--attributes {','.join(registration['attributes'])} "
            f"--purposes {','.join(registration['purposes'])}"
            + (f" --legal-bases {','.join(bases)}" if bases else ""),
            markup=False,
            highlight=False,
        )
    print_json(registration)


def _identity(settings: VerifierSettings) -> VerifierIdentity:
    from verifier.identity import load_identity

    return load_identity(settings.identity_file)


@app.command()
@handle_errors
def serve(
    port: Annotated[int, typer.Option(help="The port on 127.0.0.1.", min=1, max=65535)] = 8003,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    home: HomeOpt = None,
) -> None:
    """Run the example service: a municipality's parking-permit desk (needs the address only)."""
    import uvicorn

    from verifier.example_service import create_app

    # the public URL: $REGIE_VERIFIER_URL, else where it listens (http to this machine only)
    listening = None if os.environ.get("REGIE_VERIFIER_URL") else f"http://{host}:{port}"
    settings = VerifierSettings.from_env(home=home, base_url=listening)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


cli_verifier_read.add_commands(app)

__all__ = ["app"]
