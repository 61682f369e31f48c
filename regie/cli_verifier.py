"""``regie verify`` and ``regie verifier ...``: a service that checks consents and reads data.

The verifier's home (``--home``, ``$REGIE_VERIFIER_HOME``, else
``<REGIE_HOME>/verifier``) holds ``identity.json`` (its keys, 0600, from
``keygen``), ``trust.json`` (the wallet hosts and issuers it trusts, from
``trust host`` / ``trust issuer``) and its SQLite store (requests, collected
consents, kept data). ``regie verify`` checks one token offline except for the
status list, which it must be able to fetch: when it cannot, the token is
refused (fail closed).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from regie_protocol.consent_request import REQUEST_MAX_LIFETIME as REQUEST_LIFETIME
from regie_protocol.consent_request import ConsentRequestClaims
from regie_protocol.errors import Misuse, RegieError, Unavailable
from regie_protocol.keys import Alg, PublicKey, parse_jwk_text, public_key_from_jwk
from verifier.context import VerifierContext
from verifier.fetch import AllowListFetcher
from verifier.identity import VerifierIdentity, save_identity
from verifier.policy import ConsentPolicy
from verifier.purge import purge as run_purge
from verifier.settings import VerifierSettings
from verifier.status_cache import StatusListCache
from verifier.store import VerifierStore
from verifier.trust import load_trust
from verifier.verify import VerifiedConsentToken, verify_consent_token
from wallet.consent_terms import (
    legal_basis_iri,
    purpose_iri,
    retention_iso,
    split_attributes,
    validity_seconds,
)

from . import cli_verifier_io as io
from .cli_verifier_trust import app as trust_app
from .console import EXIT_REFUSED, err, fail, handle_errors, out, print_json, read_text_arg

app = typer.Typer(
    help="A verifier (a service): ask citizens for consent, read under it, purge what ended.",
    no_args_is_help=True,
)
app.add_typer(trust_app, name="trust")

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="The verifier's directory (default: $REGIE_VERIFIER_HOME)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def now() -> int:
    return io.now()


def settings_for(home: Path | None) -> VerifierSettings:
    return VerifierSettings.from_env(home=home)


def open_context(home: Path | None) -> VerifierContext:
    return VerifierContext.open(settings_for(home), clock=lambda: now(), http=io.make_http())


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _summary(consent: VerifiedConsentToken) -> dict[str, Any]:
    claims = consent.claims
    return {
        "valid": True,
        "consent": claims.jti,
        "audience": claims.aud,
        "holder": claims.iss,
        "host": consent.host,
        "attributes": sorted(consent.consented),
        "purposes": sorted({d.purpose for d in claims.authorization_details}),
        "expiresAt": claims.exp,
        "claims": claims.to_json(),
    }


# --- regie verify ---------------------------------------------------------------------------


@handle_errors
def verify(
    token: Annotated[str, typer.Argument(help="The consent token ('-' reads standard input).")],
    audience: Annotated[str, typer.Option(help="Your verifier id: the token's aud must be it.")],
    holder_jwk: Annotated[
        Path | None,
        typer.Option(help="The holder's public JWK (default: from the verifier's store)."),
    ] = None,
    attributes: Annotated[
        str | None, typer.Option(help="Comma-separated attributes that must be consented.")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="The DPV purpose they must be consented for.")
    ] = None,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a consent token: exit 0 valid, 1 refused (the reason on one line)."""
    try:
        verified = _verify(token, audience, holder_jwk, attributes, purpose, home)
    except (Misuse, typer.Exit):
        raise
    except RegieError as exc:
        if json_out:
            print_json({"valid": False, "code": exc.code.value, "reason": exc.message})
            raise typer.Exit(EXIT_REFUSED) from None
        raise fail(str(exc), code=EXIT_REFUSED) from None
    summary = _summary(verified)
    if json_out:
        print_json(summary)
        return
    out.print(
        f"valid: consent {summary['consent']} for {summary['audience']}; attributes "
        f"{', '.join(summary['attributes'])}; until {_date(summary['expiresAt'])}",
        markup=False,
        highlight=False,
    )


