"""Interop with PyJWT and joserfc, both directions, and evidence of their defaults.

* PyJWT and joserfc verify tokens Regie signs (EdDSA and ES256) with the public
  JWK Regie exports; Regie verifies tokens they sign with their own keys.
* Evidence for docs/decisions: which library reads and writes ``alg: Ed25519``
  (RFC 9864), and what each accepts by default that Regie's strict layer refuses
  (duplicate members, ``aud`` arrays, a missing or string ``exp``). These tests pin
  the libraries' behaviour at the versions installed; a failure after an upgrade
  means the evidence table needs a new row, not that Regie is wrong.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey
from joserfc.jwt import JWTClaimsRegistry

from regie_protocol import jws
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, RegieError
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from tests.interop.pyjwt_keys import pyjwt_keypair
from tests.protocol.jws_forge import forge

pytestmark = pytest.mark.interop

#: PyJWT has no clock argument and reads the wall clock, so this file's "now" is the
#: wall clock read once; Regie and joserfc still receive it explicitly
NOW = int(time.time())

TYP = "regie-consent+jwt"
AUDIENCE = "https://verifier.example/rp/7"
PROFILE = jws.TokenProfile(
    name="consent token",
    typ=TYP,
    algs=frozenset({"EdDSA", "Ed25519", "ES256"}),
    required_claims=frozenset({"iss", "aud", "jti"}),
    max_lifetime=400 * 86400,
)
CLAIMS = {
    "iss": "https://wallet.example/holder/42",
    "aud": AUDIENCE,
    "jti": "consent-0001",
    "iat": NOW - 10,
    "exp": NOW + 3600,
    "scope": ["email"],
}


@pytest.fixture(autouse=True)
def _joserfc_eddsa_deprecation() -> Iterator[None]:
    """joserfc 1.8 warns that ``EdDSA`` is deprecated by RFC 9864 (recorded in the evidence)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
        yield


def regie_verify(token: str, jwk: dict[str, Any]) -> jws.VerifiedJWS:
    key = public_key_from_jwk(jwk, registering=True)
    return jws.verify(
        token, profile=PROFILE, keys={key.thumbprint(): key}, now=NOW, audience=AUDIENCE
    )


def pyjwt_decode(token: str, jwk: dict[str, Any], algorithms: list[str]) -> dict[str, Any]:
    """PyJWT, configured as a careful caller would: fixed algorithms, audience, required exp."""
    complete = pyjwt.decode_complete(
        token,
        key=pyjwt.PyJWK(jwk).key,
        algorithms=algorithms,
        audience=AUDIENCE,
        options={"require": ["exp", "iat"]},
        leeway=0,
    )
    assert complete["header"]["typ"] == TYP
    claims: dict[str, Any] = complete["payload"]
    return claims


def joserfc_decode(token: str, jwk: dict[str, Any], algorithms: list[str]) -> dict[str, Any]:
    key_type = OKPKey if jwk["kty"] == "OKP" else ECKey
    decoded = jose_jwt.decode(token, key_type.import_key(jwk), algorithms=algorithms)
    assert decoded.header["typ"] == TYP
    JWTClaimsRegistry(
        now=NOW, aud={"essential": True, "value": AUDIENCE}, exp={"essential": True}
    ).validate(decoded.claims)
    return decoded.claims


# --- Regie signs, they verify -------------------------------------------------------------


def test_pyjwt_verifies_regie_tokens(signing_key: SigningKey) -> None:
    token = jws.sign(CLAIMS, key=signing_key, typ=TYP)
    regie_verify(token, signing_key.public_key.to_jwk())  # positive control
    claims = pyjwt_decode(token, signing_key.public_key.to_jwk(), [signing_key.alg.value])
    assert claims == CLAIMS


def test_joserfc_verifies_regie_tokens(signing_key: SigningKey) -> None:
    token = jws.sign(CLAIMS, key=signing_key, typ=TYP)
    claims = joserfc_decode(token, signing_key.public_key.to_jwk(), [signing_key.alg.value])
    assert claims == CLAIMS


