"""Consent requests: what a verifier asks a citizen's wallet for, signed by the verifier.

A verifier posts a request to the wallet host named by the citizen
(``POST /v1/requests``); the citizen sees it and approves (a consent token is
signed) or refuses. The request is a JWT, ``typ: regie-consent-request+jwt``,
signed with one of the verifier's registered signing keys (``kid`` = its RFC
7638 thumbprint). Its claims (all objects closed; an unknown member is
refused, never ignored, because it could change what the citizen is shown):

``iss`` the verifier id in the registry; ``aud`` the wallet host's base URL;
``jti`` the verifier's request id; ``iat``/``exp`` (at most
:data:`REQUEST_MAX_LIFETIME` apart); ``inbox`` the citizen's wallet id at the
host; ``attributes`` and ``optional_attributes`` (canonical attribute ids, no
duplicates, no overlap); ``purpose`` and ``legal_basis`` (W3C DPV IRIs);
``valid_for`` (seconds the consent is to run); ``retention``, ``frequency``
(ISO 8601 durations), ``max_uses`` and ``purpose_text`` (``{"nl", "en"}``).

:func:`verify_request` checks, in order: the size and ``typ``; that ``iss`` is
registered (``VERIFIER_UNREGISTERED``); the signature with the registered key
named by ``kid`` (``KEY_UNKNOWN`` for another); ``aud`` equal to the host's
URL; the times; the claims; that the registration covers every attribute, the
purpose and the legal basis (``BEYOND_REGISTRATION``); that the verifier
registered an encryption key to seal the release to. The signing key's
thumbprint (:attr:`VerifiedRequest.jkt`) becomes the consent's ``cnf.jkt``:
the key the verifier must prove (DPoP) to collect the answer and to read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import jws, vocab
from .consent import _fields as f
from .consent._model import LocalizedText
from .consent._token import MAX_LIFETIME
from .errors import ClaimRefused, Code, Misuse, SignatureRefused
from .keys import Alg, PublicKey, SigningKey
from .limits import DEFAULT_LIMITS, Limits
from .registry import RegisteredVerifier, Registry

REQUEST_TYP = "regie-consent-request+jwt"
#: a request may wait for the citizen at most a week
REQUEST_MAX_LIFETIME = 7 * 86400

REQUEST_PROFILE = jws.TokenProfile(
    name="consent request",
    typ=REQUEST_TYP,
    algs=frozenset({Alg.EDDSA.value, Alg.ED25519.value, Alg.ES256.value}),
    required_claims=frozenset(
        {"iss", "aud", "jti", "iat", "exp", "inbox", "attributes", "purpose", "legal_basis"}
        | {"valid_for"}
    ),
    max_lifetime=REQUEST_MAX_LIFETIME,
    required_times=frozenset({"iat", "exp"}),
)

_REQUIRED = REQUEST_PROFILE.required_claims
_OPTIONAL = frozenset({"optional_attributes", "retention", "max_uses", "frequency", "purpose_text"})
_INBOX = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_TIME = 2**53


def inbox_id(value: Any, path: str = "inbox") -> str:
    """A wallet's inbox id at a host: 1-64 characters from A-Z a-z 0-9 _ -."""
    if not isinstance(value, str) or not _INBOX.fullmatch(value):
        raise f.refuse(path, "is not an inbox id of 1-64 characters from A-Z a-z 0-9 _ -")
    return value


def _as_request_error(exc: ClaimRefused) -> ClaimRefused:
    message = exc.message.replace("consent token field", "consent request field", 1)
    return type(exc)(message, code=exc.code)


