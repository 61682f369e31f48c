"""Keys: Ed25519 and P-256 signing keys, X25519 encryption keys, as JWK.

* Public keys are imported with :func:`public_key_from_jwk`, which refuses a
  private key where a public one is expected, and (with ``registering=True``)
  weak or non-canonical points.
* A signing key exports its private JWK only when the caller names the
  protection: :class:`Unprotected` or :class:`Passphrase` (STYLE habit 11).
* Thumbprints follow RFC 7638, thumbprint URIs RFC 9278. A public key computes
  its thumbprint once: its key material never changes.

Ed25519 runs on libsodium (PyNaCl): it verifies about twice as fast as
OpenSSL here and rejects non-canonical and small-order encodings
(docs/decisions/0003-key-types-and-ed25519-backend.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ._encoding import b64url_decode, b64url_encode, loads_strict
from .errors import Code, KeyRefused, Misuse, SignatureRefused
from .limits import DEFAULT_LIMITS

THUMBPRINT_URI_PREFIX = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"

#: JWK members that only a private (or symmetric) key has
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_X25519_P = 2**255 - 19
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_P256_ORDER = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)


class Alg(StrEnum):
    """JWS algorithms Regie signs with. ``EdDSA`` is written; ``Ed25519`` (RFC 9864) is read."""

    EDDSA = "EdDSA"
    ED25519 = "Ed25519"
    ES256 = "ES256"


def thumbprint_of(members: dict[str, str]) -> str:
    """RFC 7638 SHA-256 thumbprint of the required public members."""
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


class PublicKey:
    """A public signature-verification key. Subclasses are typed per algorithm (T2)."""

    kty: ClassVar[str]
    crv: ClassVar[str]
    #: JWS ``alg`` values this key verifies; the key record decides, never the token
    algs: ClassVar[frozenset[str]]
    #: the ``alg`` value Regie writes for this key type
    sign_alg: ClassVar[Alg]
    #: the RFC 7638 thumbprint, computed on first use (the key material never changes)
    _thumbprint: str

    def verify(self, message: bytes, signature: bytes) -> None:
        raise NotImplementedError

    def required_members(self) -> dict[str, str]:
        raise NotImplementedError

    def to_jwk(self) -> dict[str, str]:
        return {**self.required_members(), "kid": self.thumbprint(), "alg": self.sign_alg.value}

    def thumbprint(self) -> str:
        try:
            return self._thumbprint
        except AttributeError:
            value = self._thumbprint = thumbprint_of(self.required_members())
            return value

    def thumbprint_uri(self) -> str:
        return THUMBPRINT_URI_PREFIX + self.thumbprint()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and hmac.compare_digest(
            self.thumbprint(), other.thumbprint()
        )

    def __hash__(self) -> int:
        return hash(self.thumbprint())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.thumbprint()}>"


class Ed25519PublicKey(PublicKey):
    kty = "OKP"
    crv = "Ed25519"
    algs = frozenset({Alg.EDDSA.value, Alg.ED25519.value})
    sign_alg = Alg.EDDSA

    __slots__ = ("_raw", "_thumbprint")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise KeyRefused(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
        self._raw = raw

    @property
    def raw(self) -> bytes:
        return self._raw

    def verify(self, message: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise SignatureRefused(f"an Ed25519 signature has 64 bytes, not {len(signature)}")
        try:
            nacl.bindings.crypto_sign_open(signature + message, self._raw)
        except nacl.exceptions.BadSignatureError:
            raise SignatureRefused("the signature does not verify") from None

    def check_strong(self) -> None:
        # libsodium: canonical encoding, on the curve, not of small order, main subgroup
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(self._raw):
            raise KeyRefused(
                "the Ed25519 public key is of small order or not canonically encoded",
                code=Code.KEY_WEAK,
            )

    def required_members(self) -> dict[str, str]:
        return {"crv": self.crv, "kty": self.kty, "x": b64url_encode(self._raw)}


class P256PublicKey(PublicKey):
    kty = "EC"
    crv = "P-256"
    algs = frozenset({Alg.ES256.value})
    sign_alg = Alg.ES256

    __slots__ = ("_key", "_thumbprint", "_x", "_y")

    def __init__(self, x: bytes, y: bytes) -> None:
        if len(x) != 32 or len(y) != 32:
            raise KeyRefused("P-256 coordinates have 32 bytes each")
        try:
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            self._key = numbers.public_key()
        except ValueError:
            raise KeyRefused("the P-256 point is not on the curve") from None
        self._x, self._y = x, y

    @classmethod
    def from_cryptography(cls, key: ec.EllipticCurvePublicKey) -> P256PublicKey:
        numbers = key.public_numbers()
        return cls(numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big"))

    @property
    def cryptography_key(self) -> ec.EllipticCurvePublicKey:
        return self._key

    def verify(self, message: bytes, signature: bytes) -> None:
        if len(signature) != 64:
            raise SignatureRefused(f"an ES256 signature has 64 bytes, not {len(signature)}")
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < _P256_ORDER and 0 < s < _P256_ORDER):
            raise SignatureRefused("the signature does not verify")
        try:
            self._key.verify(encode_dss_signature(r, s), message, _ECDSA_SHA256)
        except InvalidSignature:
            raise SignatureRefused("the signature does not verify") from None

    def check_strong(self) -> None:
        """The point was checked to be on the curve at construction; nothing more to do."""

    def required_members(self) -> dict[str, str]:
        return {
            "crv": self.crv,
            "kty": self.kty,
            "x": b64url_encode(self._x),
            "y": b64url_encode(self._y),
        }


@dataclass(frozen=True, slots=True)
class Unprotected:
    """Export a private key in plaintext. Say so on purpose: the file must be guarded."""


@dataclass(frozen=True, slots=True, repr=False)
class Passphrase:
    """Export a private key encrypted under a passphrase (JWE, PBES2)."""

    passphrase: str

    def __repr__(self) -> str:
        return "Passphrase(***)"


PrivateKeyProtection = Unprotected | Passphrase


class SigningKey:
    """A private signing key. Its repr never shows key material."""

    __slots__ = ("_ed", "_p256", "public_key")

    def __init__(
        self,
        *,
        ed25519: nacl.signing.SigningKey | None = None,
        p256: ec.EllipticCurvePrivateKey | None = None,
    ) -> None:
        if (ed25519 is None) == (p256 is None):
            raise Misuse("a SigningKey holds exactly one of an Ed25519 or a P-256 key")
        self._ed = ed25519
        self._p256 = p256
        self.public_key: Ed25519PublicKey | P256PublicKey
        if ed25519 is not None:
            self.public_key = Ed25519PublicKey(bytes(ed25519.verify_key))
        else:
            assert p256 is not None
            self.public_key = P256PublicKey.from_cryptography(p256.public_key())

    @classmethod
    def generate(cls, alg: Alg | str = Alg.EDDSA) -> SigningKey:
        alg = Alg(alg)
        if alg in (Alg.EDDSA, Alg.ED25519):
            return cls(ed25519=nacl.signing.SigningKey.generate())
        return cls(p256=ec.generate_private_key(ec.SECP256R1()))

    @property
    def alg(self) -> Alg:
        return self.public_key.sign_alg

    @property
    def kid(self) -> str:
        return self.public_key.thumbprint()

    def sign(self, message: bytes) -> bytes:
        if self._ed is not None:
            return self._ed.sign(message).signature
        assert self._p256 is not None
        r, s = decode_dss_signature(self._p256.sign(message, _ECDSA_SHA256))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def _private_jwk(self) -> dict[str, str]:
        jwk = self.public_key.to_jwk()
        if self._ed is not None:
            jwk["d"] = b64url_encode(bytes(self._ed))
        else:
            assert self._p256 is not None
            jwk["d"] = b64url_encode(self._p256.private_numbers().private_value.to_bytes(32, "big"))
        return jwk

    def export_private_jwk(self, *, protection: PrivateKeyProtection) -> str:
        """The private JWK as JSON text, or as a PBES2 JWE when a passphrase is given."""
        text = json.dumps(self._private_jwk(), indent=2)
        if isinstance(protection, Unprotected):
            return text
        from joserfc import jwe

        key = _passphrase_key(protection.passphrase)
        header = {
            "alg": _PBES2_ALGS[0],
            "enc": _PBES2_ALGS[1],
            "cty": "jwk+json",
            "p2c": _PBES2_ITERATIONS,
        }
        return jwe.encrypt_compact(header, text.encode("utf-8"), key, algorithms=_PBES2_ALGS)

    @classmethod
    def from_private_jwk(cls, jwk: dict[str, Any]) -> SigningKey:
        d = _member(jwk, "d")
        kty, crv = jwk.get("kty"), jwk.get("crv")
        if kty == "OKP" and crv == "Ed25519":
            seed = b64url_decode(d, what="JWK member d")
            if len(seed) != 32:
                raise KeyRefused("an Ed25519 private key has 32 bytes")
            key = cls(ed25519=nacl.signing.SigningKey(seed))
        elif kty == "EC" and crv == "P-256":
            scalar = b64url_decode(d, what="JWK member d")
            if len(scalar) != 32 or not 0 < int.from_bytes(scalar, "big") < _P256_ORDER:
                raise KeyRefused("a P-256 private key is a 32-byte scalar below the group order")
            key = cls(p256=ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1()))
        else:
            raise KeyRefused(f"unsupported signing key type kty={kty!r} crv={crv!r}")
        if "x" in jwk and public_key_from_jwk(_public_part(jwk)) != key.public_key:
            raise KeyRefused("the JWK's public part does not belong to its private part")
        return key

    @classmethod
    def from_private_jwk_text(cls, text: str, *, passphrase: str | None = None) -> SigningKey:
        if text.count(".") == 4 and not text.lstrip().startswith("{"):
            if passphrase is None:
                raise Misuse("this private key is encrypted: a passphrase is needed")
            from joserfc import jwe
            from joserfc.errors import JoseError

            key = _passphrase_key(passphrase)
            try:
                text = (
                    jwe.decrypt_compact(text.strip(), key, algorithms=_PBES2_ALGS).plaintext or b""
                ).decode("utf-8")
            except (JoseError, ValueError):
                raise KeyRefused("the passphrase is wrong or the key file is damaged") from None
        return cls.from_private_jwk(parse_jwk_text(text))

    def __repr__(self) -> str:
        return f"<SigningKey {self.alg.value} {self.kid}>"


#: private-key files: PBES2 with a work factor near OWASP's PBKDF2-HMAC-SHA512 advice
_PBES2_ALGS = ("PBES2-HS512+A256KW", "A256GCM")
_PBES2_ITERATIONS = 210_000


def _passphrase_key(passphrase: str) -> Any:
    """The passphrase as joserfc's PBES2 input (its HMAC key-size warning does not apply)."""
    from joserfc.errors import SecurityWarning
    from joserfc.jwk import OctKey

    if not passphrase:
        raise Misuse("an empty passphrase protects nothing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        try:
            return OctKey.import_key(passphrase.encode("utf-8"))
        except ValueError:
            raise Misuse("this passphrase cannot be used (it looks like a key)") from None


def _member(jwk: dict[str, Any], name: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise KeyRefused(f"JWK member {name!r} is missing or not a string")
    return value


def _public_part(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}


def parse_jwk_text(text: str | bytes) -> dict[str, Any]:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > DEFAULT_LIMITS.max_jwk_bytes:
        raise KeyRefused(f"a JWK is at most {DEFAULT_LIMITS.max_jwk_bytes} bytes")
    value = loads_strict(raw, max_depth=4, what="JWK")
    if not isinstance(value, dict):
        raise KeyRefused("a JWK is a JSON object")
    return value


def public_key_from_jwk(jwk: dict[str, Any], *, registering: bool = False) -> PublicKey:
    """Import a public signing key. A private key is refused; weak keys too when registering.

    Members other than the key's own (``kid``, ``alg``, ``use``, ...) are ignored;
    the key material alone decides which algorithms the key verifies.
    """
    if not isinstance(jwk, dict):
        raise KeyRefused("a JWK is a JSON object")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise KeyRefused(
            "a private key was given where a public key is expected",
            code=Code.PRIVATE_KEY_REFUSED,
        )
    kty, crv = jwk.get("kty"), jwk.get("crv")
    key: Ed25519PublicKey | P256PublicKey
    if kty == "OKP" and crv == "Ed25519":
        key = Ed25519PublicKey(b64url_decode(_member(jwk, "x"), what="JWK member x"))
    elif kty == "EC" and crv == "P-256":
        key = P256PublicKey(
            b64url_decode(_member(jwk, "x"), what="JWK member x"),
            b64url_decode(_member(jwk, "y"), what="JWK member y"),
        )
    else:
        raise KeyRefused(f"unsupported signing key type kty={kty!r} crv={crv!r}")
    alg = jwk.get("alg")
    if alg is not None and (not isinstance(alg, str) or alg not in key.algs):
        raise KeyRefused(f"the JWK names alg {alg!r}, which its key type cannot use")
    if registering:
        key.check_strong()
    return key


class EncryptionPublicKey:
    """An X25519 public key for ECDH-ES JWE (a verifier's encryption key)."""

    __slots__ = ("_key", "_raw")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise KeyRefused(f"an X25519 public key has 32 bytes, not {len(raw)}")
        self._raw = raw
        self._key = x25519.X25519PublicKey.from_public_bytes(raw)

    @property
    def raw(self) -> bytes:
        return self._raw

    def check_strong(self) -> None:
        """Refuse low-order points (the exchange yields zero) and non-canonical encodings.

        A u-coordinate with bit 255 set or at least p is never written by a
        conforming implementation; one that skips RFC 7748's masking would read
        some of them (2p - 1, 2p, 2p + 1, u + p) as low-order points.
        """
        if self._raw[31] & 0x80 or int.from_bytes(self._raw, "little") >= _X25519_P:
            raise KeyRefused("the X25519 public key is not canonically encoded", code=Code.KEY_WEAK)
        try:
            x25519.X25519PrivateKey.generate().exchange(self._key)
        except ValueError:
            raise KeyRefused("the X25519 public key is of low order", code=Code.KEY_WEAK) from None

    def required_members(self) -> dict[str, str]:
        return {"crv": "X25519", "kty": "OKP", "x": b64url_encode(self._raw)}

    def thumbprint(self) -> str:
        return thumbprint_of(self.required_members())

    def to_jwk(self) -> dict[str, str]:
        return {**self.required_members(), "kid": self.thumbprint(), "use": "enc"}

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any], *, registering: bool = False) -> EncryptionPublicKey:
        if not isinstance(jwk, dict):
            raise KeyRefused("a JWK is a JSON object")
        if _PRIVATE_MEMBERS & jwk.keys():
            raise KeyRefused(
                "a private key was given where a public key is expected",
                code=Code.PRIVATE_KEY_REFUSED,
            )
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "X25519":
            raise KeyRefused("an encryption key is an OKP JWK on X25519")
        key = cls(b64url_decode(_member(jwk, "x"), what="JWK member x"))
        if registering:
            key.check_strong()
        return key

    def __repr__(self) -> str:
        return f"<EncryptionPublicKey {self.thumbprint()}>"


