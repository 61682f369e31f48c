"""Sign, parse and verify consent tokens.

``typ`` is ``regie-consent+jwt`` (RFC 8725 §3.11 explicit typing: the media
type ``application/regie-consent+jwt`` without its ``application/`` prefix).
It is Regie's own name, so a consent can never be mistaken for a token of a
registered type a peer may also accept (``kb+jwt``, ``dc+sd-jwt``,
``statuslist+jwt``, ``dpop+jwt``, ``at+jwt``), nor one of those for a consent
(T6). The format version is the ``ver`` claim, not part of ``typ``.

Verification (:func:`verify_consent`) goes:

1. parse strictly and refuse a ``typ`` other than the consent's before any
   key is looked up;
2. read ``iss`` (still unverified) and ask the caller for the pairwise holder
   key registered under it; no key → ``SignatureRefused(KEY_UNKNOWN)``;
3. the key's RFC 9278 thumbprint URI must equal ``iss``
   (``ClaimRefused(CLAIM_INVALID)``), so a key registered under the wrong name
   cannot vouch for another holder;
4. :func:`regie_protocol.jws.verify_parsed` with :data:`CONSENT_PROFILE`: the
   algorithm allow-list, the signature, required claims, times (integer
   NumericDates, leeway, at most :data:`MAX_LIFETIME`) and a single ``aud``
   equal to the verifier's own identifier;
5. the claims into :class:`ConsentClaims` (closed objects, DPV vocabularies,
   attribute ids): see :mod:`._model`.

A payload whose token passed all of this once is kept decoded, with its
:class:`ConsentClaims`, by its exact text (:mod:`._payloads`), so a verifier
that sees the same token on every read does not decode and validate it again.
Steps 1-4 run on every call all the same; nothing about a call (key, time,
audience, outcome) is kept.

What stays with the caller: the status-list check (``status``), the DPoP proof
against ``cnf.jkt``, the ``jti`` use counter and the verifier's registration.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import jws
from .._encoding import b64url_encode
from ..errors import ClaimRefused, Code, Misuse, SignatureRefused
from ..keys import Alg, PublicKey, SigningKey, random_bytes
from ..limits import DEFAULT_LIMITS, Limits
from . import _fields as f
from ._model import ConsentClaims, claims_from_json
from ._payloads import PAYLOADS, VerifiedPayload

CONSENT_TYP = "regie-consent+jwt"
#: the longest a consent may run (``exp - iat``): 400 days, a little over a year
MAX_LIFETIME = 400 * 86400

CONSENT_PROFILE = jws.TokenProfile(
    name="consent token",
    typ=CONSENT_TYP,
    algs=frozenset({Alg.EDDSA.value, Alg.ED25519.value, Alg.ES256.value}),
    required_claims=frozenset(
        {"ver", "jti", "iss", "aud", "iat", "nbf", "exp", "authorization_details", "cnf", "status"}
    ),
    max_lifetime=MAX_LIFETIME,
    required_times=frozenset({"iat", "nbf", "exp"}),
)

#: how a verifier finds the pairwise holder key for an ``iss`` thumbprint URI
HolderKeys = Callable[[str], PublicKey | None] | Mapping[str, PublicKey]


@dataclass(frozen=True, slots=True)
class UnverifiedConsent:
    """A parsed consent token whose signature has NOT been checked.

    ``iss`` and ``jti`` have the right shape, nothing more: use them to find the
    holder key or a replay record, never to decide anything.
    """

    header: Mapping[str, Any]
    unverified_claims: Mapping[str, Any]
    iss: str
    jti: str
    parsed: jws.UnverifiedJWS


@dataclass(frozen=True, slots=True)
class VerifiedConsent:
    """A consent token whose signature, holder key, times, audience and claims passed."""

    claims: ConsentClaims
    header: Mapping[str, Any]
    key: PublicKey


def new_consent_id() -> str:
    """A fresh random consent id (``jti``): 128 bits, base64url, starting with a letter or digit.

    An id that started with ``-`` would read as an option when a citizen types
    ``regie consent revoke ID``, so such draws are discarded (a 1-in-32 chance each).
    """
    while True:
        candidate = b64url_encode(random_bytes(16))
        if candidate[0] not in "-_":
            return candidate


def consent_request_hash(request_jwt: str) -> str:
    """``request.sha256``: base64url SHA-256 of the verifier's compact request JWT."""
    return b64url_encode(hashlib.sha256(request_jwt.encode("ascii")).digest())


def notice_hash(text: bytes) -> str:
    """``notice.sha256``: base64url SHA-256 of the notice bytes the citizen saw."""
    return b64url_encode(hashlib.sha256(text).digest())


