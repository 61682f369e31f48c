"""Strict JWS compact serialisation: sign and verify, one profile per token type.

Every token type has a :class:`TokenProfile` stating its ``typ`` (RFC 8725
§3.11), the algorithms allowed for it, the time claims it must carry and its
longest lifetime. Verification takes the profile, the keys and the clock from
the caller; nothing is taken from the token except a ``kid`` used as a
dictionary key into keys the caller already trusts.

Refused by construction: ``alg`` outside the profile *and* the key's own
algorithms (so ``none`` in any spelling, HS256 with a public key, ES256
against an Ed25519 key), any header member but ``alg``/``typ``/``kid``
(``crit``, ``b64``, ``jwk``, ``jku``, ``x5u``, ``x5c`` ...), duplicate JSON
members, non-canonical base64url, non-integer or missing time claims, tokens
over the size limit, JSON nested deeper than the limit.

Why not hand the token to a JOSE library: see
docs/decisions/0002-jose-library-and-strict-layer.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ._encoding import b64url_decode, b64url_encode, dumps_compact, loads_strict
from .errors import ClaimRefused, Code, MalformedInput, SignatureRefused, TimeRefused
from .keys import PublicKey, SigningKey
from .limits import DEFAULT_LIMITS, Limits

#: header members a Regie verifier understands; anything else is refused
BASE_HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})
_TIME_CLAIMS = ("iat", "nbf", "exp")


@dataclass(frozen=True, slots=True)
class TokenProfile:
    """What one token type must look like. The caller picks the profile, never the token."""

    name: str
    typ: str
    algs: frozenset[str]
    required_claims: frozenset[str] = frozenset()
    #: longest allowed ``exp - iat`` in seconds, or None where ``exp`` is not used
    max_lifetime: int | None = None
    #: claims that must be present and integer NumericDates
    required_times: frozenset[str] = frozenset({"iat", "exp"})
    header_members: frozenset[str] = BASE_HEADER_MEMBERS
    max_bytes: int = field(default=DEFAULT_LIMITS.max_token_bytes)


class UnverifiedJWS(NamedTuple):
    """A parsed token whose signature has NOT been checked. Never trust its contents."""

    header: Mapping[str, Any]
    unverified_claims: Mapping[str, Any]
    signing_input: bytes
    signature: bytes


class VerifiedJWS(NamedTuple):
    """A token whose signature, header and time claims passed the profile's checks."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    key: PublicKey
    profile: TokenProfile


Keys = PublicKey | Mapping[str, PublicKey]
#: ``(payload segment, max JSON depth) -> the claims decoded from exactly that text, or None``
KnownPayloads = Callable[[str, int], Mapping[str, Any] | None]
#: builds the NamedTuples above from all their fields without their Python-level __new__
_new = tuple.__new__


def sign(
    claims: Mapping[str, Any],
    *,
    key: SigningKey,
    typ: str,
    kid: bool = True,
) -> str:
    """Sign ``claims`` as a compact JWS with the key's algorithm and the given ``typ``."""
    header: dict[str, str] = {"alg": key.alg.value, "typ": typ}
    if kid:
        header["kid"] = key.kid
    signing_input = (
        b64url_encode(dumps_compact(header)) + "." + b64url_encode(dumps_compact(dict(claims)))
    )
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


@lru_cache(maxsize=256)
def _decode_header(segment: str, max_depth: int) -> Mapping[str, Any]:
    header = loads_strict(b64url_decode(segment, what="JWS header"), max_depth=max_depth)
    if not isinstance(header, dict):
        raise MalformedInput("the JWS header is not a JSON object")
    return _FrozenDict(header)


class _FrozenDict(dict[str, Any]):
    """A dict that refuses changes, so a cached header cannot be altered by a caller."""

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a verified header is read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _refuse  # type: ignore[assignment]
    # ``|=`` is dict's own C slot and would bypass ``update``
    __ior__ = _refuse  # type: ignore[assignment]


def parse(
    token: str | bytes,
    *,
    max_bytes: int,
    limits: Limits = DEFAULT_LIMITS,
    known: KnownPayloads | None = None,
) -> UnverifiedJWS:
    """Split and decode a compact JWS strictly. The result is unverified.

    ``known`` (optional) looks up a payload the caller decoded before from the
    same segment text under the same depth limit and keeps read-only; on a miss
    (None) the payload is decoded strictly here, as without it. Nothing else is
    skipped: size, parts, header and signature are read on every call.
    """
    if isinstance(token, bytes):
        if len(token) > max_bytes:
            raise MalformedInput(
                f"the token has {len(token)} bytes; at most {max_bytes} are accepted",
                code=Code.SIZE_EXCEEDED,
            )
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedInput("a compact JWS is ASCII") from None
    if len(token) > max_bytes:
        raise MalformedInput(
            f"the token has {len(token)} characters; at most {max_bytes} are accepted",
            code=Code.SIZE_EXCEEDED,
        )
    # find() instead of split(): it scans with memchr, and the parts are sliced once
    first = token.find(".")
    second = token.find(".", first + 1)  # -1 as well when there is no "." at all
    if second < 0 or token.find(".", second + 1) >= 0:
        raise MalformedInput(
            f"a compact JWS has 3 parts separated by '.', not {token.count('.') + 1}"
        )
    max_depth = limits.max_json_depth
    header = _decode_header(token[:first], max_depth)
    segment = token[first + 1 : second]
    claims = None if known is None else known(segment, max_depth)
    if claims is None:
        claims = loads_strict(
            b64url_decode(segment, what="JWS payload"), max_depth=max_depth, what="JWS payload"
        )
        if type(claims) is not dict:
            raise MalformedInput("the JWS payload is not a JSON object")
    signature = b64url_decode(token[second + 1 :], what="JWS signature")
    # every part decoded as base64url, so the token is ASCII here
    return _new(UnverifiedJWS, (header, claims, token[:second].encode("ascii"), signature))


