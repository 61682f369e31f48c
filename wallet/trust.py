"""The issuers a citizen trusts, with their public keys (the ``trusted_issuer`` table).

Only credentials signed by a trusted issuer's key are received. Keys come
from a JWKS file the citizen got out of band, or from the issuer's JWT VC
issuer metadata (SD-JWT VC §5: ``/.well-known/jwt-vc-issuer`` inserted between
the host and the path of the issuer identifier) fetched through a
:class:`~wallet.fetch.Fetcher`; the metadata's ``issuer`` must be the
identifier the citizen named. Every key is imported with
``public_key_from_jwk(registering=True)`` (weak and private keys refused).

Issuer identifiers and keys are public, so they are stored in clear.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, delete, insert, select
from sqlmodel import col

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import ClaimRefused, Code, KeyRefused, MalformedInput, Misuse
from regie_protocol.keys import PublicKey, public_key_from_jwk

from .core import UnlockedWallet
from .fetch import Fetcher
from .storage import TrustedIssuer

WELL_KNOWN = "/.well-known/jwt-vc-issuer"
MAX_METADATA_BYTES = 64 * 1024
MAX_KEYS = 16
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class TrustedIssuerInfo:
    """A trusted issuer as shown to the citizen."""

    issuer_id: str
    kids: tuple[str, ...]
    added_at: int

    def to_json(self) -> dict[str, Any]:
        return {"issuer": self.issuer_id, "kids": list(self.kids), "added_at": self.added_at}


def check_issuer_id(issuer_id: str, *, allow_local_http: bool) -> str:
    """An issuer is an ``https://`` URL without query, fragment or trailing slash."""
    try:
        parts = urlsplit(issuer_id)
    except ValueError:
        raise Misuse(f"{issuer_id!r} is not a URL") from None
    local = parts.hostname in _LOCAL_HOSTS
    secure = parts.scheme == "https" and bool(parts.hostname)
    if not (secure or (parts.scheme == "http" and local and allow_local_http)):
        raise Misuse(f"an issuer identifier is an https:// URL, not {issuer_id!r}")
    if parts.query or parts.fragment or issuer_id.endswith("/") or parts.username:
        raise Misuse("an issuer identifier has no query, fragment, user or trailing slash")
    return issuer_id


def metadata_url(url: str) -> str:
    """The metadata URL for an issuer URL (a URL naming ``/.well-known/`` is used as given)."""
    parts = urlsplit(url)
    if parts.path.startswith("/.well-known/"):
        return url
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + parts.path.rstrip("/"), "", ""))


def parse_jwks(jwks: Any) -> dict[str, PublicKey]:
    """``{"keys": [...]}`` into ``kid -> key`` (the JWK's ``kid``, else its thumbprint)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise KeyRefused("a JWKS is a JSON object with a non-empty 'keys' array")
    if len(keys) > MAX_KEYS:
        raise KeyRefused(f"a JWKS here has at most {MAX_KEYS} keys")
    result: dict[str, PublicKey] = {}
    for jwk in keys:
        key = public_key_from_jwk(jwk, registering=True)
        kid = jwk.get("kid", key.thumbprint())
        if not isinstance(kid, str) or not kid or len(kid) > 256:
            raise KeyRefused("a JWK's 'kid' is a non-empty string")
        if kid in result:
            raise KeyRefused(f"the JWKS names kid {kid!r} twice")
        result[kid] = key
    return result


def _jwks_json(keys: Mapping[str, PublicKey]) -> str:
    listed = [{**key.required_members(), "kid": kid} for kid, key in keys.items()]
    return json.dumps({"keys": listed}, separators=(",", ":"), sort_keys=True)


def add_issuer(
    wallet: UnlockedWallet,
    issuer_id: str,
    jwks: Any,
    *,
    now: int,
    allow_local_http: bool = False,
) -> tuple[TrustedIssuerInfo, bool]:
    """Trust ``issuer_id`` with the keys in ``jwks``; ``(info, replaced an earlier entry)``."""
    check_issuer_id(issuer_id, allow_local_http=allow_local_http)
    keys = parse_jwks(jwks)
    text = _jwks_json(keys)
    owner = wallet.owner

    def work(conn: Connection) -> bool:
        gone = conn.execute(
            delete(TrustedIssuer).where(
                col(TrustedIssuer.owner) == owner, col(TrustedIssuer.issuer_id) == issuer_id
            )
        ).rowcount
        conn.execute(
            insert(TrustedIssuer).values(owner=owner, issuer_id=issuer_id, jwks=text, added_at=now)
        )
        return bool(gone)

    replaced = wallet.db.run(work)
    return TrustedIssuerInfo(issuer_id, tuple(keys), now), replaced


def fetch_issuer_jwks(
    issuer_id: str, url: str, *, fetcher: Fetcher, allow_local_http: bool = False
) -> Any:
    """Fetch the issuer's metadata from ``url`` and return its JWKS (inline or ``jwks_uri``)."""
    check_issuer_id(issuer_id, allow_local_http=allow_local_http)
    where = metadata_url(url)
    body = fetcher.get(where, accept="application/json", max_bytes=MAX_METADATA_BYTES)
    metadata = loads_strict(body, max_depth=8, what="issuer metadata")
    if not isinstance(metadata, dict):
        raise MalformedInput(f"the issuer metadata at {where} is not a JSON object")
    if metadata.get("issuer") != issuer_id:
        raise ClaimRefused(
            f"the metadata at {where} is for {metadata.get('issuer')!r}, not {issuer_id!r}",
            code=Code.CLAIM_INVALID,
        )
    if "jwks" in metadata:
        return metadata["jwks"]
    uri = metadata.get("jwks_uri")
    if not isinstance(uri, str):
        raise ClaimRefused(
            f"the metadata at {where} has neither 'jwks' nor 'jwks_uri'", code=Code.CLAIM_MISSING
        )
    raw = fetcher.get(uri, accept="application/jwk-set+json", max_bytes=MAX_METADATA_BYTES)
    return loads_strict(raw, max_depth=8, what="issuer JWKS")


def trusted_issuers(wallet: UnlockedWallet) -> list[TrustedIssuerInfo]:
    rows = wallet.db.fetch_all(
        select(TrustedIssuer)
        .where(col(TrustedIssuer.owner) == wallet.owner)
        .order_by(col(TrustedIssuer.issuer_id))
    )
    return [
        TrustedIssuerInfo(
            str(row["issuer_id"]), tuple(_stored_keys(row["jwks"])), int(row["added_at"])
        )
        for row in rows
    ]


def issuer_keys(wallet: UnlockedWallet) -> dict[str, dict[str, PublicKey]]:
    """``iss -> {kid: key}`` for every trusted issuer (the ``issuer_keys`` of sdjwt.verify)."""
    rows = wallet.db.fetch_all(
        select(TrustedIssuer).where(col(TrustedIssuer.owner) == wallet.owner)
    )
    return {str(row["issuer_id"]): _stored_keys(row["jwks"]) for row in rows}


def _stored_keys(text: str) -> dict[str, PublicKey]:
    return parse_jwks(loads_strict(text.encode("utf-8"), max_depth=8, what="stored JWKS"))


__all__ = [
    "WELL_KNOWN",
    "TrustedIssuerInfo",
    "add_issuer",
    "check_issuer_id",
    "fetch_issuer_jwks",
    "issuer_keys",
    "metadata_url",
    "parse_jwks",
    "trusted_issuers",
]
