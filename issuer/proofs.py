"""OpenID4VCI key proofs (``jwt`` proof type): the holder proves it has the key to bind.

This is the one place where a key is taken from a JWS header: the ``jwk`` of
a key proof is the key *being proven*, never a key trusted to vouch for
anything else. It must be a public key (a private one is refused), a strong
one (no small-order or non-canonical point), and it must verify the proof.

Checked (OpenID4VCI 1.0, "Verifying Proof"): ``typ`` is
``openid4vci-proof+jwt``; ``alg`` is EdDSA or ES256 and fits the key; the
header has ``alg``, ``typ`` and ``jwk`` only (``kid``, ``x5c``, ``crit``, ...
are refused); ``aud`` is the credential issuer's identifier; ``iat`` is an
integer at most ``max_age`` seconds old and not in the future; ``nonce`` is a
string. Whether the nonce is one this issuer gave out, and unused, is the
caller's check (:class:`issuer.nonces.NonceStore`). ``iss`` is ignored (a
pre-authorised wallet has no client id).
"""

from __future__ import annotations

from dataclasses import dataclass

from regie_protocol import jws
from regie_protocol.errors import ClaimRefused, Code, SignatureRefused, TimeRefused
from regie_protocol.keys import Alg, PublicKey, public_key_from_jwk
from regie_protocol.limits import DEFAULT_LIMITS, Limits

PROOF_TYP = "openid4vci-proof+jwt"
PROOF_ALGS = (Alg.EDDSA.value, Alg.ES256.value)

PROOF_PROFILE = jws.TokenProfile(
    name="key proof",
    typ=PROOF_TYP,
    algs=frozenset(PROOF_ALGS),
    required_claims=frozenset({"aud", "iat", "nonce"}),
    max_lifetime=3600,
    required_times=frozenset({"iat"}),
    header_members=frozenset({"alg", "typ", "jwk"}),
)


@dataclass(frozen=True, slots=True)
class VerifiedKeyProof:
    """A key proof whose signature, header, audience and age passed the checks."""

    holder_key: PublicKey
    nonce: str
    iat: int


def verify_key_proof(
    token: str,
    *,
    audience: str,
    now: int,
    max_age: int,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedKeyProof:
    """Verify a ``jwt`` key proof for ``audience``. Raises a :class:`Refused` subclass."""
    unverified = jws.parse(token, max_bytes=PROOF_PROFILE.max_bytes, limits=limits)
    jwk = unverified.header.get("jwk")
    if not isinstance(jwk, dict):
        raise SignatureRefused(
            "a key proof carries the key to bind in its 'jwk' header", code=Code.HEADER_REFUSED
        )
    holder_key = public_key_from_jwk(dict(jwk), registering=True)
    verified = jws.verify_parsed(
        unverified,
        profile=PROOF_PROFILE,
        keys=holder_key,
        now=now,
        audience=audience,
        limits=limits,
    )
    iat = verified.claims["iat"]
    if now - iat > max_age + limits.leeway_seconds:
        raise TimeRefused(
            f"the key proof was made at {iat}, more than {max_age} s before now ({now})",
            code=Code.EXPIRED,
        )
    nonce = verified.claims["nonce"]
    if not isinstance(nonce, str) or not nonce:
        raise ClaimRefused("the key proof's 'nonce' is not a string", code=Code.CLAIM_INVALID)
    return VerifiedKeyProof(holder_key=holder_key, nonce=nonce, iat=iat)


__all__ = ["PROOF_ALGS", "PROOF_PROFILE", "PROOF_TYP", "VerifiedKeyProof", "verify_key_proof"]
