"""Interop for the wallet-host formats: DPoP proofs, consent requests and sealed releases.

Independent implementations check what Regie writes and write what Regie reads:

* DPoP (RFC 9449): PyJWT verifies a proof Regie creates with the key from its
  header ``jwk``; Regie accepts proofs PyJWT, joserfc and node ``jose``
  (``SignJWT`` with an embedded ``jwk``) sign, bound by the thumbprint *they*
  compute (RFC 7638), so the ``jkt`` the host stores agrees with theirs; node
  ``jose`` verifies Regie's proofs with ``EmbeddedJWK``.
* Consent requests: PyJWT verifies a request Regie signs, with the verifier's
  registered public JWK and the wallet host as audience.
* Releases: node ``jose`` (``compactDecrypt``) opens a release Regie seals
  (ECDH-ES, X25519, A256GCM) with the verifier's private JWK, and Regie opens
  one ``CompactEncrypt`` seals to the verifier's public JWK.

PyJWT reads the wall clock, so this file's "now" is the wall clock read once
and passed explicitly everywhere else. The node tests need node and
``tests/interop/node/node_modules``: skipped when absent on a workstation, a
failure under CI.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey

from regie_protocol.consent_request import REQUEST_TYP, ConsentRequestClaims, sign_request
from regie_protocol.dpop import DPOP_TYP, access_token_hash, create_proof, verify_proof
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, SignatureRefused
from regie_protocol.keys import Alg, EncryptionKey, SigningKey, Unprotected
from regie_protocol.release import (
    RELEASE_CTY,
    RELEASE_TYP,
    ReleaseContent,
    decrypt_release,
    encrypt_release,
)
from tests.interop.node_peer import run_peer
from tests.interop.pyjwt_keys import pyjwt_keypair

pytestmark = pytest.mark.interop

NOW = int(time.time())
HOST = "https://wallet.example"
HTU = HOST + "/v1/data"
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJjb25zZW50LTEifQ.c2lnbmF0dXJl"
VERIFIER = "https://gemeente.example/rp/parkeren"
SD_JWT = (
    "eyJhbGciOiJFUzI1NiJ9.eyJ2Y3QiOiJ4In0.c2ln~WyJzYWx0IiwibiIsIkEiXQ~eyJ0eXAiOiJrYiJ9.e30.c2ln"
)
CONTENT = ReleaseContent(consent_id="consent-0001", presentations=(SD_JWT,), sealed_at=NOW)
PEER = "host_formats_peer.mjs"
ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]


@pytest.fixture(autouse=True)
def _joserfc_eddsa_deprecation() -> Iterator[None]:
    """joserfc 1.8 warns that ``EdDSA`` is deprecated by RFC 9864 (see the JWS interop file)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
        yield


def peer(*requests: dict[str, Any]) -> list[dict[str, Any]]:
    return run_peer(PEER, list(requests), package="jose")


def header_of(token: str) -> dict[str, Any]:
    header: dict[str, Any] = pyjwt.get_unverified_header(token)
    return header


def joserfc_thumbprint(jwk: dict[str, Any]) -> str:
    key: Any = OKPKey.import_key(jwk) if jwk["kty"] == "OKP" else ECKey.import_key(jwk)
    return str(key.thumbprint())


def dpop_claims(*, htm: str = "POST", ath: bool = True) -> dict[str, Any]:
    claims: dict[str, Any] = {"jti": "peer-proof-1", "htm": htm, "htu": HTU, "iat": NOW}
    if ath:
        claims["ath"] = access_token_hash(TOKEN)
    return claims


def regie_verify_proof(proof: str, jkt: str) -> Any:
    return verify_proof(proof, htm="POST", htu=HTU, now=NOW, access_token=TOKEN, expected_jkt=jkt)


