"""What a verifier trusts: wallet hosts and issuers by URL, each with its public keys.

* a **wallet host** signs the status lists of the consents it hands out; a
  consent whose status list is not served by a trusted host is refused;
* an **issuer** signs credentials (and their status lists); a presentation by
  an issuer not listed is refused.

Keys are JWKS (``{"keys": [...]}``), each imported with
``public_key_from_jwk(registering=True)`` (weak and private keys refused) and
found by its ``kid`` (its RFC 7638 thumbprint when it names none).

The trust file (JSON, public, one per verifier home)::

    {"version": 1, "walletHosts": {"<url>": {"keys": [...]}}, "issuers": {"<id>": {"keys": [...]}}}

URLs are ``https://`` (``http://`` only to this machine: 127.0.0.1, ::1,
localhost), without query, fragment, user or trailing slash.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import KeyRefused, MalformedInput, Misuse
from regie_protocol.keys import PublicKey, public_key_from_jwk

TRUST_VERSION = 1
MAX_KEYS = 16
MAX_TRUST_BYTES = 1 << 20
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

#: ``kid -> key`` of one trusted party
KeySet = Mapping[str, PublicKey]


def check_base_url(url: str, *, what: str) -> str:
    """A base URL: https (http only to this machine), no query, fragment, user, trailing slash."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Misuse(f"{what} {url!r} is not a URL") from None
    local = parts.hostname in LOCAL_HOSTS
    if not (parts.scheme == "https" or (parts.scheme == "http" and local)) or not parts.hostname:
        raise Misuse(f"{what} is an https:// URL (http:// only to 127.0.0.1), not {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password or url.endswith("/"):
        raise Misuse(f"{what} {url!r} has no query, fragment, user or trailing slash")
    if url != url.strip() or any(seg in (".", "..") for seg in parts.path.split("/")):
        raise Misuse(f"{what} {url!r} is not in its plain form")
    return url


def parse_jwks(jwks: Any, *, what: str) -> dict[str, PublicKey]:
    """``{"keys": [...]}`` into ``kid -> key`` (the JWK's ``kid``, else its thumbprint)."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
        raise KeyRefused(f"the keys of {what} are a JWKS with 1 to {MAX_KEYS} keys")
    out: dict[str, PublicKey] = {}
    for jwk in keys:
        if not isinstance(jwk, dict):
            raise KeyRefused(f"a key of {what} is not a JSON object")
        if jwk.get("use") == "enc" or (jwk.get("kty") == "OKP" and jwk.get("crv") == "X25519"):
            continue  # an encryption key: it signs nothing
        key = public_key_from_jwk(jwk, registering=True)
        kid = jwk.get("kid", key.thumbprint())
        if not isinstance(kid, str) or not kid or kid in out:
            raise KeyRefused(f"a key of {what} has no usable kid, or one kid twice")
        out[kid] = key
    if not out:
        raise KeyRefused(f"{what} names no signing key")
    return out


def _jwks_of(keys: KeySet) -> dict[str, Any]:
    return {"keys": [{**key.to_jwk(), "kid": kid} for kid, key in keys.items()]}


def _frozen(value: Mapping[str, KeySet]) -> Mapping[str, KeySet]:
    return MappingProxyType({url: MappingProxyType(dict(keys)) for url, keys in value.items()})


@dataclass(frozen=True, slots=True)
class Trust:
    """Trusted wallet hosts and issuers (immutable; ``with_*`` give a changed copy)."""

    wallet_hosts: Mapping[str, KeySet] = field(default_factory=dict)
    issuers: Mapping[str, KeySet] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for url in self.wallet_hosts:
            check_base_url(url, what="a wallet host")
        for url in self.issuers:
            check_base_url(url, what="an issuer")
        object.__setattr__(self, "wallet_hosts", _frozen(self.wallet_hosts))
        object.__setattr__(self, "issuers", _frozen(self.issuers))

    def with_host(self, url: str, keys: KeySet) -> Trust:
        return Trust({**self.wallet_hosts, url: keys}, self.issuers)

    def with_issuer(self, issuer: str, keys: KeySet) -> Trust:
        return Trust(self.wallet_hosts, {**self.issuers, issuer: keys})

    def to_json(self) -> dict[str, Any]:
        return {
            "version": TRUST_VERSION,
            "walletHosts": {url: _jwks_of(keys) for url, keys in self.wallet_hosts.items()},
            "issuers": {url: _jwks_of(keys) for url, keys in self.issuers.items()},
        }

    @classmethod
    def from_json(cls, value: Any) -> Trust:
        members = {"version", "walletHosts", "issuers"}
        if not isinstance(value, dict) or value.keys() != members:
            raise MalformedInput(f"a trust file is a JSON object with exactly {sorted(members)}")
        if value["version"] != TRUST_VERSION or type(value["version"]) is not int:
            raise MalformedInput(f"this Regie reads trust file version {TRUST_VERSION}")
        parts: list[dict[str, KeySet]] = []
        for name in ("walletHosts", "issuers"):
            entries = value[name]
            if not isinstance(entries, dict):
                raise MalformedInput(f"{name} is a JSON object: url -> JWKS")
            parts.append({url: parse_jwks(jwks, what=url) for url, jwks in entries.items()})
        return cls(parts[0], parts[1])


def load_trust(path: Path) -> Trust:
    """The trust file at ``path`` (an empty trust when there is none yet)."""
    if not path.exists():
        return Trust()
    data = path.read_bytes()
    if len(data) > MAX_TRUST_BYTES:
        raise MalformedInput(f"{path} is larger than {MAX_TRUST_BYTES} bytes")
    return Trust.from_json(loads_strict(data, max_depth=8, what="trust file"))


def save_trust(trust: Trust, path: Path) -> None:
    """Replace the trust file atomically (a public file: keys and URLs only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(trust.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


__all__ = [
    "LOCAL_HOSTS",
    "TRUST_VERSION",
    "KeySet",
    "Trust",
    "check_base_url",
    "load_trust",
    "parse_jwks",
    "save_trust",
]
