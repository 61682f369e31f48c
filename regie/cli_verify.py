"""``regie verify``: check one consent token as a verifier would, and say why it is refused.

The check is offline except for the consent's status list, which must be
fetched from a trusted wallet host (``trust.json`` in the verifier's home):
when it cannot be, the token is refused (fail closed). The holder's public key
comes from ``--holder-jwk`` or from the verifier's store (a collected consent).
Exit 0 valid, 1 refused (the reason on one line).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from regie_protocol.consent import parse_consent
from regie_protocol.errors import Misuse, RegieError
from regie_protocol.keys import PublicKey, parse_jwk_text, public_key_from_jwk
from verifier.fetch import AllowListFetcher
from verifier.policy import ConsentPolicy
from verifier.status_cache import StatusListCache
from verifier.store import VerifierStore
from verifier.trust import load_trust
from verifier.verify import VerifiedConsentToken, verify_consent_token
from wallet.consent_terms import purpose_iri, split_attributes

from . import cli_verifier_io as io
from .cli_verifier_io import HomeOpt, JsonOpt, date_text, settings_for
from .console import EXIT_REFUSED, fail, handle_errors, out, print_json, read_text_arg


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
        f"{', '.join(summary['attributes'])}; until {date_text(summary['expiresAt'])}",
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
    parse_consent(text)  # a malformed token is refused (exit 1) before any lookup
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
            clock=lambda: io.now(),
            leeway=settings.leeway,
        )
        cache = StatusListCache(
            fetch=AllowListFetcher(policy.trusted_bases(), http=http),
            keys_for=policy.status_list_keys,
            clock=lambda: io.now(),
        )
        return verify_consent_token(text, policy, status=cache)
    finally:
        http.close()
        if store is not None:
            store.close()


__all__ = ["verify"]