def sign_consent(claims: ConsentClaims, *, holder_key: SigningKey) -> str:
    """Sign ``claims`` with the pairwise holder key. Refuses (Misuse) what verify would refuse."""
    if not isinstance(claims, ConsentClaims):
        raise Misuse("sign_consent takes ConsentClaims")
    if claims.iss != holder_key.public_key.thumbprint_uri():
        raise Misuse(
            "iss is not the thumbprint URI of holder_key: sign with the verifier's pairwise key"
        )
    payload = claims.to_json()
    try:
        checked = claims_from_json(payload)
    except ClaimRefused as exc:
        raise Misuse(f"these claims would be refused: {exc.message}") from None
    if checked != claims:
        raise Misuse("the claims do not survive their own JSON form (check the field types)")
    if claims.exp - claims.iat > MAX_LIFETIME:
        raise Misuse(f"a consent lives at most {MAX_LIFETIME} s")
    return jws.sign(payload, key=holder_key, typ=CONSENT_TYP)


def parse_consent(token: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> UnverifiedConsent:
    """Parse a consent token without checking it: ``typ``, and the shape of ``iss`` and ``jti``."""
    parsed, iss, jti = _parse(token, limits, known=None)
    return UnverifiedConsent(
        header=parsed.header,
        unverified_claims=parsed.unverified_claims,
        iss=iss,
        jti=jti,
        parsed=parsed,
    )


def _parse(
    token: str | bytes, limits: Limits, known: jws.KnownPayloads | None
) -> tuple[jws.UnverifiedJWS, str, str]:
    """The parsed token, its ``iss`` and its ``jti`` (shapes checked, nothing else)."""
    parsed = jws.parse(token, max_bytes=CONSENT_PROFILE.max_bytes, limits=limits, known=known)
    if parsed.header.get("typ") != CONSENT_TYP:
        raise SignatureRefused(
            f"typ {parsed.header.get('typ')!r} is not {CONSENT_TYP!r}: this is not a consent token",
            code=Code.TYP_MISMATCH,
        )
    claims = parsed.unverified_claims
    for name in ("iss", "jti"):
        if name not in claims:
            raise f.refuse(name, "is missing", code=Code.CLAIM_MISSING)
    return parsed, f.uri(claims["iss"], "iss"), f.identifier(claims["jti"], "jti")


def _holder_key(holder_keys: HolderKeys, iss: str) -> PublicKey:
    key = holder_keys.get(iss) if isinstance(holder_keys, Mapping) else holder_keys(iss)
    if key is None:
        raise SignatureRefused(
            "no holder key is registered for this consent's iss", code=Code.KEY_UNKNOWN
        )
    if not isinstance(key, PublicKey):
        raise Misuse("holder_keys must give a PublicKey or None")
    if not hmac.compare_digest(key.thumbprint_uri().encode(), iss.encode()):
        raise ClaimRefused(
            "iss is not the thumbprint URI of the holder key registered for it",
            code=Code.CLAIM_INVALID,
        )
    return key


def verify_consent(
    token: str | bytes,
    *,
    holder_keys: HolderKeys,
    audience: str,
    now: int,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedConsent:
    """Verify a consent token for the verifier ``audience`` at ``now`` (raises Refused)."""
    if not isinstance(audience, str) or not audience:
        raise Misuse("verify_consent needs the verifier's own identifier as audience")
    # a payload that verified before comes decoded, with its claims, from PAYLOADS (keyed by
    # its exact text); every check below runs on every call all the same
    parsed, iss, _ = _parse(token, limits, known=PAYLOADS.get)
    key = _holder_key(holder_keys, iss)
    verified = jws.verify_parsed(
        parsed,
        profile=CONSENT_PROFILE,
        keys=key,
        now=now,
        audience=audience,
        limits=limits,
    )
    payload = verified.claims
    if type(payload) is VerifiedPayload:
        claims = payload.claims
    else:
        claims = claims_from_json(payload)
        segment = parsed.signing_input.partition(b".")[2].decode("ascii")
        PAYLOADS.put(segment, limits.max_json_depth, payload, claims)
    return VerifiedConsent(claims=claims, header=verified.header, key=key)


__all__ = [
    "CONSENT_PROFILE",
    "CONSENT_TYP",
    "MAX_LIFETIME",
    "HolderKeys",
    "UnverifiedConsent",
    "VerifiedConsent",
    "consent_request_hash",
    "new_consent_id",
    "notice_hash",
    "parse_consent",
    "sign_consent",
    "verify_consent",
]
