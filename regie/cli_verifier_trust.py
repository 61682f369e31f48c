"""``regie verifier trust ...``: which wallet hosts and issuers this verifier believes.

Keys come from a JWKS file obtained out of band (``--jwks``), or are fetched
from the party itself: a wallet host's ``/v1/keys``, an issuer's JWT VC issuer
metadata (``/.well-known/jwt-vc-issuer``, whose ``issuer`` must be the id
given). A fetch is trust on first use: the thumbprints are printed so they can
be compared with what the party publishes elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import typer

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import Code, MalformedInput, Misuse, Refused, Unavailable
from verifier.settings import VerifierSettings
from verifier.trust import check_base_url, load_trust, parse_jwks, save_trust

from . import cli_verifier_io as io
from .console import handle_errors, out, print_json, read_text_arg

app = typer.Typer(help="The wallet hosts and issuers this verifier trusts.", no_args_is_help=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="The verifier's directory (default: $REGIE_VERIFIER_HOME)."),
]
JwksOpt = Annotated[
    Path | None, typer.Option("--jwks", help="A JWKS file with the keys (else fetched).")
]
MAX_KEYS_BYTES = 64 * 1024
JWT_VC_ISSUER = "/.well-known/jwt-vc-issuer"


def _get_json(url: str) -> Any:
    with io.make_http() as http:
        try:
            response = http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot fetch {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise Unavailable(f"{url} answered HTTP {response.status_code}")
    if len(response.content) > MAX_KEYS_BYTES:
        raise Refused(f"the answer from {url} is too large", code=Code.SIZE_EXCEEDED)
    return loads_strict(response.content, max_depth=8, what=f"the answer from {url}")


def _jwks_file(path: Path) -> Any:
    return loads_strict(
        read_text_arg(path, what="JWKS file", max_bytes=MAX_KEYS_BYTES).encode(),
        max_depth=8,
        what="JWKS file",
    )


def _say(party: str, url: str, keys: dict[str, Any], fetched: bool) -> None:
    how = "fetched from it (trust on first use: compare them)" if fetched else "from the file"
    out.print(f"Trusted {party} {url}; keys {how}:", markup=False, highlight=False)
    for kid, key in keys.items():
        out.print(f"  {kid}  ({key.thumbprint()})", markup=False, highlight=False)


@app.command()
@handle_errors
def host(
    url: Annotated[str, typer.Argument(help="The wallet host's base URL.")],
    jwks: JwksOpt = None,
    home: HomeOpt = None,
) -> None:
    """Trust a wallet host: the keys that sign its consent status lists."""
    check_base_url(url, what="the wallet host URL")
    document = _jwks_file(jwks) if jwks else _get_json(url + "/v1/keys")
    keys = parse_jwks(document, what=url)
    settings = VerifierSettings.from_env(home=home)
    save_trust(load_trust(settings.trust_file).with_host(url, keys), settings.trust_file)
    _say("wallet host", url, keys, jwks is None)


@app.command()
@handle_errors
def issuer(
    issuer_id: Annotated[str, typer.Argument(help="The issuer's identifier (its https URL).")],
    jwks: JwksOpt = None,
    home: HomeOpt = None,
) -> None:
    """Trust an issuer: the keys that sign its credentials and their status lists."""
    check_base_url(issuer_id, what="the issuer id")
    if jwks is not None:
        document = _jwks_file(jwks)
    else:
        parts = urlsplit(issuer_id)
        url = urlunsplit((parts.scheme, parts.netloc, JWT_VC_ISSUER + parts.path, "", ""))
        metadata = _get_json(url)
        if not isinstance(metadata, dict) or metadata.get("issuer") != issuer_id:
            raise MalformedInput(f"the metadata at {url} is not that of {issuer_id}")
        document = metadata.get("jwks")
        if document is None:
            raise Misuse(f"{url} names no keys inline (jwks): pass --jwks")
    keys = parse_jwks(document, what=issuer_id)
    settings = VerifierSettings.from_env(home=home)
    save_trust(load_trust(settings.trust_file).with_issuer(issuer_id, keys), settings.trust_file)
    _say("issuer", issuer_id, keys, jwks is None)


@app.command()
@handle_errors
def show(
    home: HomeOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the trusted wallet hosts and issuers with their key ids."""
    trust = load_trust(VerifierSettings.from_env(home=home).trust_file)
    if json_out:
        print_json(trust.to_json())
        return
    for party, entries in (("wallet host", trust.wallet_hosts), ("issuer", trust.issuers)):
        for url, keys in entries.items():
            out.print(f"{party}: {url}  keys {', '.join(keys)}", markup=False, highlight=False)


__all__ = ["app"]