# --- DPoP: Regie creates, they verify ------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_pyjwt_verifies_regie_dpop_proofs_with_the_header_jwk(alg: Alg) -> None:
    key = SigningKey.generate(alg)
    proof = create_proof(key, htm="POST", htu=HTU, now=NOW, access_token=TOKEN)
    header = header_of(proof)
    assert header.keys() == {"alg", "typ", "jwk"} and header["typ"] == DPOP_TYP
    claims = pyjwt.decode(
        proof,
        key=pyjwt.PyJWK(header["jwk"]).key,
        algorithms=[alg.value],
        options={"require": ["iat", "jti"]},
    )
    assert claims["htm"] == "POST" and claims["htu"] == HTU and claims["iat"] == NOW
    assert claims["ath"] == access_token_hash(TOKEN)
    assert joserfc_thumbprint(header["jwk"]) == key.public_key.thumbprint()


def test_pyjwt_refuses_a_tampered_regie_dpop_proof() -> None:
    """Negative control: the peer does check the signature with the header key."""
    key = SigningKey.generate(Alg.ES256)
    proof = create_proof(key, htm="POST", htu=HTU, now=NOW)
    other = SigningKey.generate(Alg.ES256)
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(proof, key=pyjwt.PyJWK(other.public_key.to_jwk()).key, algorithms=["ES256"])


# --- DPoP: they sign, Regie verifies -------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_regie_accepts_pyjwt_dpop_proofs(alg: Alg) -> None:
    private, jwk = pyjwt_keypair(alg)
    proof = pyjwt.encode(
        dpop_claims(), private, algorithm=alg.value, headers={"typ": DPOP_TYP, "jwk": jwk}
    )
    verified = regie_verify_proof(proof, joserfc_thumbprint(jwk))
    assert verified.jti == "peer-proof-1" and verified.htu == HTU


@pytest.mark.parametrize(("alg", "curve"), [("EdDSA", "Ed25519"), ("ES256", "P-256")])
def test_regie_accepts_joserfc_dpop_proofs(alg: str, curve: str) -> None:
    key: Any = OKPKey.generate_key("Ed25519") if curve == "Ed25519" else ECKey.generate_key("P-256")
    jwk = key.as_dict(private=False)
    proof = jose_jwt.encode(
        {"typ": DPOP_TYP, "alg": alg, "jwk": jwk}, dpop_claims(), key, algorithms=[alg]
    )
    verified = regie_verify_proof(proof, key.thumbprint())
    assert verified.jkt == key.thumbprint()


def test_regie_refuses_a_pyjwt_proof_for_another_key() -> None:
    """Negative control: a valid proof by a key other than the bound one."""
    private, jwk = pyjwt_keypair(Alg.ES256)
    _, other = pyjwt_keypair(Alg.ES256)
    proof = pyjwt.encode(
        dpop_claims(), private, algorithm="ES256", headers={"typ": DPOP_TYP, "jwk": jwk}
    )
    with pytest.raises(SignatureRefused) as caught:
        regie_verify_proof(proof, joserfc_thumbprint(other))
    assert caught.value.code is Code.DPOP_KEY_MISMATCH


# --- consent requests: Regie signs, PyJWT verifies with the registered key ------------------


@pytest.mark.parametrize("alg", ALGS)
def test_pyjwt_verifies_regie_consent_requests(alg: Alg) -> None:
    key = SigningKey.generate(alg)
    claims = ConsentRequestClaims(
        iss=VERIFIER,
        aud=HOST,
        jti="req-1",
        iat=NOW - 5,
        exp=NOW + 86400,
        inbox="w_1",
        attributes=("age_over_18",),
        purpose="https://w3id.org/dpv#ServiceProvision",
        legal_basis="https://w3id.org/dpv/legal/eu/gdpr#A6-1-e",
        valid_for=30 * 86400,
    )
    token = sign_request(claims, key=key)
    decoded = pyjwt.decode_complete(
        token,
        key=pyjwt.PyJWK(key.public_key.to_jwk()).key,
        algorithms=[alg.value],
        audience=HOST,
        issuer=VERIFIER,
        options={"require": ["exp", "iat", "jti"]},
    )
    assert decoded["header"] == {"alg": alg.value, "typ": REQUEST_TYP, "kid": key.kid}
    assert decoded["payload"] == claims.to_json()
    assert joserfc_thumbprint(key.public_key.to_jwk()) == key.kid
    with pytest.raises(pyjwt.InvalidAudienceError):
        pyjwt.decode(
            token,
            key=pyjwt.PyJWK(key.public_key.to_jwk()).key,
            algorithms=[alg.value],
            audience="https://other-wallet.example",
        )