def test_their_verification_fails_on_a_tampered_regie_token(signing_key: SigningKey) -> None:
    """Negative control: the peers do check the signature we hand them."""
    token = jws.sign(CLAIMS, key=signing_key, typ=TYP)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    jwk = signing_key.public_key.to_jwk()
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt_decode(tampered, jwk, [signing_key.alg.value])
    with pytest.raises(Exception, match="bad_signature"):
        joserfc_decode(tampered, jwk, [signing_key.alg.value])


# --- they sign, Regie verifies ------------------------------------------------------------


@pytest.mark.parametrize("alg", [Alg.EDDSA, Alg.ES256])
def test_regie_verifies_pyjwt_tokens(alg: Alg) -> None:
    private, jwk = pyjwt_keypair(alg)
    kid = public_key_from_jwk(jwk).thumbprint()
    token = pyjwt.encode(CLAIMS, private, algorithm=alg.value, headers={"typ": TYP, "kid": kid})
    verified = regie_verify(token, jwk)
    assert verified.claims == CLAIMS
    assert verified.header == {"alg": alg.value, "typ": TYP, "kid": kid}


@pytest.mark.parametrize(("alg", "curve"), [("EdDSA", "Ed25519"), ("Ed25519", "Ed25519"),
                                            ("ES256", "P-256")])  # fmt: skip
def test_regie_verifies_joserfc_tokens(alg: str, curve: str) -> None:
    key: Any = OKPKey.generate_key("Ed25519") if curve == "Ed25519" else ECKey.generate_key("P-256")
    jwk = key.as_dict(private=False)
    kid = public_key_from_jwk(jwk).thumbprint()
    token = jose_jwt.encode({"alg": alg, "typ": TYP, "kid": kid}, CLAIMS, key, algorithms=[alg])
    verified = regie_verify(token, jwk)
    assert verified.claims == CLAIMS
    assert verified.header["alg"] == alg


# --- evidence: EdDSA vs Ed25519 (RFC 9864) ------------------------------------------------


def _ed25519_token() -> tuple[str, dict[str, Any]]:
    """A Regie Ed25519 key signing a token with the fully specified ``alg: Ed25519``."""
    key = SigningKey.generate(Alg.EDDSA)
    token = forge({"alg": "Ed25519", "typ": TYP, "kid": key.kid}, CLAIMS, key=key)
    jwk = {k: v for k, v in key.public_key.to_jwk().items() if k != "alg"}
    regie_verify(token, jwk)  # Regie reads it
    return token, jwk


def test_evidence_pyjwt_has_no_ed25519_alg() -> None:
    """PyJWT 2.x: neither verifies nor signs ``alg: Ed25519``; EdDSA only."""
    token, jwk = _ed25519_token()
    with pytest.raises(pyjwt.InvalidAlgorithmError, match="not supported"):
        pyjwt_decode(token, jwk, ["Ed25519"])
    with pytest.raises(pyjwt.InvalidAlgorithmError, match="not allowed"):
        pyjwt_decode(token, jwk, ["EdDSA"])
    private, _ = pyjwt_keypair(Alg.EDDSA)
    with pytest.raises(NotImplementedError):
        pyjwt.encode(CLAIMS, private, algorithm="Ed25519")


def test_evidence_joserfc_reads_and_writes_ed25519_and_deprecates_eddsa() -> None:
    """joserfc 1.8: verifies and signs Ed25519 when asked by name; warns on EdDSA.

    Two traps: ``Ed25519`` is not in its default (recommended) list, and a JWK
    carrying ``"alg": "EdDSA"`` (as Regie exports) refuses an Ed25519 token.
    """
    token, jwk = _ed25519_token()
    assert joserfc_decode(token, jwk, ["Ed25519"]) == CLAIMS
    with pytest.raises(Exception, match="not recommended"):
        jose_jwt.decode(token, OKPKey.import_key(jwk))
    with pytest.raises(Exception, match="designed for algorithm 'EdDSA'"):
        jose_jwt.decode(token, OKPKey.import_key({**jwk, "alg": "EdDSA"}), algorithms=["Ed25519"])
    eddsa_token = jws.sign(CLAIMS, key=SigningKey.generate(Alg.EDDSA), typ=TYP)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SecurityWarning)
        with pytest.raises(SecurityWarning, match="RFC 9864"):
            jose_jwt.decode(eddsa_token, OKPKey.generate_key("Ed25519"), algorithms=["EdDSA"])


