"""A verifier's identity: its https identifier, its name, a signing key and an encryption key.

The signing key signs consent requests and DPoP proofs (its RFC 7638
thumbprint is the ``cnf.jkt`` of every consent the verifier collects); the
X25519 encryption key opens the releases a wallet host hands out. Both are
registered with a registrar (``regie registry add``), which is what wallets
trust.

The identity file is JSON, mode 0600 (refused when others can read it)::

    {"version": 1, "id": "https://...", "name": "...",
     "signingKey": {private JWK}, "encryptionKey": {private X25519 JWK}}

Unknown members are refused: a later format raises ``version``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import KeyRefused, MalformedInput, Misuse
from regie_protocol.keys import Alg, EncryptionKey, SigningKey, Unprotected
from regie_protocol.private_files import check_private_file, write_private_file

IDENTITY_VERSION = 1
MAX_IDENTITY_BYTES = 64 * 1024
MAX_NAME = 200
#: the registry's spelling of a verifier id: https, lower-case host, optional port and path
_HTTPS_ID = re.compile(
    r"https://[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?::[1-9][0-9]{0,4})?(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)*"
)
_MEMBERS = frozenset({"version", "id", "name", "signingKey", "encryptionKey"})


def check_verifier_id(value: str) -> str:
    """A verifier id as the registry spells it (``https://host[:port][/path]``), else Misuse."""
    if not isinstance(value, str) or len(value) > 256 or not _HTTPS_ID.fullmatch(value):
        raise Misuse(
            f"a verifier id is an https:// URL with a lower-case host and no trailing slash, "
            f"query or fragment, not {value!r}"
        )
    return value


def _check_name(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise Misuse(f"a verifier name is non-empty text of at most {MAX_NAME} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        raise Misuse("a verifier name has no control or invisible formatting characters")
    return unicodedata.normalize("NFC", value)


@dataclass(frozen=True, slots=True, repr=False)
class VerifierIdentity:
    """Who a verifier is and the private keys it acts with. Its repr shows no key material."""

    id: str
    name: str
    signing_key: SigningKey
    encryption_key: EncryptionKey

    def __post_init__(self) -> None:
        check_verifier_id(self.id)
        object.__setattr__(self, "name", _check_name(self.name))

    @classmethod
    def generate(cls, verifier_id: str, name: str, *, alg: Alg = Alg.EDDSA) -> VerifierIdentity:
        """A new identity with fresh keys (``alg``: EdDSA or ES256 for the signing key)."""
        if Alg(alg) not in (Alg.EDDSA, Alg.ES256):
            raise Misuse("a verifier signs with EdDSA or ES256")
        return cls(verifier_id, name, SigningKey.generate(alg), EncryptionKey.generate())

    @property
    def jkt(self) -> str:
        """RFC 7638 thumbprint of the signing key: the ``cnf.jkt`` of its consents."""
        return self.signing_key.public_key.thumbprint()

    def public_jwks(self) -> dict[str, Any]:
        """``{"keys": [signing JWK, encryption JWK]}`` (public members only)."""
        return {
            "keys": [self.signing_key.public_key.to_jwk(), self.encryption_key.public_key.to_jwk()]
        }

    def registration(
        self,
        *,
        attributes: Iterable[str],
        purposes: Iterable[str],
        legal_bases: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The registration entry a registrar signs (``RegisteredVerifier.from_json`` form)."""
        for name, value in (("attributes", attributes), ("purposes", purposes)):
            if isinstance(value, str):
                raise Misuse(f"{name} is a collection, not one string")
        return {
            "id": self.id,
            "name": self.name,
            "signing_keys": [self.signing_key.public_key.to_jwk()],
            "encryption_keys": [self.encryption_key.public_key.to_jwk()],
            "attributes": sorted(set(attributes)),
            "purposes": sorted(set(purposes)),
            "legal_bases": sorted(set(legal_bases)),
        }

    def to_private_json(self, *, protection: Unprotected) -> dict[str, Any]:
        """The identity with its private keys: the caller says ``Unprotected()`` on purpose."""
        if not isinstance(protection, Unprotected):
            raise Misuse("an identity file is protected by its mode (0600): pass Unprotected()")
        return {
            "version": IDENTITY_VERSION,
            "id": self.id,
            "name": self.name,
            "signingKey": json.loads(self.signing_key.export_private_jwk(protection=protection)),
            "encryptionKey": json.loads(
                self.encryption_key.export_private_jwk(protection=protection)
            ),
        }

    @classmethod
    def from_private_json(cls, value: Any) -> VerifierIdentity:
        """Read an identity file's JSON strictly (MalformedInput / KeyRefused / Misuse)."""
        if not isinstance(value, dict):
            raise MalformedInput("a verifier identity is a JSON object")
        if value.keys() != _MEMBERS:
            missing, extra = _MEMBERS - value.keys(), value.keys() - _MEMBERS
            raise MalformedInput(
                f"a verifier identity has exactly {sorted(_MEMBERS)} "
                f"(missing {sorted(missing)}, unknown {sorted(extra)})"
            )
        if value["version"] != IDENTITY_VERSION or type(value["version"]) is not int:
            raise MalformedInput(f"this Regie reads verifier identity version {IDENTITY_VERSION}")
        signing, encryption = value["signingKey"], value["encryptionKey"]
        if not isinstance(signing, dict) or not isinstance(encryption, dict):
            raise KeyRefused("the identity's keys are JWK objects")
        return cls(
            id=value["id"],
            name=value["name"],
            signing_key=SigningKey.from_private_jwk(signing),
            encryption_key=EncryptionKey.from_private_jwk(encryption),
        )

    def __repr__(self) -> str:
        return f"<VerifierIdentity {self.id} {self.jkt}>"


def save_identity(identity: VerifierIdentity, path: Path, *, overwrite: bool = False) -> None:
    """Write the identity file atomically with mode 0600."""
    if path.exists() and not overwrite:
        raise Misuse(f"{path} exists; pass --force to replace it (its keys would be lost)")
    text = json.dumps(identity.to_private_json(protection=Unprotected()), indent=2)
    write_private_file(path, text + "\n")


def load_identity(path: Path) -> VerifierIdentity:
    """Read an identity file; refused when others can read it or it is not one."""
    if not path.is_file():
        raise Misuse(f"no verifier identity at {path}: run 'regie verifier keygen' first")
    check_private_file(path)
    data = path.read_bytes()
    if len(data) > MAX_IDENTITY_BYTES:
        raise MalformedInput(f"{path} is larger than {MAX_IDENTITY_BYTES} bytes")
    value = loads_strict(data, max_depth=8, what="verifier identity")
    return VerifierIdentity.from_private_json(value)


__all__ = [
    "IDENTITY_VERSION",
    "VerifierIdentity",
    "check_verifier_id",
    "load_identity",
    "save_identity",
]
