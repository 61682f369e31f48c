"""Splitting an SD-JWT or SD-JWT+KB (compact, RFC 9901 §4) and decoding it, unverified.

``<issuer JWT>~<Disclosure 1>~...~<Disclosure N>~[<KB-JWT>]``: the last ``~``
separates the SD-JWT (the ``sd_hash`` input) from the optional KB-JWT. Sizes and
counts are checked before anything is decoded; every part goes through the
strict base64url/JSON decoders. Nothing here checks a signature or a digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import jws
from ..errors import Code, MalformedInput
from ..limits import DEFAULT_LIMITS, Limits
from ._disclosures import Disclosure, decode_disclosure


@dataclass(frozen=True, slots=True)
class UnverifiedSdJwt:
    """An SD-JWT split and decoded. NOTHING is verified: use it only to pick keys.

    A wallet may read :attr:`unverified_issuer` to find the issuer's metadata
    before it calls :func:`verify`; nothing else here may be trusted.
    """

    #: the issuer-signed JWT, compact
    issuer_jwt: str
    issuer_jws: jws.UnverifiedJWS
    disclosures: tuple[Disclosure, ...]
    #: the KB-JWT after the last ``~``, or None when the token ends with ``~``
    key_binding_jwt: str | None
    #: ``<issuer JWT>~<Disclosure>~...~``: the input of ``sd_hash``
    sd_jwt: str

    @property
    def header(self) -> Mapping[str, Any]:
        return self.issuer_jws.header

    @property
    def unverified_claims(self) -> Mapping[str, Any]:
        return self.issuer_jws.unverified_claims

    @property
    def unverified_issuer(self) -> str | None:
        iss = self.issuer_jws.unverified_claims.get("iss")
        return iss if isinstance(iss, str) else None


def parse(token: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> UnverifiedSdJwt:
    """Split and decode an SD-JWT or SD-JWT+KB strictly. The result is unverified."""
    if isinstance(token, bytes):
        if len(token) > limits.max_sd_jwt_bytes:
            raise _too_large(len(token), limits)
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInput("an SD-JWT is ASCII") from None
    elif not isinstance(token, str):
        raise MalformedInput("an SD-JWT is a string")
    if len(token) > limits.max_sd_jwt_bytes:
        raise _too_large(len(token), limits)
    if not token.isascii():
        raise MalformedInput("an SD-JWT is ASCII")
    last = token.rfind("~")
    if last < 0:
        raise MalformedInput("an SD-JWT has at least one '~' after the issuer-signed JWT")
    first = token.find("~")
    count = token.count("~", first, last)  # the '~' between first and last: one per disclosure
    if count > limits.max_disclosures:
        raise MalformedInput(
            f"the SD-JWT has {count} disclosures; at most {limits.max_disclosures} are accepted",
            code=Code.SIZE_EXCEEDED,
        )
    issuer_jwt = token[:first]
    issuer_jws = jws.parse(issuer_jwt, max_bytes=limits.max_sd_jwt_bytes, limits=limits)
    max_depth = limits.max_json_depth + 1  # the disclosure's own array
    disclosures = (
        tuple(
            [
                decode_disclosure(part, max_depth=max_depth)
                for part in token[first + 1 : last].split("~")
            ]
        )
        if count
        else ()
    )
    return UnverifiedSdJwt(
        issuer_jwt=issuer_jwt,
        issuer_jws=issuer_jws,
        disclosures=disclosures,
        key_binding_jwt=token[last + 1 :] or None,
        sd_jwt=token[: last + 1],
    )


def _too_large(size: int, limits: Limits) -> MalformedInput:
    return MalformedInput(
        f"the SD-JWT has {size} bytes; at most {limits.max_sd_jwt_bytes} are accepted",
        code=Code.SIZE_EXCEEDED,
    )


__all__ = ["UnverifiedSdJwt", "parse"]