@dataclass(frozen=True, slots=True)
class ConsentRequestClaims:
    """Every claim of a consent request. See the module docstring for the rules."""

    iss: str
    aud: str
    jti: str
    iat: int
    exp: int
    inbox: str
    attributes: tuple[str, ...]
    purpose: str
    legal_basis: str
    valid_for: int
    optional_attributes: tuple[str, ...] = ()
    retention: str = "P0D"
    max_uses: int | None = None
    frequency: str | None = None
    purpose_text: LocalizedText | None = None

    @property
    def all_attributes(self) -> tuple[str, ...]:
        """The required attributes, then the optional ones."""
        return self.attributes + self.optional_attributes

    @property
    def retention_duration(self) -> f.Duration:
        return f.Duration.parse(self.retention, "retention")

    @property
    def frequency_duration(self) -> f.Duration | None:
        return None if self.frequency is None else f.Duration.parse(self.frequency, "frequency")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "iss": self.iss,
            "aud": self.aud,
            "jti": self.jti,
            "iat": self.iat,
            "exp": self.exp,
            "inbox": self.inbox,
            "attributes": list(self.attributes),
            "optional_attributes": list(self.optional_attributes),
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "valid_for": self.valid_for,
            "retention": self.retention,
        }
        if self.max_uses is not None:
            out["max_uses"] = self.max_uses
        if self.frequency is not None:
            out["frequency"] = self.frequency
        if self.purpose_text is not None:
            out["purpose_text"] = {"nl": self.purpose_text.nl, "en": self.purpose_text.en}
        return out

    @classmethod
    def from_json(cls, value: Any) -> ConsentRequestClaims:
        """Validate a request's claims (``ClaimRefused``, naming the field)."""
        try:
            return _from_json(value)
        except ClaimRefused as exc:
            raise _as_request_error(exc) from None


def _from_json(value: Any) -> ConsentRequestClaims:
    obj = f.members(value, "$", required=_REQUIRED, optional=_OPTIONAL)
    iat, exp = (f.integer(obj[n], n, minimum=0, maximum=_MAX_TIME) for n in ("iat", "exp"))
    if exp <= iat:
        raise f.refuse("exp", "is not after iat")
    attributes = f.string_list(obj["attributes"], "attributes", item=f.claim_name)
    optional = f.string_list(
        obj.get("optional_attributes", []),
        "optional_attributes",
        item=f.claim_name,
        allow_empty=True,
    )
    both = sorted(set(attributes) & set(optional))
    if both:
        raise f.refuse("optional_attributes", f"repeats required attribute(s) {both}")
    vocab.require_purpose(obj["purpose"], field="consent request field 'purpose':")
    vocab.require_legal_basis(obj["legal_basis"], field="consent request field 'legal_basis':")
    retention = f.Duration.parse(obj.get("retention", "P0D"), "retention")
    # absent means "no limit"; an explicit null is refused like any other wrong type
    frequency = None
    if "frequency" in obj:
        period = f.Duration.parse(obj["frequency"], "frequency")
        if period.is_zero:
            raise f.refuse("frequency", "is zero: at most one use per zero time means nothing")
        frequency = period.text
    max_uses = None
    if "max_uses" in obj:
        max_uses = f.integer(obj["max_uses"], "max_uses", minimum=1)
    purpose_text = None
    if "purpose_text" in obj:
        text = f.members(obj["purpose_text"], "purpose_text", required=frozenset({"nl", "en"}))
        purpose_text = LocalizedText(
            nl=f.text(text["nl"], "purpose_text.nl"), en=f.text(text["en"], "purpose_text.en")
        )
    return ConsentRequestClaims(
        iss=f.uri(obj["iss"], "iss"),
        aud=f.uri(obj["aud"], "aud"),
        jti=f.identifier(obj["jti"], "jti"),
        iat=iat,
        exp=exp,
        inbox=inbox_id(obj["inbox"]),
        attributes=attributes,
        purpose=obj["purpose"],
        legal_basis=obj["legal_basis"],
        valid_for=f.integer(obj["valid_for"], "valid_for", minimum=1, maximum=MAX_LIFETIME + 1),
        optional_attributes=optional,
        retention=retention.text,
        max_uses=max_uses,
        frequency=frequency,
        purpose_text=purpose_text,
    )


