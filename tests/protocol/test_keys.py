"""Keys: JWK import refusals, weak points at registration, thumbprints, private-key export.

Refusal tables start from a good JWK that imports (``test_good_jwks_import``)
and change one member. Weak-key tables list every small-order Ed25519 point,
non-canonical encodings (y >= p, sign bit on x = 0) and the X25519 low-order
list, each refused with ``KEY_WEAK`` when registering (SECURITY.md T28).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, OKPKey
from jwcrypto.jwk import JWK as JwcryptoJWK  # type: ignore[import-untyped]

from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol.errors import Code, KeyRefused, MalformedInput, Misuse, RegieError
from regie_protocol.keys import (
    THUMBPRINT_URI_PREFIX,
    Alg,
    Ed25519PublicKey,
    EncryptionKey,
    EncryptionPublicKey,
    P256PublicKey,
    Passphrase,
    SigningKey,
    Unprotected,
    parse_jwk_text,
    public_key_from_jwk,
    thumbprint_of,
)

ED_P = 2**255 - 19
ED_D = -121665 * pow(121666, -1, ED_P) % ED_P
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1

#: the eight points of order dividing 8 on edwards25519, canonically encoded (hex)
ED25519_SMALL_ORDER = {
    "identity-order-1": "0100000000000000000000000000000000000000000000000000000000000000",
    "order-2": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order-4-a": "0000000000000000000000000000000000000000000000000000000000000000",
    "order-4-b": "0000000000000000000000000000000000000000000000000000000000000080",
    "order-8-a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order-8-b": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "order-8-c": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order-8-d": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}


def _ed_encode(y: int, x_sign: int = 0) -> str:
    return (y | x_sign << 255).to_bytes(32, "little").hex()


#: encodings with y >= p (or a sign bit on x = 0): never produced by a conforming signer
ED25519_NON_CANONICAL = {
    "y=p(0)": _ed_encode(ED_P),
    "y=p+1(identity)": _ed_encode(ED_P + 1),
    "y=p+3-large-order": _ed_encode(ED_P + 3),
    "y=p+4-large-order": _ed_encode(ED_P + 4),
    "y=p+18-large-order": _ed_encode(ED_P + 18),
    "identity-with-x-sign": _ed_encode(1, 1),
    "order-2-with-x-sign": _ed_encode(ED_P - 1, 1),
}

#: X25519 u-coordinates of low order, and their non-canonical spellings (libsodium's list)
X25519_LOW_ORDER = {
    "0": "0000000000000000000000000000000000000000000000000000000000000000",
    "1": "0100000000000000000000000000000000000000000000000000000000000000",
    "order-8-a": "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "order-8-b": "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "p-1": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "p": "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "p+1": "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order-8-a+p-high-bit": "cdeb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "order-8-b+p-high-bit": "4c9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "2p-1-high-bit": "d9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "2p-high-bit": "daffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "2p+1-high-bit": "dbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
}


def okp(raw_hex: str, crv: str = "Ed25519") -> dict[str, Any]:
    return {"kty": "OKP", "crv": crv, "x": b64url_encode(bytes.fromhex(raw_hex))}


@pytest.fixture(scope="module")
def ed_jwk() -> dict[str, Any]:
    return SigningKey.generate(Alg.EDDSA).public_key.to_jwk()


@pytest.fixture(scope="module")
def p256_jwk() -> dict[str, Any]:
    return SigningKey.generate(Alg.ES256).public_key.to_jwk()


def test_good_jwks_import(ed_jwk: dict[str, Any], p256_jwk: dict[str, Any]) -> None:
    """Positive controls for the tables below, with and without registration."""
    for jwk in (ed_jwk, p256_jwk):
        for registering in (False, True):
            key = public_key_from_jwk(dict(jwk), registering=registering)
            assert key.to_jwk() == jwk
    # the RFC 9864 fully specified name is accepted on an Ed25519 JWK
    assert public_key_from_jwk({**ed_jwk, "alg": "Ed25519"}).to_jwk() == ed_jwk


# --- import refusals, one change to a good JWK --------------------------------------------

Change = dict[str, Any]
DROP = object()

ED_REFUSALS = [
    pytest.param(
        {"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
        KeyRefused,
        Code.PRIVATE_KEY_REFUSED,
        id="private-d",
    ),
    pytest.param({"k": "c2VjcmV0"}, KeyRefused, Code.PRIVATE_KEY_REFUSED, id="symmetric-k"),
    pytest.param({"p": "AQ"}, KeyRefused, Code.PRIVATE_KEY_REFUSED, id="rsa-private-p"),
    pytest.param({"kty": "RSA"}, KeyRefused, Code.KEY_INVALID, id="kty-RSA"),
    pytest.param({"kty": "oct"}, KeyRefused, Code.KEY_INVALID, id="kty-oct"),
    pytest.param({"kty": "EC"}, KeyRefused, Code.KEY_INVALID, id="kty-EC-with-Ed25519"),
    pytest.param({"kty": "okp"}, KeyRefused, Code.KEY_INVALID, id="kty-lowercase"),
    pytest.param({"kty": DROP}, KeyRefused, Code.KEY_INVALID, id="kty-missing"),
    pytest.param({"crv": "Ed448"}, KeyRefused, Code.KEY_INVALID, id="crv-Ed448"),
    pytest.param({"crv": "X25519"}, KeyRefused, Code.KEY_INVALID, id="crv-X25519-as-signing"),
    pytest.param({"crv": "ed25519"}, KeyRefused, Code.KEY_INVALID, id="crv-lowercase"),
    pytest.param({"crv": DROP}, KeyRefused, Code.KEY_INVALID, id="crv-missing"),
    pytest.param({"x": DROP}, KeyRefused, Code.KEY_INVALID, id="x-missing"),
    pytest.param({"x": 12}, KeyRefused, Code.KEY_INVALID, id="x-not-string"),
    pytest.param({"x": b64url_encode(bytes(31))}, KeyRefused, Code.KEY_INVALID, id="x-31-bytes"),
    pytest.param({"x": b64url_encode(bytes(33))}, KeyRefused, Code.KEY_INVALID, id="x-33-bytes"),
    pytest.param({"x": ""}, KeyRefused, Code.KEY_INVALID, id="x-empty"),
    pytest.param({"x": "AAAA="}, MalformedInput, Code.MALFORMED, id="x-padded"),
    pytest.param({"x": "A+/A"}, MalformedInput, Code.MALFORMED, id="x-standard-alphabet"),
    pytest.param({"alg": "ES256"}, KeyRefused, Code.KEY_INVALID, id="alg-ES256-on-OKP"),
    pytest.param({"alg": "HS256"}, KeyRefused, Code.KEY_INVALID, id="alg-HS256"),
    pytest.param({"alg": "none"}, KeyRefused, Code.KEY_INVALID, id="alg-none"),
    pytest.param({"alg": "eddsa"}, KeyRefused, Code.KEY_INVALID, id="alg-lowercase"),
    pytest.param({"alg": ["EdDSA"]}, KeyRefused, Code.KEY_INVALID, id="alg-array"),
]

P256_REFUSALS = [
    pytest.param({"d": "AQ"}, KeyRefused, Code.PRIVATE_KEY_REFUSED, id="private-d"),
    pytest.param({"crv": "P-384"}, KeyRefused, Code.KEY_INVALID, id="crv-P-384"),
    pytest.param({"crv": "secp256k1"}, KeyRefused, Code.KEY_INVALID, id="crv-secp256k1"),
    pytest.param({"kty": "OKP"}, KeyRefused, Code.KEY_INVALID, id="kty-OKP-with-P-256"),
    pytest.param({"y": DROP}, KeyRefused, Code.KEY_INVALID, id="y-missing"),
    pytest.param({"y": None}, KeyRefused, Code.KEY_INVALID, id="y-null"),
    pytest.param({"x": b64url_encode(bytes(31))}, KeyRefused, Code.KEY_INVALID, id="x-31-bytes"),
    pytest.param({"y": b64url_encode(bytes(33))}, KeyRefused, Code.KEY_INVALID, id="y-33-bytes"),
    pytest.param({"x": b64url_encode((1).to_bytes(32, "big")),
                  "y": b64url_encode((1).to_bytes(32, "big"))},
                 KeyRefused, Code.KEY_INVALID, id="point-not-on-curve-1-1"),
    pytest.param({"x": b64url_encode(bytes(32)), "y": b64url_encode(bytes(32))},
                 KeyRefused, Code.KEY_INVALID, id="point-0-0-infinity-spelling"),
    pytest.param({"x": b64url_encode(P256_P.to_bytes(32, "big"))}, KeyRefused,
                 Code.KEY_INVALID, id="x-equals-p"),
    pytest.param({"alg": "EdDSA"}, KeyRefused, Code.KEY_INVALID, id="alg-EdDSA-on-EC"),
    pytest.param({"alg": "Ed25519"}, KeyRefused, Code.KEY_INVALID, id="alg-Ed25519-on-EC"),
    pytest.param({"alg": "ES384"}, KeyRefused, Code.KEY_INVALID, id="alg-ES384"),
]  # fmt: skip


def _changed(jwk: dict[str, Any], change: Change) -> dict[str, Any]:
    result = dict(jwk)
    for name, value in change.items():
        if value is DROP:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def _assert_refused(call: Any, exc: type[RegieError], code: Code) -> None:
    with pytest.raises(RegieError) as caught:
        call()
    assert type(caught.value) is exc, caught.value
    assert caught.value.code is code, caught.value


@pytest.mark.parametrize("registering", [False, True], ids=["import", "register"])
@pytest.mark.parametrize(("change", "exc", "code"), ED_REFUSALS)
def test_ed25519_jwk_refused(
    ed_jwk: dict[str, Any], change: Change, exc: type[RegieError], code: Code, registering: bool
) -> None:
    jwk = _changed(ed_jwk, change)
    _assert_refused(lambda: public_key_from_jwk(jwk, registering=registering), exc, code)


@pytest.mark.parametrize("registering", [False, True], ids=["import", "register"])
@pytest.mark.parametrize(("change", "exc", "code"), P256_REFUSALS)
def test_p256_jwk_refused(
    p256_jwk: dict[str, Any], change: Change, exc: type[RegieError], code: Code, registering: bool
) -> None:
    jwk = _changed(p256_jwk, change)
    _assert_refused(lambda: public_key_from_jwk(jwk, registering=registering), exc, code)


@pytest.mark.parametrize("value", [[], "OKP", None, 1], ids=["array", "string", "null", "int"])
def test_jwk_not_an_object(value: Any) -> None:
    _assert_refused(lambda: public_key_from_jwk(value), KeyRefused, Code.KEY_INVALID)
    _assert_refused(lambda: EncryptionPublicKey.from_jwk(value), KeyRefused, Code.KEY_INVALID)


# --- weak points, refused when registering ------------------------------------------------


def _edwards_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = p1, p2
    t = ED_D * x1 * x2 * y1 * y2 % ED_P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, ED_P) % ED_P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, ED_P) % ED_P
    return x3, y3


def _edwards_decode(raw: bytes) -> tuple[int, int]:
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, -1, ED_P) % ED_P
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if x * x % ED_P != x2:
        x = x * pow(2, (ED_P - 1) // 4, ED_P) % ED_P
    assert x * x % ED_P == x2, "not on the curve"
    if x & 1 != raw[31] >> 7:
        x = ED_P - x
    return x, y % ED_P


def test_small_order_list_is_the_eight_torsion() -> None:
    """Independent check of the table: eight distinct points P with 8P = identity."""
    points = {_edwards_decode(bytes.fromhex(h)) for h in ED25519_SMALL_ORDER.values()}
    assert len(points) == 8
    for point in points:
        acc = point
        for _ in range(3):
            acc = _edwards_add(acc, acc)
        assert acc == (0, 1)


@pytest.mark.parametrize(
    "raw_hex",
    [pytest.param(h, id=n) for n, h in {**ED25519_SMALL_ORDER, **ED25519_NON_CANONICAL}.items()],
)
def test_ed25519_weak_point_refused_when_registering(raw_hex: str) -> None:
    jwk = okp(raw_hex)
    key = public_key_from_jwk(jwk)  # a plain import takes 32 bytes at face value...
    # ...but libsodium refuses to verify with it: the trivial forgery R = identity, S = 0
    forged = bytes.fromhex(ED25519_SMALL_ORDER["identity-order-1"]) + bytes(32)
    with pytest.raises(RegieError) as caught:
        key.verify(b"any message", forged)
    assert caught.value.code is Code.SIGNATURE_INVALID
    _assert_refused(lambda: public_key_from_jwk(jwk, registering=True), KeyRefused, Code.KEY_WEAK)


@pytest.mark.parametrize("raw_hex", [pytest.param(h, id=n) for n, h in X25519_LOW_ORDER.items()])
def test_x25519_low_order_refused_when_registering(raw_hex: str) -> None:
    jwk = okp(raw_hex, "X25519")
    assert EncryptionPublicKey.from_jwk(jwk).raw == bytes.fromhex(raw_hex)
    _assert_refused(
        lambda: EncryptionPublicKey.from_jwk(jwk, registering=True), KeyRefused, Code.KEY_WEAK
    )


def test_x25519_good_key_registers_and_refusals() -> None:
    jwk = EncryptionKey.generate().public_key.to_jwk()
    assert EncryptionPublicKey.from_jwk(jwk, registering=True).to_jwk() == jwk
    for change, code in (
        ({"d": "AQ"}, Code.PRIVATE_KEY_REFUSED),
        ({"crv": "Ed25519"}, Code.KEY_INVALID),
        ({"kty": "EC"}, Code.KEY_INVALID),
        ({"x": b64url_encode(bytes(31))}, Code.KEY_INVALID),
        ({"x": DROP}, Code.KEY_INVALID),
    ):
        changed = _changed(jwk, change)
        _assert_refused(lambda c=changed: EncryptionPublicKey.from_jwk(c), KeyRefused, code)


# --- thumbprints ------------------------------------------------------------------------

RFC8037_A3_KEY = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_A3_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_thumbprint_vector() -> None:
    key = public_key_from_jwk(RFC8037_A3_KEY)
    assert key.thumbprint() == RFC8037_A3_THUMBPRINT
    assert thumbprint_of(key.required_members()) == RFC8037_A3_THUMBPRINT
    assert key.thumbprint_uri() == (
        "urn:ietf:params:oauth:jwk-thumbprint:sha-256:" + RFC8037_A3_THUMBPRINT
    )
    # member order and extra members do not change the thumbprint
    reordered = {"x": RFC8037_A3_KEY["x"], "kty": "OKP", "crv": "Ed25519", "use": "sig"}
    assert public_key_from_jwk(reordered).thumbprint() == RFC8037_A3_THUMBPRINT


@pytest.mark.parametrize("alg", [Alg.EDDSA, Alg.ES256])
def test_thumbprints_match_joserfc_and_jwcrypto(alg: Alg) -> None:
    for _ in range(5):
        key = SigningKey.generate(alg).public_key
        jwk: dict[str, Any] = dict(key.required_members())
        theirs = (OKPKey if alg is Alg.EDDSA else ECKey).import_key(jwk)
        assert key.thumbprint() == theirs.thumbprint()
        assert key.thumbprint_uri() == theirs.thumbprint_uri()
        other = JwcryptoJWK(**jwk)
        assert key.thumbprint() == other.thumbprint()
        assert key.thumbprint_uri() == other.thumbprint_uri()
        assert key.to_jwk()["kid"] == key.thumbprint()


def test_thumbprint_uri_form() -> None:
    """RFC 9278: the URN prefix, then the unpadded base64url SHA-256 thumbprint."""
    assert THUMBPRINT_URI_PREFIX == "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
    uri = SigningKey.generate().public_key.thumbprint_uri()
    digest = uri.removeprefix(THUMBPRINT_URI_PREFIX)
    assert len(b64url_decode(digest)) == 32
    x25519_key = EncryptionKey.generate().public_key
    members: dict[str, Any] = dict(x25519_key.required_members())
    assert x25519_key.thumbprint() == OKPKey.import_key(members).thumbprint()


def test_p256_key_from_cryptography_and_equality() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    a = P256PublicKey.from_cryptography(private.public_key())
    b = public_key_from_jwk(a.to_jwk())
    assert a == b
    assert hash(a) == hash(b)
    assert a != SigningKey.generate(Alg.ES256).public_key
    assert a != "not a key"


# --- private keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "export",
    [SigningKey.export_private_jwk, EncryptionKey.export_private_jwk],
    ids=["signing", "encryption"],
)
def test_private_export_requires_a_protection(export: Any) -> None:
    """STYLE habit 11: no default; calling without ``protection`` is a TypeError."""
    parameter = inspect.signature(export).parameters["protection"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty
    key = (
        SigningKey.generate()
        if export is SigningKey.export_private_jwk
        else EncryptionKey.generate()
    )
    with pytest.raises(TypeError):
        export(key)


def test_unprotected_round_trip(signing_key: SigningKey) -> None:
    text = signing_key.export_private_jwk(protection=Unprotected())
    again = SigningKey.from_private_jwk_text(text)
    assert again.kid == signing_key.kid
    again.public_key.verify(b"m", signing_key.sign(b"m"))
    signing_key.public_key.verify(b"m", again.sign(b"m"))


def test_passphrase_round_trip_and_wrong_passphrase(signing_key: SigningKey) -> None:
    text = signing_key.export_private_jwk(protection=Passphrase("correct horse battery"))
    assert text.count(".") == 4
    assert json.loads(b64url_decode(text.split(".")[0]))["alg"] == "PBES2-HS512+A256KW"
    assert json.loads(b64url_decode(text.split(".")[0]))["p2c"] >= 210_000
    again = SigningKey.from_private_jwk_text(text, passphrase="correct horse battery")
    assert again.kid == signing_key.kid
    again.public_key.verify(b"m", signing_key.sign(b"m"))
    for wrong in ("correct horse batterY", "x", "correct horse battery "):
        _assert_refused(
            lambda w=wrong: SigningKey.from_private_jwk_text(text, passphrase=w),
            KeyRefused,
            Code.KEY_INVALID,
        )
    with pytest.raises(Misuse):
        SigningKey.from_private_jwk_text(text)
    with pytest.raises(Misuse):
        signing_key.export_private_jwk(protection=Passphrase(""))


def test_passphrase_file_tampering_refused(signing_key: SigningKey) -> None:
    text = signing_key.export_private_jwk(protection=Passphrase("pw"))
    parts = text.split(".")
    for index in range(5):
        damaged = parts.copy()
        damaged[index] = damaged[index][:-2] + ("AA" if damaged[index][-2:] != "AA" else "BA")
        _assert_refused(
            lambda d=".".join(damaged): SigningKey.from_private_jwk_text(d, passphrase="pw"),
            KeyRefused,
            Code.KEY_INVALID,
        )


def test_private_jwk_with_mismatched_public_part_refused(signing_key: SigningKey) -> None:
    """T28 double-public-key oracle: a private key is never paired with another public key."""
    jwk = json.loads(signing_key.export_private_jwk(protection=Unprotected()))
    other = SigningKey.generate(signing_key.alg).public_key.to_jwk()
    for member in ("x", "y"):
        if member in jwk:
            changed = {**jwk, member: other[member]}
            _assert_refused(lambda c=changed: SigningKey.from_private_jwk(c), KeyRefused,
                            Code.KEY_INVALID)  # fmt: skip
    assert "public_key" not in inspect.signature(SigningKey.sign).parameters


@pytest.mark.parametrize(
    ("jwk", "exc", "code"),
    [
        pytest.param({"kty": "OKP", "crv": "Ed25519", "d": b64url_encode(bytes(31))}, KeyRefused,
                     Code.KEY_INVALID, id="ed25519-seed-31-bytes"),
        pytest.param({"kty": "EC", "crv": "P-256", "d": b64url_encode(bytes(32))}, KeyRefused,
                     Code.KEY_INVALID, id="p256-scalar-zero"),
        pytest.param({"kty": "EC", "crv": "P-256", "d": b64url_encode(b"\xff" * 32)}, KeyRefused,
                     Code.KEY_INVALID, id="p256-scalar-above-order"),
        pytest.param({"kty": "OKP", "crv": "X25519", "d": b64url_encode(bytes(32))}, KeyRefused,
                     Code.KEY_INVALID, id="x25519-as-signing-key"),
        pytest.param({"kty": "OKP", "crv": "Ed25519"}, KeyRefused, Code.KEY_INVALID,
                     id="d-missing"),
        pytest.param({"kty": "OKP", "crv": "Ed25519", "d": "AA=="}, MalformedInput,
                     Code.MALFORMED, id="d-padded"),
    ],
)  # fmt: skip
def test_private_jwk_refused(jwk: dict[str, Any], exc: type[RegieError], code: Code) -> None:
    _assert_refused(lambda: SigningKey.from_private_jwk(jwk), exc, code)


def test_repr_and_str_never_show_key_material(signing_key: SigningKey) -> None:
    d = json.loads(signing_key.export_private_jwk(protection=Unprotected()))["d"]
    secret_forms = {d, b64url_decode(d).hex(), repr(b64url_decode(d))}
    encryption = EncryptionKey.generate()
    enc_d = json.loads(encryption.export_private_jwk(protection=Unprotected()))["d"]
    shown = " ".join(
        [
            repr(signing_key),
            str(signing_key),
            f"{signing_key!r} {signing_key}",
            repr(encryption),
            str(encryption),
            repr(Passphrase("hunter2-secret")),
        ]
    )
    for secret in (*secret_forms, enc_d, "hunter2-secret"):
        assert secret not in shown
    assert signing_key.kid in repr(signing_key)


def test_signing_key_holds_exactly_one_key() -> None:
    with pytest.raises(Misuse):
        SigningKey()


def test_parse_jwk_text_refusals() -> None:
    assert parse_jwk_text(json.dumps(RFC8037_A3_KEY)) == RFC8037_A3_KEY
    _assert_refused(lambda: parse_jwk_text("[]"), KeyRefused, Code.KEY_INVALID)
    _assert_refused(
        lambda: parse_jwk_text('{"kty":"OKP","kty":"EC"}'), MalformedInput, Code.DUPLICATE_MEMBER
    )
    _assert_refused(lambda: parse_jwk_text(" " * 9000), KeyRefused, Code.KEY_INVALID)
    _assert_refused(
        lambda: parse_jwk_text('{"a":' * 10 + "1" + "}" * 10), MalformedInput, Code.DEPTH_EXCEEDED
    )
    _assert_refused(lambda: parse_jwk_text(b"\xff{}"), MalformedInput, Code.MALFORMED)


def test_ed25519_public_key_lengths() -> None:
    for n in (0, 31, 33, 64):
        _assert_refused(lambda n=n: Ed25519PublicKey(bytes(n)), KeyRefused, Code.KEY_INVALID)
