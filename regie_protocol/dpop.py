"""DPoP proofs (RFC 9449): create one for an HTTP request, verify one against a known key.

A DPoP proof is a JWS, ``typ: dpop+jwt``, whose header carries the signer's
public key as ``jwk``. This is the one Regie token where a key comes from the
token's header, and it is safe only because the caller states which key it
expects: ``expected_jkt``, the RFC 7638 thumbprint bound into the consent
(``cnf.jkt``) or the request. A proof by any other key is refused with
``DPOP_KEY_MISMATCH``. ``expected_jkt=None`` is for the first contact only,
where the caller records the returned :attr:`VerifiedProof.jkt` itself.

Checked here (anything wrong is ``DPOP_INVALID``):

* the header has exactly ``alg``, ``typ`` and ``jwk``; ``alg`` is ``EdDSA`` or
  ``ES256`` and belongs to the ``jwk``'s key type; the ``jwk`` is a public key
  (private members refused) and not a weak point;
* the claims are exactly ``jti``, ``htm``, ``htu``, ``iat`` and, when an access
  token is presented, ``ath`` (unknown claims are refused: Regie sends no
  server nonce, so ``nonce`` is unknown too);
* ``iat`` is at most ``max_age`` seconds old and at most ``leeway`` seconds in
  the future; ``htm`` equals the request method exactly; ``htu`` equals the
  request URL after :func:`normalize_htu`; ``ath`` equals
  :func:`access_token_hash` of the presented token (and is refused when no
  token is presented).

What stays with the caller: replay. The ``jti`` of a verified proof must be
stored (with the ``jkt``) for at least ``max_age + leeway`` seconds and a
second use refused with ``DPOP_REPLAYED``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from . import jws
from ._encoding import b64url_encode, dumps_compact
from .errors import ClaimRefused, Code, MalformedInput, Misuse, Refused, SignatureRefused
from .keys import Alg, PublicKey, SigningKey, public_key_from_jwk, random_bytes
from .limits import Limits

DPOP_TYP = "dpop+jwt"
DPOP_ALGS = frozenset({Alg.EDDSA.value, Alg.ES256.value})
#: seconds a proof is accepted after its ``iat``
MAX_PROOF_AGE = 60
#: a proof with a P-256 key and an ``ath`` is about 700 bytes
MAX_PROOF_BYTES = 4096
MAX_HTU = 2048

DPOP_PROFILE = jws.TokenProfile(
    name="DPoP proof",
    typ=DPOP_TYP,
    algs=DPOP_ALGS,
    required_claims=frozenset({"jti", "htm", "htu", "iat"}),
    max_lifetime=None,
    required_times=frozenset({"iat"}),
    header_members=frozenset({"alg", "typ", "jwk"}),
    max_bytes=MAX_PROOF_BYTES,
)

_CLAIMS = frozenset({"jti", "htm", "htu", "iat", "ath"})
_JTI = re.compile(r"[A-Za-z0-9_-]{1,128}")
_METHOD = re.compile(r"[A-Z]{1,16}")
_ATH = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: ASCII white space and control characters (the URL is checked to be ASCII first)
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
#: distinct header keys / URLs remembered (pure results only; see _header_key, normalize_htu)
_CACHE_ENTRIES = 1024


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A DPoP proof that passed every check. ``htu`` is the normalised URL it was made for."""

    jti: str
    jkt: str
    iat: int
    htm: str
    htu: str
    key: PublicKey


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII bytes (RFC 9449 §4.2)."""
    try:
        raw = access_token.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedInput("the access token is not ASCII") from None
    return b64url_encode(hashlib.sha256(raw).digest())


def normalize_htu(url: str) -> str:
    """The URL as ``htu`` compares it: scheme and host in lower case, the default port,
    query and fragment dropped, an empty path written ``/``.

    Anything but an absolute ``http``/``https`` URL with a host and without user
    info is refused (``ClaimRefused``, ``DPOP_INVALID``). Results are remembered
    (a pure function of the text; refusals are not kept).
    """
    if not isinstance(url, str) or not url or len(url) > MAX_HTU or not url.isascii():
        raise _invalid(f"htu is not an ASCII URL of at most {MAX_HTU} characters", ClaimRefused)
    return _normalize_htu(url)


@lru_cache(maxsize=_CACHE_ENTRIES)
def _normalize_htu(url: str) -> str:
    if _SPACE_OR_CONTROL.search(url):
        raise _invalid("htu contains white space or control characters", ClaimRefused)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid("htu is not a valid URL", ClaimRefused) from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        raise _invalid(
            "htu is not an absolute http(s) URL with a host and no user info", ClaimRefused
        )
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def _check_method(htm: str) -> str:
    if not isinstance(htm, str) or not _METHOD.fullmatch(htm):
        raise Misuse(f"htm {htm!r} is not an HTTP method in upper case (GET, POST, ...)")
    return htm


def create_proof(
    key: SigningKey,
    *,
    htm: str,
    htu: str,
    now: int,
    access_token: str | None = None,
    jti: str | None = None,
) -> str:
    """A DPoP proof for one request: method ``htm`` on ``htu`` (query and fragment dropped).

    ``jti`` defaults to 16 random bytes; pass ``access_token`` when the request
    carries one (``Authorization: DPoP <token>``), so the proof is bound to it.
    """
    if key.alg.value not in DPOP_ALGS:
        raise Misuse(f"DPoP proofs are signed with {sorted(DPOP_ALGS)}")
    if jti is None:
        jti = b64url_encode(random_bytes(16))
    elif not isinstance(jti, str) or not _JTI.fullmatch(jti):
        raise Misuse("jti is 1-128 characters from A-Z a-z 0-9 _ -")
    if type(now) is not int or now < 0:
        raise Misuse("now is an integer NumericDate")
    try:
        target = normalize_htu(htu)
    except ClaimRefused as exc:
        raise Misuse(exc.message) from None
    claims: dict[str, Any] = {"jti": jti, "htm": _check_method(htm), "htu": target, "iat": now}
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    header = {"typ": DPOP_TYP, "alg": key.alg.value, "jwk": key.public_key.required_members()}
    encoded = (b64url_encode(dumps_compact(part)) for part in (header, claims))
    signing_input = ".".join(encoded)
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def _invalid(message: str, kind: type[Refused] = SignatureRefused) -> Refused:
    return kind(f"DPoP proof: {message}", code=Code.DPOP_INVALID)


def _header_key(header: Any) -> tuple[PublicKey, str]:
    """The header's ``jwk`` as a key (strong, public) and its RFC 7638 thumbprint.

    A client signs every proof with the same key, so the imported key is
    remembered by the JWK's exact members (all strings): importing checks the
    point (libsodium's ``is_valid_point`` costs about as much as a signature
    verification). A JWK with a non-string member is imported every time.
    """
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise _invalid("the header has no 'jwk' object: the proof must carry its public key")
    try:
        if all(type(value) is str for value in jwk.values()):
            return _imported_key(frozenset(jwk.items()))
        key = public_key_from_jwk(jwk, registering=True)
    except Refused as exc:
        raise _invalid(f"the header's jwk cannot be used ({exc.message})") from None
    return key, key.thumbprint()


@lru_cache(maxsize=_CACHE_ENTRIES)
def _imported_key(members: frozenset[tuple[str, str]]) -> tuple[PublicKey, str]:
    key = public_key_from_jwk(dict(members), registering=True)
    return key, key.thumbprint()


def _check_claims(
    claims: Any, *, htm: str, htu: str, now: int, access_token: str | None, max_age: int
) -> tuple[str, int, str]:
    unknown = claims.keys() - _CLAIMS
    if unknown:
        raise _invalid(f"unknown claim(s) {sorted(unknown)}", ClaimRefused)
    jti, iat = claims["jti"], claims["iat"]
    if not isinstance(jti, str) or not _JTI.fullmatch(jti):
        raise _invalid("jti is not 1-128 characters from A-Z a-z 0-9 _ -", ClaimRefused)
    if iat < now - max_age:
        raise _invalid(
            f"issued at {iat}, more than {max_age} s ago (now {now}): make a fresh proof "
            "for every request and check the client's clock",
            ClaimRefused,
        )
    if claims["htm"] != htm:
        raise _invalid(f"made for method {claims['htm']!r}, not {htm}", ClaimRefused)
    if not isinstance(claims["htu"], str) or normalize_htu(claims["htu"]) != htu:
        raise _invalid(f"made for another URL than {htu}", ClaimRefused)
    ath = claims.get("ath")
    if access_token is None:
        if "ath" in claims:
            raise _invalid("carries 'ath' but no access token was presented", ClaimRefused)
    elif "ath" not in claims:
        raise _invalid("has no 'ath': bind the proof to the access token it is sent with")
    elif not isinstance(ath, str) or not _ATH.fullmatch(ath):
        raise _invalid("'ath' is not a base64url SHA-256 digest", ClaimRefused)
    elif not hmac.compare_digest(ath.encode(), access_token_hash(access_token).encode()):
        raise _invalid("'ath' is not the hash of the access token presented with it")
    return jti, iat, claims["htm"]


def verify_proof(
    proof: str | bytes,
    *,
    htm: str,
    htu: str,
    now: int,
    access_token: str | None,
    expected_jkt: str | None,
    max_age: int = MAX_PROOF_AGE,
    leeway: int = 5,
) -> VerifiedProof:
    """Verify a DPoP proof for the request ``htm htu`` at ``now`` (raises ``Refused``).

    ``access_token`` is the token sent with the request (``None`` when none is);
    ``expected_jkt`` the thumbprint of the key that must have signed the proof.
    ``htu`` is the URL the request was sent to; when it is not an http(s) URL
    :func:`normalize_htu` accepts, the proof is refused (``DPOP_INVALID``).
    """
    if not 0 <= leeway <= 60 or not 0 < max_age <= 3600:
        raise Misuse("leeway is 0-60 s and max_age 1-3600 s")
    _check_method(htm)
    # the request URL is partly the client's (a path parameter): one no proof can
    # match is refused like a bad proof, not treated as the caller's bug
    target = normalize_htu(htu)
    try:
        parsed = jws.parse(proof, max_bytes=DPOP_PROFILE.max_bytes)
        key, jkt = _header_key(parsed.header)
        verified = jws.verify_parsed(
            parsed,
            profile=DPOP_PROFILE,
            keys=key,
            now=now,
            audience=None,
            limits=Limits(leeway_seconds=leeway),
        )
        jti, iat, method = _check_claims(
            verified.claims,
            htm=htm,
            htu=target,
            now=now,
            access_token=access_token,
            max_age=max_age,
        )
    except Refused as exc:
        if exc.code is Code.DPOP_INVALID:
            raise
        kind = ClaimRefused if isinstance(exc, ClaimRefused) else SignatureRefused
        raise _invalid(exc.message, kind) from None
    if expected_jkt is not None and not hmac.compare_digest(jkt.encode(), expected_jkt.encode()):
        raise SignatureRefused(
            "DPoP proof: signed by another key than the one bound to this consent or request",
            code=Code.DPOP_KEY_MISMATCH,
        )
    return VerifiedProof(jti=jti, jkt=jkt, iat=iat, htm=method, htu=target, key=key)


__all__ = [
    "DPOP_ALGS",
    "DPOP_PROFILE",
    "DPOP_TYP",
    "MAX_PROOF_AGE",
    "MAX_PROOF_BYTES",
    "VerifiedProof",
    "access_token_hash",
    "create_proof",
    "normalize_htu",
    "verify_proof",
]
