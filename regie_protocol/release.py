"""The data release: what a wallet seals for one verifier under one consent, as a JWE.

When a citizen approves a request, the wallet presents each credential the
consent covers (SD-JWT with key binding: ``aud`` the verifier, ``nonce`` the
consent id), puts the presentations in a :class:`ReleaseContent` and encrypts
it to the verifier's registered X25519 key. The wallet host hands the sealed
release to the verifier on each consented read; the host itself cannot read it.

Wire format: JWE compact serialisation (RFC 7516), ``alg: ECDH-ES`` (direct key
agreement, RFC 7518 §4.6) with an ephemeral X25519 key (RFC 8037),
``enc: A256GCM``, ``kid`` the RFC 7638 thumbprint of the recipient key,
``typ: regie-release+jwe`` and ``cty: regie-release+json``. The plaintext is
the compact JSON of :meth:`ReleaseContent.to_json`; every object is closed
(unknown members refused).

The JOSE work (ECDH, Concat KDF, AES-GCM) is joserfc's. Before joserfc sees a
release, this module checks what joserfc would otherwise accept on the token's
word: the size, the five parts and their base64url, a protected header with
exactly the six members above (no ``zip``, ``crit``, ``jku``, ``apu`` ...),
``alg``/``enc`` exactly, an ``epk`` that is a canonical X25519 public key of
full order, an empty encrypted key, a 96-bit IV and a 128-bit tag. Every
failure is ``RELEASE_INVALID``: ``MalformedInput`` for the shape and header,
``ClaimRefused`` for a release sealed to a key the caller does not hold or
whose content is not a valid :class:`ReleaseContent`, ``SignatureRefused``
when decryption fails (altered, or sealed to another key under a copied ``kid``).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._encoding import b64url_decode, dumps_compact, loads_strict
from .consent import _fields as f
from .errors import ClaimRefused, Code, MalformedInput, Misuse, Refused, SignatureRefused
from .keys import EncryptionKey, EncryptionPublicKey, Unprotected
from .limits import DEFAULT_LIMITS

RELEASE_CTY = "regie-release+json"
RELEASE_TYP = "regie-release+jwe"
MAX_RELEASE_BYTES = 256 * 1024
#: presentations in one release: one per credential type of the consent
MAX_PRESENTATIONS = 16
MAX_PRESENTATION_BYTES = DEFAULT_LIMITS.max_sd_jwt_bytes
RELEASE_ALG = "ECDH-ES"
RELEASE_ENC = "A256GCM"

_HEADER_MEMBERS = frozenset({"alg", "enc", "epk", "kid", "typ", "cty"})
_EPK_MEMBERS = frozenset({"kty", "crv", "x"})
_CONTENT_MEMBERS = frozenset({"consent_id", "presentations", "sealed_at"})
_ALGORITHMS = (RELEASE_ALG, RELEASE_ENC)
_MAX_HEADER_BYTES = 1024
#: an SD-JWT (with its key binding JWT) is base64url segments joined by '.' and '~'
_PRESENTATION = re.compile(r"[A-Za-z0-9_\-.~]+")
_MAX_TIME = 2**53


def _refuse(message: str, kind: type[Refused] = MalformedInput) -> Refused:
    return kind(f"data release: {message}", code=Code.RELEASE_INVALID)


@dataclass(frozen=True, slots=True)
class ReleaseContent:
    """The plaintext of a release: the presentations for one consent, and when they were made."""

    consent_id: str
    presentations: tuple[str, ...]
    sealed_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "consent_id": self.consent_id,
            "presentations": list(self.presentations),
            "sealed_at": self.sealed_at,
        }

    @classmethod
    def from_json(cls, value: Any) -> ReleaseContent:
        """Validate a release's plaintext JSON (``ClaimRefused`` with ``RELEASE_INVALID``)."""
        if not isinstance(value, dict):
            raise _refuse("the content is not a JSON object", ClaimRefused)
        missing = _CONTENT_MEMBERS - value.keys()
        if missing:
            raise _refuse(f"the content has no {sorted(missing)[0]!r}", ClaimRefused)
        unknown = value.keys() - _CONTENT_MEMBERS
        if unknown:
            raise _refuse(f"the content has unknown member(s) {sorted(unknown)}", ClaimRefused)
        try:
            consent_id = f.identifier(value["consent_id"], "consent_id")
        except ClaimRefused:
            raise _refuse("consent_id is not a consent id", ClaimRefused) from None
        presentations = value["presentations"]
        if not isinstance(presentations, list) or not 1 <= len(presentations) <= MAX_PRESENTATIONS:
            raise _refuse(
                f"presentations is not an array of 1 to {MAX_PRESENTATIONS} entries", ClaimRefused
            )
        for i, item in enumerate(presentations):
            if (
                not isinstance(item, str)
                or len(item) > MAX_PRESENTATION_BYTES
                or not _PRESENTATION.fullmatch(item)
            ):
                raise _refuse(
                    f"presentations[{i}] is not an SD-JWT presentation of at most "
                    f"{MAX_PRESENTATION_BYTES} characters",
                    ClaimRefused,
                )
        if len(set(presentations)) != len(presentations):
            raise _refuse("presentations lists one presentation twice", ClaimRefused)
        sealed_at = value["sealed_at"]
        if type(sealed_at) is not int or not 0 <= sealed_at < _MAX_TIME:
            raise _refuse("sealed_at is not an integer NumericDate", ClaimRefused)
        return cls(consent_id=consent_id, presentations=tuple(presentations), sealed_at=sealed_at)