# --- node jose: releases and DPoP ----------------------------------------------------------


def _private_jwk(key: EncryptionKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(key.export_private_jwk(protection=Unprotected()))
    return jwk


@pytest.mark.service
def test_jose_opens_regie_releases() -> None:
    key, other = EncryptionKey.generate(), EncryptionKey.generate()
    sealed = encrypt_release(CONTENT, recipient=key.public_key)
    opened, wrong_key = peer(
        {"op": "jwe_decrypt", "jwe": sealed, "jwk": _private_jwk(key)},
        {"op": "jwe_decrypt", "jwe": sealed, "jwk": _private_jwk(other)},
    )
    assert opened["ok"], opened
    assert json.loads(opened["plaintext"]) == CONTENT.to_json()
    header = opened["protectedHeader"]
    assert (header["alg"], header["enc"], header["epk"]["crv"]) == ("ECDH-ES", "A256GCM", "X25519")
    assert (header["typ"], header["cty"], header["kid"]) == (
        RELEASE_TYP,
        RELEASE_CTY,
        key.public_key.thumbprint(),
    )
    assert not wrong_key["ok"]  # negative control: jose does check the key


@pytest.mark.service
def test_regie_opens_jose_releases() -> None:
    key = EncryptionKey.generate()
    kid = key.public_key.thumbprint()
    good_header = {"kid": kid, "typ": RELEASE_TYP, "cty": RELEASE_CTY}
    plaintext = json.dumps(CONTENT.to_json())
    good, untyped = peer(
        {"op": "jwe_encrypt", "jwk": key.public_key.to_jwk(), "plaintext": plaintext,
         "header": good_header},
        {"op": "jwe_encrypt", "jwk": key.public_key.to_jwk(), "plaintext": plaintext,
         "header": {"kid": kid}},
    )  # fmt: skip
    assert good["ok"] and untyped["ok"], (good, untyped)
    assert decrypt_release(good["jwe"], keys=key) == CONTENT
    assert decrypt_release(good["jwe"], keys={kid: key}) == CONTENT
    with pytest.raises(MalformedInput) as caught:
        decrypt_release(untyped["jwe"], keys=key)
    assert caught.value.code is Code.RELEASE_INVALID
    with pytest.raises(ClaimRefused) as sealed_to_other:
        decrypt_release(good["jwe"], keys=EncryptionKey.generate())
    assert sealed_to_other.value.code is Code.RELEASE_INVALID


@pytest.mark.service
@pytest.mark.parametrize("alg", ALGS)
def test_jose_verifies_regie_dpop_proofs_with_the_embedded_jwk(alg: Alg) -> None:
    key = SigningKey.generate(alg)
    proof = create_proof(key, htm="POST", htu=HTU, now=NOW, access_token=TOKEN)
    tampered = proof[:-4] + ("AAAA" if not proof.endswith("AAAA") else "BBBB")
    good, bad = peer(
        {"op": "dpop_verify", "proof": proof, "now": NOW},
        {"op": "dpop_verify", "proof": tampered, "now": NOW},
    )
    assert good["ok"], good
    assert good["jkt"] == key.public_key.thumbprint()
    assert good["payload"]["ath"] == access_token_hash(TOKEN)
    assert not bad["ok"]


@pytest.mark.service
@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_regie_accepts_jose_dpop_proofs(alg: str) -> None:
    (signed,) = peer({"op": "dpop_sign", "alg": alg, "claims": dpop_claims()})
    assert signed["ok"], signed
    verified = regie_verify_proof(signed["proof"], signed["jkt"])
    assert verified.jkt == signed["jkt"]
    assert verified.jti == "peer-proof-1"
