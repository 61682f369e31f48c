"""The verifier registry: a trust list of registered verifiers, signed by a registrar.

A registrar (the role of a Yivi scheme manager or an EUDI registrar) signs one
JWT, ``typ: regie-registry+jwt``, listing every verifier it registered: its
identifier, name, signing and encryption keys, and the attributes and DPV
purposes it may ask for. A wallet trusts the registrar's key, not the
verifiers'; :meth:`Registry.check_request` is the over-asking check (T14,
ARF RPRC_21) run before a citizen sees a request or a grant is signed.

::

    registry = Registry.new("https://registrar.example", now=now)
    registry = registry.with_verifier(verifier, now=now)
    token = registry.sign(registrar_key)
    registry = verify_registry(token, registrar_keys=trusted, now=now, min_version=seen)
    registry.check_request(verifier_id, ["age_over_18"], DPV + "ServiceProvision")

Claims: ``iss`` (registrar id), ``iat``, ``exp``, ``version`` (a positive
integer, raised by one on every change) and ``verifiers`` (an array of
objects, sorted by ``id``). Every object is closed: an unknown member is
refused, never ignored, because it could widen a registration.

Refused (besides the JWS rules of :mod:`regie_protocol.jws`): a ``version``
below ``min_version`` (``VERSION_ROLLBACK``: a replayed older list could
restore a withdrawn registration); two entries with one ``id``; one key
registered twice or for two verifiers (a key names exactly one verifier,
T15); a weak or private key; a purpose that is not a DPV purpose IRI; an
attribute that is not a canonical attribute id (no normalisation: NFD, upper
case, look-alikes are refused); a name with control or format characters
(bidi overrides, zero-width) or not in NFC; identifiers other than plain
``https://host[/path]`` URLs.

A registry expires (``exp``, by default a year after ``iat``, at most
:data:`MAX_LIFETIME`) so that a wallet left with a stale list notices it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from . import jws, vocab
from .consent import _fields
from .errors import ClaimRefused, Code, Misuse, SignatureRefused
from .keys import Alg, EncryptionPublicKey, PublicKey, SigningKey, public_key_from_jwk
from .limits import DEFAULT_LIMITS, Limits

REGISTRY_TYP = "regie-registry+jwt"
#: the lifetime a new or re-signed registry gets unless the registrar says otherwise
DEFAULT_LIFETIME = 365 * 86400
#: the longest a registry may run (``exp - iat``): 400 days
MAX_LIFETIME = 400 * 86400
#: a registry JWS is larger than a consent token: up to 1 MiB
MAX_REGISTRY_BYTES = 1 << 20
MAX_VERIFIERS = 1000
MAX_KEYS = 8
MAX_ITEMS = 64
MAX_NAME = 200

REGISTRY_PROFILE = jws.TokenProfile(
    name="verifier registry",
    typ=REGISTRY_TYP,
    algs=frozenset({Alg.EDDSA.value, Alg.ED25519.value, Alg.ES256.value}),
    required_claims=frozenset({"iss", "iat", "exp", "version", "verifiers"}),
    max_lifetime=MAX_LIFETIME,
    required_times=frozenset({"iat", "exp"}),
    max_bytes=MAX_REGISTRY_BYTES,
)

#: ``https://`` + lower-case host + optional port + optional path of unreserved characters
#: (no percent-encoding, no ``.``/``..`` segments); no slash at the end, no query,
#: fragment or user info: one spelling per identifier
_HTTPS_ID = re.compile(
    r"https://[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?::[1-9][0-9]{0,4})?(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)*"
)
_MAX_ID = 256
_MAX_TIME = 2**53
_TOP = frozenset({"iss", "iat", "exp", "version", "verifiers"})
_VERIFIER_REQUIRED = frozenset({"id", "name", "signing_keys", "attributes", "purposes"})
_VERIFIER_OPTIONAL = frozenset({"encryption_keys", "legal_bases"})


def _refuse(path: str, reason: str, *, code: Code = Code.CLAIM_INVALID) -> ClaimRefused:
    return ClaimRefused(f"registry field {path!r}: {reason}", code=code)


def _members(value: Any, path: str, required: frozenset[str], optional: frozenset[str]) -> Any:
    if not isinstance(value, dict):
        raise _refuse(path, "is not a JSON object")
    missing = required - value.keys()
    if missing:
        raise _refuse(f"{path}.{sorted(missing)[0]}", "is missing", code=Code.CLAIM_MISSING)
    unknown = value.keys() - required - optional
    if unknown:
        raise _refuse(path, f"has unknown member(s) {sorted(unknown)}")
    return value


def _array(value: Any, path: str, *, most: int, allow_empty: bool) -> list[Any]:
    if not isinstance(value, list) or len(value) > most or (not value and not allow_empty):
        raise _refuse(path, f"is not an array of {0 if allow_empty else 1} to {most} entries")
    return value


def _https_id(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) > _MAX_ID or not _HTTPS_ID.fullmatch(value):
        raise _refuse(
            path,
            f"{value!r} is not an https:// URL (lower-case host, no trailing slash, query "
            f"or fragment, at most {_MAX_ID} characters)",
        )
    return value


def _name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise _refuse(path, f"is not a non-empty name of at most {MAX_NAME} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
        raise _refuse(path, "contains control or invisible formatting characters")
    if unicodedata.normalize("NFC", value) != value:
        raise _refuse(path, "is not in Unicode NFC")
    return value


def _attribute(value: Any, path: str) -> str:
    try:
        return _fields.claim_name(value, path)
    except ClaimRefused:
        raise _refuse(
            path, f"{value!r} is not a canonical attribute id ([a-z][a-z0-9_]*, dotted paths)"
        ) from None


def _purpose(value: Any, path: str) -> str:
    vocab.require_purpose(value, field=f"registry field {path!r}:")
    return str(value)


def _legal_basis(value: Any, path: str) -> str:
    vocab.require_legal_basis(value, field=f"registry field {path!r}:")
    return str(value)


def _set(value: Any, path: str, item: Any, *, allow_empty: bool = False) -> frozenset[str]:
    items = [
        item(element, f"{path}[{i}]")
        for i, element in enumerate(_array(value, path, most=MAX_ITEMS, allow_empty=allow_empty))
    ]
    if len(set(items)) != len(items):
        raise _refuse(path, "lists an entry twice")
    return frozenset(items)


@dataclass(frozen=True, eq=False, slots=True)
class RegisteredVerifier:
    """One registration: who the verifier is, its keys, and what it may ask for and why.

    ``legal_bases`` empty means the registration does not restrict legal bases.
    Two registrations are equal when their JSON forms are.
    """

    id: str
    name: str
    signing_keys: tuple[PublicKey, ...]
    attributes: frozenset[str]
    purposes: frozenset[str]
    encryption_keys: tuple[EncryptionPublicKey, ...] = ()
    legal_bases: frozenset[str] = frozenset()

    @property
    def keys_by_kid(self) -> Mapping[str, PublicKey]:
        """The signing keys by RFC 7638 thumbprint, as :func:`jws.verify` takes them."""
        return MappingProxyType({key.thumbprint(): key for key in self.signing_keys})

    def thumbprints(self) -> list[str]:
        """RFC 7638 thumbprints of every registered key, signing keys first."""
        signing = [key.thumbprint() for key in self.signing_keys]
        return signing + [key.thumbprint() for key in self.encryption_keys]

    def covers(self, attribute: str) -> bool:
        """Registered for ``attribute`` itself or for an attribute it is part of
        (``address`` covers ``address.locality``; not the other way round)."""
        parts = attribute.split(".")
        return any(".".join(parts[:n]) in self.attributes for n in range(1, len(parts) + 1))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "signing_keys": [key.to_jwk() for key in self.signing_keys],
            "encryption_keys": [key.to_jwk() for key in self.encryption_keys],
            "attributes": sorted(self.attributes),
            "purposes": sorted(self.purposes),
            "legal_bases": sorted(self.legal_bases),
        }

    @classmethod
    def from_json(cls, value: Any, path: str = "verifier") -> RegisteredVerifier:
        """Validate one registration (``ClaimRefused``; ``KeyRefused`` for a bad key)."""
        obj = _members(value, path, _VERIFIER_REQUIRED, _VERIFIER_OPTIONAL)
        signing_jwks = _array(
            obj["signing_keys"], f"{path}.signing_keys", most=MAX_KEYS, allow_empty=False
        )
        encryption_jwks = _array(
            obj.get("encryption_keys", []),
            f"{path}.encryption_keys",
            most=MAX_KEYS,
            allow_empty=True,
        )
        signing = tuple(public_key_from_jwk(jwk, registering=True) for jwk in signing_jwks)
        encryption = tuple(
            EncryptionPublicKey.from_jwk(jwk, registering=True) for jwk in encryption_jwks
        )
        thumbprints = [k.thumbprint() for k in signing] + [k.thumbprint() for k in encryption]
        if len(set(thumbprints)) != len(thumbprints):
            raise _refuse(path, "lists one key twice")
        return cls(
            id=_https_id(obj["id"], f"{path}.id"),
            name=_name(obj["name"], f"{path}.name"),
            signing_keys=signing,
            attributes=_set(obj["attributes"], f"{path}.attributes", _attribute),
            purposes=_set(obj["purposes"], f"{path}.purposes", _purpose),
            encryption_keys=encryption,
            legal_bases=_set(
                obj.get("legal_bases", []), f"{path}.legal_bases", _legal_basis, allow_empty=True
            ),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegisteredVerifier) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.id)


def _label(iri: str) -> str:
    term = vocab.purposes().get(iri)
    return f"{term.label} <{iri}>" if term else iri


@dataclass(frozen=True, slots=True)
class Registry:
    """A registrar's list of verifiers. Values from :func:`verify_registry` are verified;
    a registry you build yourself is whatever you put in it until you sign it."""

    registrar: str
    version: int
    iat: int
    exp: int
    verifiers: Mapping[str, RegisteredVerifier] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        for key, verifier in self.verifiers.items():
            if not isinstance(verifier, RegisteredVerifier) or key != verifier.id:
                raise Misuse("Registry.verifiers maps each verifier's id to its registration")
        frozen = MappingProxyType(dict(sorted(self.verifiers.items())))
        object.__setattr__(self, "verifiers", frozen)

    @classmethod
    def new(cls, registrar: str, *, now: int, lifetime: int = DEFAULT_LIFETIME) -> Registry:
        """An empty registry, version 1."""
        return cls(registrar=registrar, version=1, iat=now, exp=now + lifetime)

    def _next(
        self, verifiers: Mapping[str, RegisteredVerifier], now: int, lifetime: int
    ) -> Registry:
        return Registry(self.registrar, self.version + 1, now, now + lifetime, verifiers)

    def with_verifier(
        self, verifier: RegisteredVerifier, *, now: int, lifetime: int = DEFAULT_LIFETIME
    ) -> Registry:
        """The next version with ``verifier`` added (or replacing the entry with its id).

        A key registered for another verifier is refused (``ClaimRefused``).
        """
        if not isinstance(verifier, RegisteredVerifier):
            raise Misuse("with_verifier takes a RegisteredVerifier")
        mine = set(verifier.thumbprints())
        for other in self.verifiers.values():
            if other.id != verifier.id and mine & set(other.thumbprints()):
                raise ClaimRefused(
                    f"a key of {verifier.id} is already registered for {other.id}",
                    code=Code.CLAIM_INVALID,
                )
        return self._next({**self.verifiers, verifier.id: verifier}, now, lifetime)

    def without_verifier(
        self, verifier_id: str, *, now: int, lifetime: int = DEFAULT_LIFETIME
    ) -> Registry:
        """The next version without ``verifier_id`` (a registration withdrawn)."""
        if verifier_id not in self.verifiers:
            raise Misuse(f"{verifier_id!r} is not in this registry")
        rest = {k: v for k, v in self.verifiers.items() if k != verifier_id}
        return self._next(rest, now, lifetime)

    def to_json(self) -> dict[str, Any]:
        return {
            "iss": self.registrar,
            "iat": self.iat,
            "exp": self.exp,
            "version": self.version,
            "verifiers": [verifier.to_json() for verifier in self.verifiers.values()],
        }

    def sign(self, registrar_key: SigningKey) -> str:
        """The registry as a compact JWS. Refuses (Misuse) what verification would refuse."""
        payload = self.to_json()
        try:
            checked = registry_from_json(payload)
        except ClaimRefused as exc:
            raise Misuse(f"this registry would be refused: {exc.message}") from None
        if checked != self:
            raise Misuse("the registry does not survive its own JSON form (check field types)")
        if not 0 < self.exp - self.iat <= MAX_LIFETIME:
            raise Misuse(f"a registry lives more than 0 and at most {MAX_LIFETIME} s")
        return jws.sign(payload, key=registrar_key, typ=REGISTRY_TYP)

    def check_request(
        self,
        verifier_id: str,
        attributes: Iterable[str],
        purpose: str,
        *,
        legal_basis: str | None = None,
    ) -> RegisteredVerifier:
        """The registration of ``verifier_id`` if it covers the request; else ``ClaimRefused``.

        Over-asking (T14): every attribute must be registered (or be part of a
        registered one) and the purpose must be registered; a ``legal_basis``
        is checked when the registration names any.
        """
        if isinstance(attributes, str):
            raise Misuse("attributes is a collection of attribute ids, not one string")
        wanted = list(attributes)
        verifier = self.verifiers.get(verifier_id)
        if verifier is None:
            raise ClaimRefused(
                f"verifier {verifier_id!r} is not registered with {self.registrar}",
                code=Code.VERIFIER_UNREGISTERED,
            )
        who = f"verifier {verifier.id} ({verifier.name})"
        beyond = sorted({a for a in wanted if not verifier.covers(a)}, key=str)
        if beyond:
            listed = ", ".join(repr(a) for a in beyond)
            raise ClaimRefused(
                f"{who} is not registered for attribute(s) {listed} "
                f"(registered: {', '.join(sorted(verifier.attributes))})",
                code=Code.BEYOND_REGISTRATION,
            )
        if purpose not in verifier.purposes:
            raise ClaimRefused(
                f"{who} is not registered for purpose {purpose!r} "
                f"(registered: {'; '.join(_label(p) for p in sorted(verifier.purposes))})",
                code=Code.BEYOND_REGISTRATION,
            )
        if (
            legal_basis is not None
            and verifier.legal_bases
            and legal_basis not in verifier.legal_bases
        ):
            raise ClaimRefused(
                f"{who} is not registered for legal basis {legal_basis!r} "
                f"(registered: {', '.join(sorted(verifier.legal_bases))})",
                code=Code.BEYOND_REGISTRATION,
            )
        return verifier


def registry_from_json(claims: Any) -> Registry:
    """Validate a registry's claims into a :class:`Registry` (``ClaimRefused``/``KeyRefused``).

    This checks the contents only; :func:`verify_registry` checks the signature first.
    """
    obj = _members(claims, "$", _TOP, frozenset())
    version = obj["version"]
    if type(version) is not int or not 1 <= version < _MAX_TIME:
        raise _refuse("version", "is not a positive integer")
    iat, exp = obj["iat"], obj["exp"]
    for name, value in (("iat", iat), ("exp", exp)):
        if type(value) is not int or not 0 <= value < _MAX_TIME:
            raise _refuse(name, "is not an integer NumericDate")
    if exp <= iat:
        raise _refuse("exp", "is not after iat")
    entries = _array(obj["verifiers"], "verifiers", most=MAX_VERIFIERS, allow_empty=True)
    verifiers: dict[str, RegisteredVerifier] = {}
    owner: dict[str, str] = {}
    for i, entry in enumerate(entries):
        verifier = RegisteredVerifier.from_json(entry, f"verifiers[{i}]")
        if verifier.id in verifiers:
            raise _refuse(f"verifiers[{i}].id", f"registers {verifier.id} a second time")
        for thumbprint in verifier.thumbprints():
            other = owner.setdefault(thumbprint, verifier.id)
            if other != verifier.id:
                raise _refuse(
                    f"verifiers[{i}]", f"registers a key of {other} for {verifier.id} too"
                )
        verifiers[verifier.id] = verifier
    return Registry(
        registrar=_https_id(obj["iss"], "iss"),
        version=version,
        iat=iat,
        exp=exp,
        verifiers=verifiers,
    )


@dataclass(frozen=True, slots=True)
class UnverifiedRegistry:
    """A registry whose signature has NOT been checked: for display only, never for trust."""

    header: Mapping[str, Any]
    unverified_registry: Registry


def parse_registry(token: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> UnverifiedRegistry:
    """Parse a registry strictly (``typ`` and contents) WITHOUT checking its signature."""
    parsed = jws.parse(token, max_bytes=REGISTRY_PROFILE.max_bytes, limits=limits)
    if parsed.header.get("typ") != REGISTRY_TYP:
        raise SignatureRefused(
            f"typ {parsed.header.get('typ')!r} is not {REGISTRY_TYP!r}: this is not a registry",
            code=Code.TYP_MISMATCH,
        )
    return UnverifiedRegistry(parsed.header, registry_from_json(parsed.unverified_claims))


def verify_registry(
    token: str | bytes,
    *,
    registrar_keys: jws.Keys,
    now: int,
    min_version: int | None,
    limits: Limits = DEFAULT_LIMITS,
) -> Registry:
    """Verify a registry signed by one of ``registrar_keys`` at ``now`` (raises Refused).

    ``min_version`` is the highest version the caller has accepted before
    (``None`` the first time): a lower one is refused as a rollback. The same
    version is accepted; a caller that keeps the last token can compare them.
    """
    if min_version is not None and (type(min_version) is not int or min_version < 1):
        raise Misuse("min_version is a positive integer or None")
    parsed = jws.parse(token, max_bytes=REGISTRY_PROFILE.max_bytes, limits=limits)
    verified = jws.verify_parsed(
        parsed, profile=REGISTRY_PROFILE, keys=registrar_keys, now=now, audience=None, limits=limits
    )
    registry = registry_from_json(verified.claims)
    if min_version is not None and registry.version < min_version:
        raise ClaimRefused(
            f"the registry is version {registry.version}, older than version {min_version} "
            "already accepted (a rollback)",
            code=Code.VERSION_ROLLBACK,
        )
    return registry


__all__ = [
    "DEFAULT_LIFETIME",
    "MAX_LIFETIME",
    "MAX_REGISTRY_BYTES",
    "REGISTRY_PROFILE",
    "REGISTRY_TYP",
    "RegisteredVerifier",
    "Registry",
    "UnverifiedRegistry",
    "parse_registry",
    "registry_from_json",
    "verify_registry",
]