# --- evidence: library defaults that Regie refuses -----------------------------------------

_BASE = f'"iss":"i","jti":"j","iat":{NOW - 10}'
_EXP = f',"exp":{NOW + 3600}'
#: payload JSON text, and the exact refusal Regie gives it
DEFAULTS: dict[str, tuple[bytes | None, type[RegieError], Code]] = {
    "duplicate-aud-last-wins": (
        ("{" + _BASE + _EXP + f',"aud":"https://evil.example","aud":"{AUDIENCE}"}}').encode(),
        MalformedInput,
        Code.DUPLICATE_MEMBER,
    ),
    "duplicate-alg-in-header": (None, MalformedInput, Code.DUPLICATE_MEMBER),
    "aud-array-containing-audience": (
        ("{" + _BASE + _EXP + f',"aud":["{AUDIENCE}","https://evil.example"]}}').encode(),
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    "exp-missing": (
        ("{" + _BASE + f',"aud":"{AUDIENCE}"}}').encode(),
        ClaimRefused,
        Code.CLAIM_MISSING,
    ),
    "exp-numeric-string": (
        ("{" + _BASE + f',"exp":"{NOW + 3600}","aud":"{AUDIENCE}"}}').encode(),
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
}
#: what each library does with its default options (True = accepted)
EXPECTED_DEFAULTS = {
    "duplicate-aud-last-wins": {"pyjwt": True, "joserfc": True},
    "duplicate-alg-in-header": {"pyjwt": True, "joserfc": True},
    "aud-array-containing-audience": {"pyjwt": True, "joserfc": True},
    "exp-missing": {"pyjwt": True, "joserfc": True},
    "exp-numeric-string": {"pyjwt": True, "joserfc": False},
}


def _defaults_token(name: str, key: SigningKey) -> str:
    payload, _, _ = DEFAULTS[name]
    if payload is None:  # the header says none first, EdDSA last
        good = ("{" + _BASE + _EXP + f',"aud":"{AUDIENCE}"}}').encode()
        header = b'{"alg":"none","typ":"%s","alg":"EdDSA"}' % TYP.encode()
        return forge(header, good, key=key)
    return forge({"alg": "EdDSA", "typ": TYP}, payload, key=key)


def _accepted(call: Callable[[], Any]) -> bool:
    try:
        call()
    except Exception:
        return False
    return True


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_evidence_library_defaults_versus_regie(name: str) -> None:
    key = SigningKey.generate(Alg.EDDSA)
    jwk: dict[str, Any] = {k: v for k, v in key.public_key.to_jwk().items() if k != "alg"}
    token = _defaults_token(name, key)
    pyjwt_key = pyjwt.PyJWK(jwk).key
    seen = {
        "pyjwt": _accepted(
            lambda: pyjwt.decode(token, key=pyjwt_key, algorithms=["EdDSA"], audience=AUDIENCE)
        ),
        "joserfc": _accepted(
            lambda: JWTClaimsRegistry(now=NOW, aud={"essential": True, "value": AUDIENCE}).validate(
                jose_jwt.decode(token, OKPKey.import_key(jwk), algorithms=["EdDSA"]).claims
            )
        ),
    }
    assert seen == EXPECTED_DEFAULTS[name]
    _, exc, code = DEFAULTS[name]
    with pytest.raises(RegieError) as caught:
        jws.verify(token, profile=PROFILE, keys=key.public_key, now=NOW, audience=AUDIENCE)
    assert type(caught.value) is exc
    assert caught.value.code is code