def _joserfc_key(jwk: Mapping[str, Any]) -> Any:
    from joserfc.jwk import OKPKey

    return OKPKey.import_key(dict(jwk))


@cache
def _registry() -> Any:
    """joserfc's JWE registry for releases: the two algorithms, and room for the size limit.

    joserfc's default registry refuses ciphertexts over 64 KiB, below what a
    release may hold; the limit that matters is :data:`MAX_RELEASE_BYTES`,
    checked before joserfc sees the release.
    """
    from joserfc.jwe import JWERegistry

    class ReleaseRegistry(JWERegistry):
        max_protected_header_length = _MAX_HEADER_BYTES
        max_ciphertext_length = MAX_RELEASE_BYTES

    return ReleaseRegistry(algorithms=list(_ALGORITHMS))


def encrypt_release(content: ReleaseContent, *, recipient: EncryptionPublicKey) -> str:
    """Seal ``content`` for ``recipient`` (a verifier's registered encryption key)."""
    from joserfc import jwe
    from joserfc.errors import SecurityWarning

    if not isinstance(content, ReleaseContent) or not isinstance(recipient, EncryptionPublicKey):
        raise Misuse("encrypt_release takes ReleaseContent and an EncryptionPublicKey")
    payload = content.to_json()
    try:
        checked = ReleaseContent.from_json(payload)
    except ClaimRefused as exc:
        raise Misuse(f"this release would be refused: {exc.message}") from None
    if checked != content:
        raise Misuse("the release does not survive its own JSON form (check the field types)")
    recipient.check_strong()
    header = {
        "alg": RELEASE_ALG,
        "enc": RELEASE_ENC,
        "kid": recipient.thumbprint(),
        "typ": RELEASE_TYP,
        "cty": RELEASE_CTY,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        sealed = jwe.encrypt_compact(
            header,
            dumps_compact(payload),
            _joserfc_key(recipient.required_members()),
            registry=_registry(),
        )
    if len(sealed) > MAX_RELEASE_BYTES:
        raise Misuse(
            f"the sealed release has {len(sealed)} bytes; at most {MAX_RELEASE_BYTES} are "
            "accepted: release fewer or smaller credentials"
        )
    return sealed


@dataclass(frozen=True, slots=True)
class _Parts:
    kid: str
    compact: str


def _parse(jwe: str | bytes) -> _Parts:
    """Check the compact JWE's shape and protected header before any key is used."""
    if len(jwe) > MAX_RELEASE_BYTES:
        raise _refuse(f"it has {len(jwe)} bytes; at most {MAX_RELEASE_BYTES} are accepted")
    if isinstance(jwe, bytes):
        try:
            jwe = jwe.decode("ascii")
        except UnicodeDecodeError:
            raise _refuse("a compact JWE is ASCII") from None
    parts = jwe.split(".")
    if len(parts) != 5:
        raise _refuse(f"a compact JWE has 5 parts separated by '.', not {len(parts)}")
    protected, encrypted_key, iv, ciphertext, tag = parts
    if len(protected) > _MAX_HEADER_BYTES:
        raise _refuse(f"the protected header is longer than {_MAX_HEADER_BYTES} characters")
    try:
        header = loads_strict(
            b64url_decode(protected, what="JWE header"), max_depth=3, what="JWE header"
        )
        if b64url_decode(encrypted_key, what="JWE encrypted key"):
            raise _refuse("ECDH-ES carries no encrypted key, but this release has one")
        if len(b64url_decode(iv, what="JWE IV")) != 12:
            raise _refuse("the A256GCM IV is not 96 bits")
        b64url_decode(ciphertext, what="JWE ciphertext")
        if len(b64url_decode(tag, what="JWE tag")) != 16:
            raise _refuse("the A256GCM tag is not 128 bits")
    except MalformedInput as exc:
        if exc.code is Code.RELEASE_INVALID:
            raise
        raise _refuse(exc.message) from None
    kid = _check_header(header)
    return _Parts(kid=kid, compact=jwe)


def _check_header(header: Any) -> str:
    if not isinstance(header, dict):
        raise _refuse("the protected header is not a JSON object")
    if header.keys() != _HEADER_MEMBERS:
        wrong = sorted(header.keys() ^ _HEADER_MEMBERS)
        raise _refuse(f"the protected header has exactly {sorted(_HEADER_MEMBERS)}; not {wrong}")
    if header["alg"] != RELEASE_ALG or header["enc"] != RELEASE_ENC:
        raise _refuse(
            f"alg {header['alg']!r} / enc {header['enc']!r} are not "
            f"{RELEASE_ALG!r} / {RELEASE_ENC!r}"
        )
    if header["typ"] != RELEASE_TYP or header["cty"] != RELEASE_CTY:
        raise _refuse(f"typ/cty are not {RELEASE_TYP!r}/{RELEASE_CTY!r}: this is not a release")
    epk = header["epk"]
    if not isinstance(epk, dict) or epk.keys() != _EPK_MEMBERS:
        raise _refuse(f"epk is not a JWK with exactly {sorted(_EPK_MEMBERS)}")
    try:
        EncryptionPublicKey.from_jwk(epk, registering=True)
    except Refused as exc:
        raise _refuse(f"epk is not a usable X25519 public key ({exc.message})") from None
    kid = header["kid"]
    if not isinstance(kid, str) or not kid:
        raise _refuse("kid is not a key thumbprint")
    return kid


def _select(kid: str, keys: EncryptionKey | Mapping[str, EncryptionKey]) -> EncryptionKey:
    if isinstance(keys, EncryptionKey):
        if kid != keys.public_key.thumbprint():
            raise _refuse(
                "it is encrypted to another key than this verifier's; check that the "
                "registered encryption key is the one in the identity file",
                ClaimRefused,
            )
        return keys
    key = keys.get(kid)
    if key is None:
        raise _refuse(
            "it is encrypted to a key this verifier does not hold (an old or other key?)",
            ClaimRefused,
        )
    if not isinstance(key, EncryptionKey):
        raise Misuse("keys maps thumbprints to EncryptionKey")
    return key


def decrypt_release(
    jwe: str | bytes, *, keys: EncryptionKey | Mapping[str, EncryptionKey]
) -> ReleaseContent:
    """Open a release sealed to one of ``keys`` (a Mapping is keyed by thumbprint)."""
    from joserfc import jwe as joserfc_jwe
    from joserfc.errors import JoseError, SecurityWarning

    parts = _parse(jwe)
    key = _select(parts.kid, keys)
    private = json.loads(key.export_private_jwk(protection=Unprotected()))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            opened = joserfc_jwe.decrypt_compact(
                parts.compact, _joserfc_key(private), registry=_registry()
            )
    except (JoseError, ValueError, TypeError, KeyError):
        raise _refuse(
            "it does not decrypt: it was altered, or sealed to another key", SignatureRefused
        ) from None
    plaintext = opened.plaintext or b""
    try:
        value = loads_strict(plaintext, max_depth=4, what="release content")
    except MalformedInput as exc:
        raise _refuse(exc.message) from None
    return ReleaseContent.from_json(value)


__all__ = [
    "MAX_PRESENTATIONS",
    "MAX_PRESENTATION_BYTES",
    "MAX_RELEASE_BYTES",
    "RELEASE_ALG",
    "RELEASE_CTY",
    "RELEASE_ENC",
    "RELEASE_TYP",
    "ReleaseContent",
    "decrypt_release",
    "encrypt_release",
]