def _verify(
    token: str,
    audience: str,
    holder_jwk: Path | None,
    attributes: str | None,
    purpose: str | None,
    home: Path | None,
) -> VerifiedConsentToken:
    from_stdin = token == "-"  # noqa: S105 - '-' is the stdin marker, not a secret
    text = read_text_arg(Path("-"), what="token").strip() if from_stdin else token.strip()
    settings = settings_for(home)
    trust = load_trust(settings.trust_file)
    store: VerifierStore | None = None
    holder_keys: Callable[[str], PublicKey | None]
    if holder_jwk is not None:
        key = public_key_from_jwk(parse_jwk_text(read_text_arg(holder_jwk, what="holder key")))
        holder_keys = {key.thumbprint_uri(): key}.get
    elif settings.database_url or Path(settings.database).exists():
        store = VerifierStore.open(settings.database)
        holder_keys = store.holder_key
    else:
        raise Misuse("no holder key: pass --holder-jwk, or collect the consent first")
    http = io.make_http()
    try:
        policy = ConsentPolicy(
            audience=audience,
            attributes=frozenset(split_attributes(attributes)) if attributes else frozenset(),
            purpose=purpose_iri(purpose) if purpose else None,
            trusted_hosts=trust.wallet_hosts,
            trusted_issuers=trust.issuers,
            holder_keys=holder_keys,
            clock=lambda: now(),
            leeway=settings.leeway,
        )
        cache = StatusListCache(
            fetch=AllowListFetcher(policy.trusted_bases(), http=http),
            keys_for=policy.status_list_keys,
            clock=lambda: now(),
        )
        return verify_consent_token(text, policy, status=cache)
    finally:
        http.close()
        if store is not None:
            store.close()


# --- regie verifier keygen | register | serve -----------------------------------------------


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
        err.print(
            f"regie registry add REGISTRY --key REGISTRAR_KEY --verifier {identity.id} "
            f"--name '{identity.name}' --jwk {signing} --enc-jwk {encryption} "
            f"--attributes {','.join(registration['attributes'])} "
            f"--purposes {','.join(registration['purposes'])}",
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
    port: Annotated[int, typer.Option(help="The port on 127.0.0.1.")] = 8003,
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


# --- request | collect | read | purge | consents --------------------------------------------


@app.command()
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
    from .cli_verifier_io import collect_answer, new_request_id

    context = open_context(home)
    try:
        at = now()
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
        client = context.client(host)
        request_id = client.submit_request(claims)
        context.store.add_request(host, request_id, claims.jti, now=at)
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


@app.command()
@handle_errors
def collect(
    request_id: Annotated[str, typer.Argument(help="The host's request id.")],
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Collect the citizen's answer to a request into the store (once, no waiting)."""
    from .cli_verifier_io import collect_answer

    context = open_context(home)
    try:
        result = collect_answer(context, request_id, wait=0, sleep=io.pause)
    finally:
        context.close()
    if json_out:
        print_json(result)
    else:
        _say_answer(result)


@app.command()
@handle_errors
def read(
    consent_id: Annotated[str, typer.Argument(help="A collected consent's id.")],
    attributes: Annotated[
        str | None, typer.Option(help="Comma-separated attributes (default: all consented).")
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the values (if the consent allows).")] = False,
    home: HomeOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Read under a consent from the citizen's wallet host and print the released attributes."""
    context = open_context(home)
    try:
        stored = context.store.consent(consent_id)
        if stored is None:
            raise Misuse(f"no consent {consent_id!r} in this verifier's store")
        wanted = split_attributes(attributes) if attributes else None
        result = context.client(stored.host).read(stored.token, wanted, policy=context.policy())
        kept = None
        if keep and result.attributes:
            kept = context.store.keep(consent_id, result.attributes, now=now())
    finally:
        context.close()
    if json_out:
        print_json(
            {
                "consent": result.consent_id,
                "use": result.use,
                "attributes": dict(result.attributes),
                "missing": list(result.missing),
                "keptUntil": None if kept is None else kept.keep_until,
            }
        )
        return
    from .cli_verifier_io import print_attributes

    print_attributes(result, kept_until=None if kept is None else kept.keep_until)


@app.command()
@handle_errors
def purge(home: HomeOpt = None, json_out: JsonOpt = False) -> None:
    """Delete kept data whose consent was withdrawn, expired, or whose retention ran out."""
    context = open_context(home)
    try:
        report = run_purge(context.store, now=now(), status=context.status)
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
    if report.unchecked:
        raise Unavailable(
            f"the status of {len(report.unchecked)} consent(s) could not be checked "
            f"({', '.join(c for c, _ in report.unchecked)}); run purge again later"
        )


@app.command()
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
            f"{c.jti}  {c.state:9}  until {_date(c.exp)}  {c.host}", markup=False, highlight=False
        )


__all__ = ["app", "verify"]