@dataclass(frozen=True, slots=True)
class UnverifiedRequest:
    """A parsed request whose signature has NOT been checked.

    ``iss``, ``jti`` and ``inbox`` have the right shape, nothing more: use them
    to find the inbox, the registration or an earlier submission, never to decide.
    """

    header: Mapping[str, Any]
    unverified_claims: Mapping[str, Any]
    iss: str
    jti: str
    inbox: str
    parsed: jws.UnverifiedJWS


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A request whose signature, registration, audience, times and claims passed.

    ``jkt`` is the RFC 7638 thumbprint of the key that signed it; ``token`` the
    compact JWT as received (for ``request.sha256`` in the consent).
    """

    claims: ConsentRequestClaims
    verifier: RegisteredVerifier
    key: PublicKey
    jkt: str
    token: str


def sign_request(claims: ConsentRequestClaims, *, key: SigningKey) -> str:
    """Sign ``claims`` with the verifier's key. Refuses (Misuse) what verify would refuse."""
    if not isinstance(claims, ConsentRequestClaims):
        raise Misuse("sign_request takes ConsentRequestClaims")
    payload = claims.to_json()
    try:
        checked = ConsentRequestClaims.from_json(payload)
    except ClaimRefused as exc:
        raise Misuse(f"this request would be refused: {exc.message}") from None
    if checked != claims:
        raise Misuse("the request does not survive its own JSON form (check the field types)")
    if claims.exp - claims.iat > REQUEST_MAX_LIFETIME:
        raise Misuse(f"a request lives at most {REQUEST_MAX_LIFETIME} s")
    return jws.sign(payload, key=key, typ=REQUEST_TYP)


def parse_request(token: str | bytes, *, limits: Limits = DEFAULT_LIMITS) -> UnverifiedRequest:
    """Parse a request without checking it: ``typ`` and the shape of ``iss``/``jti``/``inbox``."""
    parsed = jws.parse(token, max_bytes=REQUEST_PROFILE.max_bytes, limits=limits)
    if parsed.header.get("typ") != REQUEST_TYP:
        raise SignatureRefused(
            f"typ {parsed.header.get('typ')!r} is not {REQUEST_TYP!r}: "
            "this is not a consent request",
            code=Code.TYP_MISMATCH,
        )
    claims = parsed.unverified_claims
    try:
        for name in ("iss", "jti", "inbox"):
            if name not in claims:
                raise f.refuse(name, "is missing", code=Code.CLAIM_MISSING)
        iss = f.uri(claims["iss"], "iss")
        jti = f.identifier(claims["jti"], "jti")
        inbox = inbox_id(claims["inbox"])
    except ClaimRefused as exc:
        raise _as_request_error(exc) from None
    return UnverifiedRequest(
        header=parsed.header,
        unverified_claims=claims,
        iss=iss,
        jti=jti,
        inbox=inbox,
        parsed=parsed,
    )


def verify_request(
    token: str | bytes,
    *,
    registry: Registry,
    host_url: str,
    now: int,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedRequest:
    """Verify a consent request sent to the wallet host at ``host_url`` (raises Refused).

    ``registry`` is a verified registry (the inbox owner's); ``aud`` must equal
    ``host_url`` exactly.
    """
    if not isinstance(host_url, str) or not host_url:
        raise Misuse("verify_request needs the wallet host's own base URL as host_url")
    unverified = parse_request(token, limits=limits)
    verifier = registry.verifiers.get(unverified.iss)
    if verifier is None:
        raise ClaimRefused(
            f"verifier {unverified.iss!r} is not registered with {registry.registrar}: "
            "it must register before it can ask for consent",
            code=Code.VERIFIER_UNREGISTERED,
        )
    if "kid" not in unverified.header:
        raise SignatureRefused(
            "the request names no kid: sign it with a registered key and its thumbprint as kid",
            code=Code.KEY_UNKNOWN,
        )
    verified = jws.verify_parsed(
        unverified.parsed,
        profile=REQUEST_PROFILE,
        keys=verifier.keys_by_kid,
        now=now,
        audience=host_url,
        limits=limits,
    )
    claims = ConsentRequestClaims.from_json(verified.claims)
    registry.check_request(
        claims.iss, claims.all_attributes, claims.purpose, legal_basis=claims.legal_basis
    )
    if not verifier.encryption_keys:
        raise ClaimRefused(
            f"verifier {verifier.id} registered no encryption key, so no data can be "
            "released to it: the registrar must add one",
            code=Code.CLAIM_INVALID,
        )
    text = token if isinstance(token, str) else token.decode("ascii")
    return VerifiedRequest(
        claims=claims,
        verifier=verifier,
        key=verified.key,
        jkt=verified.key.thumbprint(),
        token=text,
    )


__all__ = [
    "REQUEST_MAX_LIFETIME",
    "REQUEST_PROFILE",
    "REQUEST_TYP",
    "ConsentRequestClaims",
    "UnverifiedRequest",
    "VerifiedRequest",
    "inbox_id",
    "parse_request",
    "sign_request",
    "verify_request",
]
