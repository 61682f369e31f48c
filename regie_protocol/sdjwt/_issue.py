"""Issuing an SD-JWT (VC): mark claims with :class:`SD`, get ``<jwt>~<disclosure>~...~``.

::

    issue({"iss": ..., "vct": ..., "cnf": cnf_for(holder.public_key),
           "given_name": SD("Jan"),
           "address": SD({"street": SD("Dorpsstraat 1"), "locality": "Utrecht"}),
           "nationalities": [SD("NL"), "DE"]}, issuer_key=key)

* Salts are 128 bits from the OS CSPRNG, one per Disclosure (RFC 9901 §9.3);
  ``salt=`` injects a source for reproducible tests, never for production.
* Each ``_sd`` array gets decoy digests (random 1..3 by default, §4.2.5) and is
  sorted, so neither the claims' order nor their number shows.
* Nested markers are processed inside out: a Disclosure's value already holds
  its children's digests (§4.2.6), and salts are drawn in that order, as the
  RFC's examples do.
* Refused as :class:`Misuse`: making a claim of :data:`NEVER_DISCLOSABLE`
  selectively disclosable, the names ``_sd``, ``...`` and ``_sd_alg``, a
  missing ``iss`` (or ``vct`` for ``dc+sd-jwt``), a private key in ``cnf``, and
  values that are not JSON.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import jws
from .._encoding import b64url_encode
from ..errors import Misuse
from ..keys import PublicKey, SigningKey
from ._disclosures import (
    ELLIPSIS,
    KB_JWT_TYP,
    NEVER_DISCLOSABLE,
    RESERVED_NAMES,
    SD_ALG,
    SD_ALG_KEY,
    SD_JWT_VC_TYP,
    SD_KEY,
    Disclosure,
    digest,
    encode_disclosure,
)

_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True, slots=True)
class SD:
    """Marks a value as selectively disclosable: an object member's value or an array element."""

    value: Any


def cnf_for(holder_key: PublicKey) -> dict[str, Any]:
    """The ``cnf`` claim binding a credential to ``holder_key`` (its public JWK members only)."""
    return {"jwk": holder_key.required_members()}


def random_salt() -> str:
    """128 bits from the OS CSPRNG, base64url (22 characters)."""
    return b64url_encode(secrets.token_bytes(16))


def issue(
    payload: Mapping[str, Any],
    *,
    issuer_key: SigningKey,
    typ: str = SD_JWT_VC_TYP,
    decoys: int | None = None,
    salt: Callable[[], str] | None = None,
    kid: bool = True,
) -> str:
    """Sign ``payload`` as an SD-JWT; return it with all Disclosures and a trailing ``~``.

    ``decoys`` is the number of decoy digests added to each ``_sd`` array; None
    (the default) draws 1 to 3 per array from the CSPRNG.
    """
    if not isinstance(payload, Mapping):
        raise Misuse("the payload of an SD-JWT is a mapping of claims")
    if typ == KB_JWT_TYP or not isinstance(typ, str) or not typ:
        raise Misuse(f"{typ!r} is not a credential type")
    if decoys is not None and (type(decoys) is not int or decoys < 0):
        raise Misuse("decoys is a non-negative number of decoy digests per '_sd' array")
    _check_top_level(payload, typ)
    builder = _Builder(salt or random_salt, decoys)
    claims = builder.object(payload)
    claims[SD_ALG_KEY] = SD_ALG
    issuer_jwt = jws.sign(claims, key=issuer_key, typ=typ, kid=kid)
    return issuer_jwt + "~" + "".join(d.encoded + "~" for d in builder.disclosures)


def _check_top_level(payload: Mapping[str, Any], typ: str) -> None:
    for name in NEVER_DISCLOSABLE:
        if isinstance(payload.get(name), SD):
            raise Misuse(f"the claim {name!r} may never be selectively disclosable")
    if not isinstance(payload.get("iss"), str):
        raise Misuse("an SD-JWT names its issuer: 'iss' is a string claim")
    if typ == SD_JWT_VC_TYP and not isinstance(payload.get("vct"), str):
        raise Misuse("an SD-JWT VC names its type: 'vct' is a string claim")
    cnf = payload.get("cnf")
    if cnf is not None:
        jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
        if not isinstance(jwk, Mapping) or _PRIVATE_JWK_MEMBERS & jwk.keys():
            raise Misuse("'cnf' is {'jwk': <the holder's PUBLIC key>}; use cnf_for()")


class _Builder:
    __slots__ = ("decoys", "disclosures", "salt")

    def __init__(self, salt: Callable[[], str], decoys: int | None) -> None:
        self.salt = salt
        self.decoys = decoys
        self.disclosures: list[Disclosure] = []

    def _disclose(self, name: str | None, value: Any) -> str:
        inner = self.value(value)  # children first: their digests go into this value
        salt = self.salt()
        if not isinstance(salt, str) or not salt:
            raise Misuse("the salt source returned something other than a non-empty string")
        disclosure = encode_disclosure(salt, name, inner)
        self.disclosures.append(disclosure)
        return disclosure.digest

    def value(self, value: Any) -> Any:
        if isinstance(value, SD):
            raise Misuse("SD() marks an object member's value or an array element, not an SD()")
        if isinstance(value, Mapping):
            return self.object(value)
        if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
            return self.array(value)
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise Misuse("a claim value holds a lone surrogate; it is not UTF-8") from None
            return value
        if isinstance(value, float) and math.isfinite(value):
            return value
        raise Misuse(f"{type(value).__name__} {value!r} is not a JSON value")

    def object(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, member in node.items():
            if not isinstance(name, str):
                raise Misuse(f"claim names are strings, not {name!r}")
            if name in RESERVED_NAMES:
                raise Misuse(f"{name!r} is reserved by SD-JWT and cannot be a claim name")
            if isinstance(member, SD):
                digests.append(self._disclose(name, member.value))
            else:
                out[name] = self.value(member)
        if digests:
            count = 1 + secrets.randbelow(3) if self.decoys is None else self.decoys
            digests.extend(_decoy() for _ in range(count))
            out[SD_KEY] = sorted(digests)
        return out

    def array(self, node: Sequence[Any]) -> list[Any]:
        return [
            {ELLIPSIS: self._disclose(None, element.value)}
            if isinstance(element, SD)
            else self.value(element)
            for element in node
        ]


def _decoy() -> str:
    """A digest of random bytes: indistinguishable from a real one (RFC 9901 §4.2.5)."""
    return digest(b64url_encode(secrets.token_bytes(32)))


__all__ = ["SD", "cnf_for", "issue", "random_salt"]
