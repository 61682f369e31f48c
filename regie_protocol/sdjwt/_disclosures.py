"""Disclosures (RFC 9901 §4.2): how Regie writes them, how any issuer's are read.

A Disclosure is the base64url encoding of a JSON array ``[salt, name, value]``
(an object member) or ``[salt, value]`` (an array element). Its digest is the
base64url SHA-256 of the *encoded string* (§4.2.3), so no canonical JSON is
needed: whatever spelling the issuer chose is what it signed.

Regie writes the array with ``json.dumps(..., ensure_ascii=False)`` and the
default separators ``", "`` and ``": "``: the spelling of the RFC's examples
(§4.2.1 ``["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]``), so issuing
with the RFC's salts reproduces the RFC's digests. Reading accepts any valid
spelling (escaped Unicode, no whitespace, newlines) through the strict decoder.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from typing import Any, NamedTuple

from .._encoding import b64url_decode, b64url_encode, loads_strict
from ..errors import Code, DisclosureRefused, MalformedInput

#: the only digest algorithm Regie accepts (RFC 9901 §4.1.1: the default and mandatory one)
SD_ALG = "sha-256"
SD_KEY = "_sd"
SD_ALG_KEY = "_sd_alg"
ELLIPSIS = "..."
#: names that carry SD-JWT structure and may never be claim names
RESERVED_NAMES = frozenset({SD_KEY, ELLIPSIS, SD_ALG_KEY})

#: ``typ`` of an SD-JWT VC issuer-signed JWT (SD-JWT VC, ``dc+sd-jwt``)
SD_JWT_VC_TYP = "dc+sd-jwt"
#: ``typ`` of a Key Binding JWT (RFC 9901 §4.3)
KB_JWT_TYP = "kb+jwt"
#: top-level claims SD-JWT VC forbids making selectively disclosable: they control
#: validity, trust and binding, so a holder must not be able to hide them (T12)
NEVER_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})


_TO_URL = bytes.maketrans(b"+/", b"-_")


def digest(encoded: str) -> str:
    """base64url SHA-256 over the US-ASCII bytes of ``encoded`` (a Disclosure or an SD-JWT)."""
    # 32 bytes encode to 43 characters and one "=" of padding, dropped here
    sha = hashlib.sha256(encoded.encode("ascii")).digest()
    return binascii.b2a_base64(sha, newline=False)[:43].translate(_TO_URL).decode("ascii")


class Disclosure(NamedTuple):
    """One Disclosure, decoded. ``name`` is None for an array element."""

    encoded: str
    digest: str
    salt: str
    name: str | None
    value: Any

    @property
    def is_array_element(self) -> bool:
        return self.name is None


def encode_disclosure(salt: str, name: str | None, value: Any) -> Disclosure:
    """A Disclosure in Regie's spelling (see the module docstring)."""
    array = [salt, value] if name is None else [salt, name, value]
    text = json.dumps(array, ensure_ascii=False, allow_nan=False)
    encoded = b64url_encode(text.encode("utf-8"))
    return Disclosure(encoded, digest(encoded), salt, name, value)


def decode_disclosure(encoded: str, *, max_depth: int) -> Disclosure:
    """Decode one Disclosure strictly. Its shape is checked; its use is not (see _process)."""
    try:
        array = loads_strict(
            b64url_decode(encoded, what="disclosure"), max_depth=max_depth, what="disclosure"
        )
    except MalformedInput as exc:
        if exc.code is Code.DEPTH_EXCEEDED:
            raise
        raise DisclosureRefused(
            f"a disclosure is not well-formed: {exc.message}", code=Code.DISCLOSURE_MALFORMED
        ) from None
    if type(array) is list:
        size = len(array)
        if size == 3:
            salt, name, value = array
            if type(salt) is str and type(name) is str and name not in RESERVED_NAMES:
                return _new(Disclosure, (encoded, digest(encoded), salt, name, value))
        elif size == 2:
            salt, value = array
            if type(salt) is str:
                return _new(Disclosure, (encoded, digest(encoded), salt, None, value))
    raise _refusal(array)


#: builds a Disclosure from its five fields without NamedTuple's Python-level __new__
_new = tuple.__new__


def _refusal(array: Any) -> DisclosureRefused:
    """Why a decoded disclosure is refused (the slow path, off the hot one)."""
    if type(array) is not list or len(array) not in (2, 3):
        return DisclosureRefused(
            "a disclosure is a JSON array of 3 elements (salt, name, value) "
            "or 2 elements (salt, value)",
            code=Code.DISCLOSURE_MALFORMED,
        )
    if type(array[0]) is not str:
        return DisclosureRefused("a disclosure's salt is a string", code=Code.DISCLOSURE_MALFORMED)
    name = array[1]
    if type(name) is not str:
        return DisclosureRefused(
            "a disclosure's claim name is a string", code=Code.DISCLOSURE_MALFORMED
        )
    return DisclosureRefused(
        f"a disclosure may not name the claim {name!r}", code=Code.CLAIM_NAME_CONFLICT
    )


__all__ = [
    "ELLIPSIS",
    "KB_JWT_TYP",
    "NEVER_DISCLOSABLE",
    "RESERVED_NAMES",
    "SD_ALG",
    "SD_ALG_KEY",
    "SD_JWT_VC_TYP",
    "SD_KEY",
    "Disclosure",
    "decode_disclosure",
    "digest",
    "encode_disclosure",
]