class EncryptionKey:
    """An X25519 private key. Its repr never shows key material."""

    __slots__ = ("_key", "public_key")

    def __init__(self, key: x25519.X25519PrivateKey) -> None:
        self._key = key
        self.public_key = EncryptionPublicKey(key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(x25519.X25519PrivateKey.generate())

    def export_private_jwk(self, *, protection: PrivateKeyProtection) -> str:
        jwk = {**self.public_key.to_jwk(), "d": b64url_encode(self._key.private_bytes_raw())}
        if isinstance(protection, Passphrase):
            raise Misuse("passphrase export of encryption keys arrives with the wallet vault")
        return json.dumps(jwk, indent=2)

    @classmethod
    def from_private_jwk(cls, jwk: dict[str, Any]) -> EncryptionKey:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "X25519":
            raise KeyRefused("an encryption key is an OKP JWK on X25519")
        raw = b64url_decode(_member(jwk, "d"), what="JWK member d")
        if len(raw) != 32:
            raise KeyRefused("an X25519 private key has 32 bytes")
        return cls(x25519.X25519PrivateKey.from_private_bytes(raw))

    def __repr__(self) -> str:
        return f"<EncryptionKey {self.public_key.thumbprint()}>"


def random_bytes(n: int) -> bytes:
    """CSPRNG bytes (the OS generator)."""
    return os.urandom(n)


__all__ = [
    "THUMBPRINT_URI_PREFIX",
    "Alg",
    "Ed25519PublicKey",
    "EncryptionKey",
    "EncryptionPublicKey",
    "P256PublicKey",
    "Passphrase",
    "PrivateKeyProtection",
    "PublicKey",
    "SigningKey",
    "Unprotected",
    "parse_jwk_text",
    "public_key_from_jwk",
    "thumbprint_of",
]