def _check_header(header: Mapping[str, Any], profile: TokenProfile) -> str:
    if not header.keys() <= profile.header_members:
        extra = header.keys() - profile.header_members
        raise SignatureRefused(
            f"header member(s) {sorted(extra)} are not accepted in a {profile.name}",
            code=Code.HEADER_REFUSED,
        )
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in profile.algs:
        raise SignatureRefused(
            f"algorithm {alg!r} is not allowed for a {profile.name}; "
            f"allowed: {', '.join(sorted(profile.algs))}",
            code=Code.ALGORITHM_REFUSED,
        )
    typ = header.get("typ")
    if typ != profile.typ:
        raise SignatureRefused(
            f"typ {typ!r} is not {profile.typ!r}: this is not a {profile.name}",
            code=Code.TYP_MISMATCH,
        )
    return alg


def _select_key(header: Mapping[str, Any], keys: Keys) -> PublicKey:
    if isinstance(keys, PublicKey):
        return keys
    if "kid" not in header:
        if len(keys) == 1:
            return next(iter(keys.values()))
        raise SignatureRefused(
            "the token names no kid and several keys are trusted", code=Code.KEY_UNKNOWN
        )
    kid = header["kid"]
    if not isinstance(kid, str):
        raise SignatureRefused("kid is not a string", code=Code.KEY_UNKNOWN)
    key = keys.get(kid)
    if key is None:
        raise SignatureRefused("the token's kid names no trusted key", code=Code.KEY_UNKNOWN)
    return key


def check_times(claims: Mapping[str, Any], profile: TokenProfile, *, now: int, leeway: int) -> None:
    """Integer NumericDates only; expiry, not-before, issued-in-future, maximum lifetime."""
    for name in _TIME_CLAIMS:
        if name not in claims:
            if name in profile.required_times:
                raise ClaimRefused(
                    f"the {profile.name} has no {name!r} claim", code=Code.CLAIM_MISSING
                )
            continue
        value = claims[name]
        if type(value) is not int or not 0 <= value < 2**53:
            raise ClaimRefused(f"claim {name!r} is not an integer NumericDate")
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if exp is not None and now - leeway >= exp:
        raise TimeRefused(f"the {profile.name} expired at {exp} (now {now})", code=Code.EXPIRED)
    if nbf is not None and nbf > now + leeway:
        raise TimeRefused(
            f"the {profile.name} is not valid before {nbf} (now {now})", code=Code.NOT_YET_VALID
        )
    if iat is not None and iat > now + leeway:
        raise TimeRefused(
            f"the {profile.name} was issued in the future ({iat}, now {now})",
            code=Code.ISSUED_IN_FUTURE,
        )
    if profile.max_lifetime is not None and exp is not None:
        start = iat if iat is not None else (nbf if nbf is not None else now)
        if exp - start > profile.max_lifetime:
            raise TimeRefused(
                f"the {profile.name} lives {exp - start} s; at most {profile.max_lifetime} s",
                code=Code.LIFETIME_TOO_LONG,
            )


def check_audience(claims: Mapping[str, Any], expected: str, profile: TokenProfile) -> None:
    """A single-valued ``aud`` equal to ``expected`` (arrays are refused, RFC 8725 §3.9)."""
    aud = claims.get("aud")
    if aud is None:
        raise ClaimRefused(f"the {profile.name} has no 'aud' claim", code=Code.CLAIM_MISSING)
    if not isinstance(aud, str):
        raise ClaimRefused(f"'aud' of a {profile.name} is a single string")
    if aud != expected:
        raise ClaimRefused(
            f"the {profile.name} is meant for another audience", code=Code.AUDIENCE_MISMATCH
        )


def verify(
    token: str | bytes,
    *,
    profile: TokenProfile,
    keys: Keys,
    now: int,
    audience: str | None,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedJWS:
    """Verify a compact JWS against ``profile``. Raises a :class:`Refused` subclass.

    ``audience`` is required by the signature: pass ``None`` only for token
    types that have no audience (status lists).
    """
    unverified = parse(token, max_bytes=profile.max_bytes, limits=limits)
    return verify_parsed(
        unverified, profile=profile, keys=keys, now=now, audience=audience, limits=limits
    )


def verify_parsed(
    unverified: UnverifiedJWS,
    *,
    profile: TokenProfile,
    keys: Keys,
    now: int,
    audience: str | None,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedJWS:
    header = unverified.header
    alg = _check_header(header, profile)
    key = _select_key(header, keys)
    if alg not in key.algs:
        raise SignatureRefused(
            f"algorithm {alg!r} does not belong to the trusted key's type",
            code=Code.ALGORITHM_REFUSED,
        )
    key.verify(unverified.signing_input, unverified.signature)
    claims = unverified.unverified_claims
    if not claims.keys() >= profile.required_claims:
        missing = profile.required_claims - claims.keys()
        raise ClaimRefused(
            f"the {profile.name} lacks required claim(s) {sorted(missing)}",
            code=Code.CLAIM_MISSING,
        )
    check_times(claims, profile, now=now, leeway=limits.leeway_seconds)
    if audience is not None:
        check_audience(claims, audience, profile)
    return _new(VerifiedJWS, (header, claims, key, profile))


__all__ = [
    "BASE_HEADER_MEMBERS",
    "Keys",
    "KnownPayloads",
    "TokenProfile",
    "UnverifiedJWS",
    "VerifiedJWS",
    "check_audience",
    "check_times",
    "parse",
    "sign",
    "verify",
    "verify_parsed",
]
