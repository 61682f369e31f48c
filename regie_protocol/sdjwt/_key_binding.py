"""Checking a Key Binding JWT (RFC 9901 §4.3, §7.3 step 5).

The key is the holder key from the credential's ``cnf.jwk``, never one named by
the KB-JWT. Checked: ``typ`` is ``kb+jwt``; the header has only ``alg``/``typ``/
``kid``; ``alg`` belongs to the holder key's type; the signature; ``iat``, ``aud``,
``nonce``, ``sd_hash`` present and typed; ``sd_hash`` over the SD-JWT as sent;
the nonce and audience of this transaction; ``iat`` not in the future and not
older than the policy's ``max_age`` (both with the clock leeway).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import jws
from ..errors import Code, KeyBindingRefused, SignatureRefused, TimeRefused
from ..keys import Alg, PublicKey
from ..limits import Limits
from ._disclosures import KB_JWT_TYP, digest
from ._policy import KeyBindingRequired

ALGS = frozenset({Alg.EDDSA.value, Alg.ED25519.value, Alg.ES256.value})

_PROFILE = jws.TokenProfile(
    name="key binding JWT",
    typ=KB_JWT_TYP,
    algs=ALGS,
    required_claims=frozenset({"iat", "aud", "nonce", "sd_hash"}),
    max_lifetime=None,
    required_times=frozenset({"iat"}),
)
_REQUIRED = _PROFILE.required_claims


def verify_key_binding(
    token: str,
    *,
    holder_key: PublicKey,
    sd_jwt: str,
    policy: KeyBindingRequired,
    now: int,
    limits: Limits,
) -> Mapping[str, Any]:
    """Verify the KB-JWT ``token`` bound to ``sd_jwt``; return its claims."""
    kb = jws.parse(token, max_bytes=limits.max_token_bytes, limits=limits)
    header = kb.header
    typ = header.get("typ")
    if typ != KB_JWT_TYP:
        raise KeyBindingRefused(
            f"the key binding JWT has typ {typ!r}, not {KB_JWT_TYP!r}",
            code=Code.KEY_BINDING_INVALID,
        )
    if not header.keys() <= jws.BASE_HEADER_MEMBERS:
        extra = header.keys() - jws.BASE_HEADER_MEMBERS
        raise KeyBindingRefused(
            f"header member(s) {sorted(extra)} are not accepted in a key binding JWT",
            code=Code.KEY_BINDING_INVALID,
        )
    alg = header.get("alg")
    if alg not in ALGS or alg not in holder_key.algs:
        raise KeyBindingRefused(
            f"algorithm {alg!r} is not allowed for the holder key in cnf",
            code=Code.KEY_BINDING_INVALID,
        )
    try:
        holder_key.verify(kb.signing_input, kb.signature)
    except SignatureRefused:
        raise KeyBindingRefused(
            "the key binding JWT is not signed by the holder key named in cnf",
            code=Code.SIGNATURE_INVALID,
        ) from None
    claims = kb.unverified_claims
    if not claims.keys() >= _REQUIRED:
        missing = _REQUIRED - claims.keys()
        raise KeyBindingRefused(
            f"the key binding JWT lacks {sorted(missing)}", code=Code.KEY_BINDING_INVALID
        )
    leeway = limits.leeway_seconds
    jws.check_times(claims, _PROFILE, now=now, leeway=leeway)
    sd_hash = claims["sd_hash"]
    if type(sd_hash) is not str or sd_hash != digest(sd_jwt):
        raise KeyBindingRefused(
            "sd_hash does not match the issuer-signed JWT and disclosures sent with it",
            code=Code.SD_HASH_MISMATCH,
        )
    if claims["nonce"] != policy.nonce:
        raise KeyBindingRefused(
            "the key binding JWT was made for another transaction (nonce)",
            code=Code.NONCE_MISMATCH,
        )
    if claims["aud"] != policy.audience:
        raise KeyBindingRefused(
            "the key binding JWT is meant for another verifier (aud)",
            code=Code.AUDIENCE_MISMATCH,
        )
    iat = claims["iat"]
    if now - iat > policy.max_age + leeway:
        raise TimeRefused(
            f"the key binding JWT was made {now - iat} s ago; at most {policy.max_age} s",
            code=Code.EXPIRED,
        )
    return claims


__all__ = ["ALGS", "verify_key_binding"]
