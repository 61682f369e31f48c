"""RELEASE-*: the sealed data release (JWE ECDH-ES/X25519, A256GCM) and its content.

The refusal table starts from a good release sealed to verifier A's key and
applies ONE change: a protected-header member (so the header checks run before
any key is used), a part of the compact serialisation, the plaintext (sealed
properly, so only the content check can refuse it), or the keys the verifier
holds. Every refusal carries ``RELEASE_INVALID``; the class says which layer
refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwe
from joserfc.jwk import OKPKey

from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyRefused,
    MalformedInput,
    Misuse,
    RegieError,
    SignatureRefused,
)
from regie_protocol.keys import EncryptionKey, EncryptionPublicKey
from regie_protocol.release import (
    MAX_PRESENTATION_BYTES,
    MAX_PRESENTATIONS,
    MAX_RELEASE_BYTES,
    RELEASE_CTY,
    RELEASE_TYP,
    ReleaseContent,
    decrypt_release,
    encrypt_release,
)
from tests.conftest import NOW
from tests.protocol.mutations import DROP, JSON_VALUES, mutated

KEY_A = EncryptionKey.generate()
KEY_B = EncryptionKey.generate()
KID_A = KEY_A.public_key.thumbprint()
SD_JWT = (
    "eyJhbGciOiJFUzI1NiJ9.eyJ2Y3QiOiJ4In0.c2ln~WyJzYWx0IiwibmFtZSIsIkEiXQ~eyJ0eXAiOiJrYiJ9.e30.c2ln"
)
CONTENT = ReleaseContent(consent_id="consent-0001", presentations=(SD_JWT,), sealed_at=NOW)
LOW_ORDER_X25519 = b64url_encode(bytes(32))


def good_header() -> dict[str, Any]:
    return {
        "alg": "ECDH-ES",
        "enc": "A256GCM",
        "kid": KID_A,
        "typ": RELEASE_TYP,
        "cty": RELEASE_CTY,
    }


def seal(
    header: dict[str, Any],
    plaintext: bytes,
    *,
    to: EncryptionPublicKey = KEY_A.public_key,
    algorithms: tuple[str, ...] = ("ECDH-ES", "A256GCM"),
) -> str:
    """Encrypt with joserfc directly, with any header joserfc will write."""
    key = OKPKey.import_key(to.required_members())
    return jwe.encrypt_compact(header, plaintext, key, algorithms=algorithms)


def content_json(**changes: Any) -> bytes:
    value: dict[str, Any] = CONTENT.to_json()
    for name, change in changes.items():
        if change is DROP:
            del value[name]
        else:
            value[name] = change
    return json.dumps(value).encode()


def rewrite_header(token: str, edit: Callable[[dict[str, Any]], None]) -> str:
    """Change the protected header of a sealed release (decryption would then fail: AAD)."""
    parts = token.split(".")
    header = json.loads(b64url_decode(parts[0]))
    edit(header)
    parts[0] = b64url_encode(json.dumps(header).encode())
    return ".".join(parts)


def header_set(**changes: Any) -> Callable[[str], str]:
    def edit(header: dict[str, Any]) -> None:
        for name, value in changes.items():
            if value is DROP:
                del header[name]
            else:
                header[name] = value

    return lambda token: rewrite_header(token, edit)


def epk_set(**changes: Any) -> Callable[[str], str]:
    def edit(header: dict[str, Any]) -> None:
        header["epk"].update(changes)

    return lambda token: rewrite_header(token, edit)


def part_set(index: int, value: str | Callable[[str], str]) -> Callable[[str], str]:
    def change(token: str) -> str:
        parts = token.split(".")
        parts[index] = value(parts[index]) if callable(value) else value
        return ".".join(parts)

    return change


def _flip(segment: str) -> str:
    return ("B" if segment[0] == "A" else "A") + segment[1:]


@dataclass(frozen=True)
class Case:
    expected: type[RegieError]
    #: the release to open: built from the good one, or sealed by joserfc with a header change
    build: Callable[[], str] = lambda: encrypt_release(CONTENT, recipient=KEY_A.public_key)
    mangle: Callable[[str], str] | None = None
    keys: Any = field(default_factory=lambda: KEY_A)


def sealed(header: dict[str, Any] | None = None, plaintext: bytes | None = None, **kw: Any) -> Any:
    def build() -> str:
        base = good_header()
        for name, value in (header or {}).items():
            if value is DROP:
                del base[name]
            else:
                base[name] = value
        return seal(base, content_json() if plaintext is None else plaintext, **kw)

    return build


CASES: dict[str, Case] = {
    # --- keys: sealed to someone else -----------------------------------------------------
    "sealed-to-another-verifier": Case(
        ClaimRefused, build=lambda: encrypt_release(CONTENT, recipient=KEY_B.public_key)
    ),
    "kid-unknown-in-key-map": Case(ClaimRefused, keys={KEY_B.public_key.thumbprint(): KEY_B}),
    "kid-copied-onto-release-for-B": Case(SignatureRefused, build=sealed(to=KEY_B.public_key)),
    # --- integrity ----------------------------------------------------------------------
    "ciphertext-altered": Case(SignatureRefused, mangle=part_set(3, _flip)),
    "tag-altered": Case(SignatureRefused, mangle=part_set(4, _flip)),
    "iv-altered": Case(SignatureRefused, mangle=part_set(2, _flip)),
    "header-reordered-same-members": Case(
        SignatureRefused,
        mangle=lambda t: rewrite_header(t, lambda h: h.update(dict(sorted(h.items())))),
    ),
    "epk-swapped-for-another-key": Case(
        SignatureRefused, mangle=epk_set(x=KEY_B.public_key.to_jwk()["x"])
    ),
    # --- algorithms (T1-T3 for JWE) -------------------------------------------------------
    "alg-ECDH-ES+A256KW": Case(
        MalformedInput,
        build=sealed({"alg": "ECDH-ES+A256KW"}, algorithms=("ECDH-ES+A256KW", "A256GCM")),
    ),
    "enc-A128GCM": Case(
        MalformedInput, build=sealed({"enc": "A128GCM"}, algorithms=("ECDH-ES", "A128GCM"))
    ),
    "enc-A256CBC-HS512": Case(
        MalformedInput,
        build=sealed({"enc": "A256CBC-HS512"}, algorithms=("ECDH-ES", "A256CBC-HS512")),
    ),
    "alg-dir": Case(MalformedInput, mangle=header_set(alg="dir")),
    "alg-none": Case(MalformedInput, mangle=header_set(alg="none")),
    "alg-RSA1_5": Case(MalformedInput, mangle=header_set(alg="RSA1_5")),
    "zip-DEF": Case(
        MalformedInput, build=sealed({"zip": "DEF"}, algorithms=("ECDH-ES", "A256GCM", "DEF"))
    ),
    # --- header members -----------------------------------------------------------------
    "header-jku": Case(MalformedInput, build=sealed({"jku": "https://attacker.example/jwks"})),
    "header-apu": Case(MalformedInput, build=sealed({"apu": b64url_encode(b"alice")})),
    "header-crit": Case(MalformedInput, mangle=header_set(crit=["exp"], exp=1)),
    "header-jwk": Case(MalformedInput, mangle=header_set(jwk={"kty": "OKP"})),
    "typ-missing": Case(MalformedInput, build=sealed({"typ": DROP})),
    "typ-other": Case(MalformedInput, build=sealed({"typ": "JWT"})),
    "cty-other": Case(MalformedInput, build=sealed({"cty": "JWT"})),
    "kid-missing": Case(MalformedInput, build=sealed({"kid": DROP})),
    "kid-not-a-string": Case(MalformedInput, mangle=header_set(kid=7)),
    "epk-missing": Case(MalformedInput, mangle=header_set(epk=DROP)),
    "epk-P-256": Case(
        MalformedInput, mangle=header_set(epk={"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})
    ),
    "epk-low-order-point": Case(MalformedInput, mangle=epk_set(x=LOW_ORDER_X25519)),
    "epk-non-canonical": Case(
        MalformedInput, mangle=epk_set(x=b64url_encode(b"\xff" * 31 + b"\x7f"))
    ),
    "epk-with-private-d": Case(MalformedInput, mangle=epk_set(d=b64url_encode(bytes(32)))),
    "epk-with-kid": Case(MalformedInput, mangle=epk_set(kid="k")),
    "epk-Ed25519": Case(MalformedInput, mangle=epk_set(crv="Ed25519")),
    "header-duplicate-alg": Case(
        MalformedInput,
        mangle=part_set(
            0,
            lambda s: b64url_encode(
                b64url_decode(s).replace(b'"alg":"ECDH-ES"', b'"alg":"dir","alg":"ECDH-ES"')
            ),
        ),
    ),
    "header-not-json": Case(MalformedInput, mangle=part_set(0, b64url_encode(b"alg=ECDH-ES"))),
    "header-array": Case(MalformedInput, mangle=part_set(0, b64url_encode(b"[]"))),
    "header-too-long": Case(MalformedInput, mangle=header_set(pad="x" * 1024)),
    # --- compact serialisation ----------------------------------------------------------
    "encrypted-key-present": Case(MalformedInput, mangle=part_set(1, b64url_encode(bytes(40)))),
    "iv-16-bytes": Case(MalformedInput, mangle=part_set(2, b64url_encode(bytes(16)))),
    "tag-12-bytes": Case(MalformedInput, mangle=part_set(4, b64url_encode(bytes(12)))),
    "ciphertext-padded-base64": Case(MalformedInput, mangle=part_set(3, lambda s: s + "=")),
    "four-parts": Case(MalformedInput, mangle=lambda t: t.rsplit(".", 1)[0]),
    "six-parts": Case(MalformedInput, mangle=lambda t: t + ".AAAA"),
    "a-jws": Case(MalformedInput, mangle=lambda t: "eyJhbGciOiJFZERTQSJ9.e30.c2ln"),
    "empty": Case(MalformedInput, mangle=lambda t: ""),
    "too-large": Case(
        MalformedInput, mangle=part_set(3, lambda s: s + "A" * (MAX_RELEASE_BYTES + 4))
    ),
    # --- the plaintext (sealed properly; only the content check refuses) -----------------
    "plaintext-not-json": Case(MalformedInput, build=sealed(plaintext=b"consent-0001")),
    "plaintext-duplicate-member": Case(
        MalformedInput,
        build=sealed(
            plaintext=b'{"consent_id":"a","consent_id":"b","presentations":["x"],'
            + f'"sealed_at":{NOW}}}'.encode()
        ),
    ),
    "plaintext-too-deep": Case(
        MalformedInput, build=sealed(plaintext=content_json(sealed_at=[[[[[[NOW]]]]]]))
    ),
    "plaintext-array": Case(ClaimRefused, build=sealed(plaintext=b'["x"]')),
    "consent_id-missing": Case(ClaimRefused, build=sealed(plaintext=content_json(consent_id=DROP))),
    "consent_id-with-slash": Case(
        ClaimRefused, build=sealed(plaintext=content_json(consent_id="../c"))
    ),
    "presentations-empty": Case(
        ClaimRefused, build=sealed(plaintext=content_json(presentations=[]))
    ),
    "presentations-a-string": Case(
        ClaimRefused, build=sealed(plaintext=content_json(presentations=SD_JWT))
    ),
    "presentations-too-many": Case(
        ClaimRefused,
        build=sealed(
            plaintext=content_json(
                presentations=[f"{SD_JWT}~{i}" for i in range(MAX_PRESENTATIONS + 1)]
            )
        ),
    ),
    "presentation-too-long": Case(
        ClaimRefused,
        build=sealed(plaintext=content_json(presentations=["a" * (MAX_PRESENTATION_BYTES + 1)])),
    ),
    "presentation-not-a-string": Case(
        ClaimRefused, build=sealed(plaintext=content_json(presentations=[{"sd_jwt": SD_JWT}]))
    ),
    "presentation-with-space": Case(
        ClaimRefused, build=sealed(plaintext=content_json(presentations=[SD_JWT + " "]))
    ),
    "presentation-twice": Case(
        ClaimRefused, build=sealed(plaintext=content_json(presentations=[SD_JWT, SD_JWT]))
    ),
    "sealed_at-string": Case(
        ClaimRefused, build=sealed(plaintext=content_json(sealed_at=str(NOW)))
    ),
    "sealed_at-true": Case(ClaimRefused, build=sealed(plaintext=content_json(sealed_at=True))),
    "unknown-member": Case(ClaimRefused, build=sealed(plaintext=content_json(attributes=["x"]))),
}


def test_good_release_opens() -> None:
    token = encrypt_release(CONTENT, recipient=KEY_A.public_key)
    assert decrypt_release(token, keys=KEY_A) == CONTENT
    assert decrypt_release(token.encode(), keys={KID_A: KEY_A, "other": KEY_B}) == CONTENT
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header.keys() == {"alg", "enc", "epk", "kid", "typ", "cty"}
    assert (header["alg"], header["enc"], header["kid"]) == ("ECDH-ES", "A256GCM", KID_A)
    assert (header["typ"], header["cty"]) == (RELEASE_TYP, RELEASE_CTY)
    assert header["epk"]["crv"] == "X25519"
    assert token.split(".")[1] == ""


def test_each_release_uses_a_fresh_ephemeral_key() -> None:
    one = encrypt_release(CONTENT, recipient=KEY_A.public_key)
    two = encrypt_release(CONTENT, recipient=KEY_A.public_key)
    assert one.split(".")[0] != two.split(".")[0]


@pytest.mark.parametrize("name", list(CASES))
def test_release_refusal(name: str) -> None:
    case = CASES[name]
    assert decrypt_release(encrypt_release(CONTENT, recipient=KEY_A.public_key), keys=KEY_A)
    token = case.build()
    if case.mangle is not None:
        token = case.mangle(token)
    with pytest.raises(RegieError) as caught:
        decrypt_release(token, keys=case.keys)
    assert type(caught.value) is case.expected, caught.value
    assert caught.value.code is Code.RELEASE_INVALID, caught.value


def test_non_ascii_bytes_are_refused() -> None:
    with pytest.raises(MalformedInput) as caught:
        decrypt_release("é".encode() + b"....", keys=KEY_A)
    assert caught.value.code is Code.RELEASE_INVALID


# --- sealing: the wallet's side ------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        ReleaseContent(consent_id="c-1", presentations=(), sealed_at=NOW),
        ReleaseContent(consent_id="c/1", presentations=(SD_JWT,), sealed_at=NOW),
        ReleaseContent(consent_id="c-1", presentations=[SD_JWT], sealed_at=NOW),  # type: ignore[arg-type]
        ReleaseContent(consent_id="c-1", presentations=(SD_JWT,), sealed_at=-1),
        ReleaseContent(consent_id="c-1", presentations=(SD_JWT, SD_JWT), sealed_at=NOW),
    ],
    ids=["no-presentations", "bad-consent-id", "list-not-tuple", "negative-time", "twice"],
)
def test_encrypt_refuses_what_decrypt_would_refuse(content: ReleaseContent) -> None:
    with pytest.raises(Misuse):
        encrypt_release(content, recipient=KEY_A.public_key)


def test_encrypt_refuses_a_low_order_recipient_key() -> None:
    with pytest.raises(KeyRefused) as caught:
        encrypt_release(CONTENT, recipient=EncryptionPublicKey(bytes(32)))
    assert caught.value.code is Code.KEY_WEAK


def test_encrypt_refuses_a_release_over_the_size_limit() -> None:
    big = tuple(f"{'a' * (MAX_PRESENTATION_BYTES - 8)}~{i}" for i in range(5))
    with pytest.raises(Misuse, match="at most"):
        encrypt_release(
            ReleaseContent(consent_id="c-1", presentations=big, sealed_at=NOW),
            recipient=KEY_A.public_key,
        )


def test_a_release_near_the_size_limit_opens() -> None:
    """joserfc's own default (64 KiB of ciphertext) would refuse this; Regie's limit is 256 KiB."""
    big = tuple(f"{'a' * (MAX_PRESENTATION_BYTES - 8)}~{i}" for i in range(2))
    content = ReleaseContent(consent_id="c-1", presentations=big, sealed_at=NOW)
    token = encrypt_release(content, recipient=KEY_A.public_key)
    assert len(token) > 2 * MAX_PRESENTATION_BYTES
    assert decrypt_release(token, keys=KEY_A) == content


def test_content_json_round_trip() -> None:
    assert ReleaseContent.from_json(json.loads(json.dumps(CONTENT.to_json()))) == CONTENT


# --- properties ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD = encrypt_release(CONTENT, recipient=KEY_A.public_key)
_presentation = st.from_regex(r"[A-Za-z0-9_\-.~]{1,200}", fullmatch=True)


@SETTINGS
@given(
    consent_id=st.from_regex(r"[A-Za-z0-9._~-]{1,128}", fullmatch=True),
    presentations=st.lists(_presentation, min_size=1, max_size=MAX_PRESENTATIONS, unique=True),
    sealed_at=st.integers(0, 2**53 - 1),
)
def test_valid_releases_round_trip(
    consent_id: str, presentations: list[str], sealed_at: int
) -> None:
    content = ReleaseContent(consent_id, tuple(presentations), sealed_at)
    assert decrypt_release(encrypt_release(content, recipient=KEY_A.public_key), keys=KEY_A) == (
        content
    )


@SETTINGS
@given(data=st.data())
def test_mutated_releases_give_only_regie_errors(data: st.DataObject) -> None:
    with contextlib.suppress(RegieError):
        decrypt_release(mutated(data, GOOD), keys=KEY_A)


@SETTINGS
@given(
    name=st.sampled_from(["consent_id", "presentations", "sealed_at", "extra"]), value=JSON_VALUES
)
def test_content_with_one_value_replaced_gives_only_claim_refusals(name: str, value: Any) -> None:
    payload: dict[str, Any] = CONTENT.to_json()
    payload[name] = value
    try:
        ReleaseContent.from_json(payload)
    except ClaimRefused as exc:
        code: Code | None = exc.code
    else:
        code = Code.RELEASE_INVALID
    assert code is Code.RELEASE_INVALID


@SETTINGS
@given(header=st.dictionaries(st.sampled_from([*sorted(good_header()), "epk"]), JSON_VALUES))
def test_arbitrary_headers_give_only_regie_errors(header: dict[str, Any]) -> None:
    token = rewrite_header(GOOD, lambda h: h.update(header))
    with contextlib.suppress(RegieError):
        decrypt_release(token, keys=KEY_A)
