"""Consent tokens checked by implementations Regie did not write: PyJWT and node ``jose``.

* PyJWT and jose verify consent tokens that Regie signs (Ed25519 and P-256)
  with only the holder's public JWK, checking ``typ``, ``aud``, ``exp``, ``nbf``
  and reading ``authorization_details`` unchanged; each peer also refuses the
  tampered, expired and other-audience variants (negative controls).
* Regie verifies a consent token PyJWT signs from the same claims (another
  JSON spelling), so the claims model does not depend on Regie's own writer.

The node half needs node and ``tests/interop/node/node_modules``: skipped when
absent on a workstation, a failure under CI (``require_tool``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from regie_protocol.consent import CONSENT_TYP, ConsentClaims, sign_consent, verify_consent
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from tests.conftest import NOW
from tests.interop.test_jws_interop_node import peer
from tests.protocol.consent.world import VERIFIER_A, VERIFIER_B, good_claims, make_world

pytestmark = pytest.mark.interop

ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]


def _consent(alg: Alg, now: int) -> tuple[SigningKey, ConsentClaims, str]:
    world = make_world(alg)
    claims = good_claims(world, now=now)
    return world.holder_a, claims, sign_consent(claims, holder_key=world.holder_a)


def _tampered(token: str) -> str:
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


# --- PyJWT ----------------------------------------------------------------------------------


def _pyjwt_decode(token: str, jwk: dict[str, Any], alg: str, audience: str) -> dict[str, Any]:
    """PyJWT as a careful verifier: fixed algorithm, audience, required times, typ checked."""
    complete = pyjwt.decode_complete(
        token,
        key=pyjwt.PyJWK(jwk).key,
        algorithms=[alg],
        audience=audience,
        options={"require": ["exp", "iat", "nbf", "aud", "iss", "jti"]},
        leeway=0,
    )
    if complete["header"].get("typ") != CONSENT_TYP:
        raise pyjwt.InvalidTokenError("wrong typ")
    payload: dict[str, Any] = complete["payload"]
    return payload


@pytest.mark.parametrize("alg", ALGS)
def test_pyjwt_verifies_regie_consent(alg: Alg) -> None:
    now = int(time.time())  # PyJWT reads the wall clock
    holder, claims, token = _consent(alg, now)
    jwk = holder.public_key.to_jwk()
    payload = _pyjwt_decode(token, jwk, alg.value, VERIFIER_A)
    assert payload == claims.to_json()
    assert payload["authorization_details"][0]["claims"] == ["address.locality", "age_over_18"]
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": alg.value, "typ": CONSENT_TYP, "kid": holder.kid}
    with pytest.raises(pyjwt.InvalidSignatureError):
        _pyjwt_decode(_tampered(token), jwk, alg.value, VERIFIER_A)
    with pytest.raises(pyjwt.InvalidAudienceError):
        _pyjwt_decode(token, jwk, alg.value, VERIFIER_B)
    expired = sign_consent(
        replace(claims, iat=now - 7200, nbf=now - 7200, exp=now - 3600), holder_key=holder
    )
    with pytest.raises(pyjwt.ExpiredSignatureError):
        _pyjwt_decode(expired, jwk, alg.value, VERIFIER_A)


@pytest.mark.parametrize("alg", ALGS)
def test_regie_verifies_consent_signed_by_pyjwt(alg: Alg) -> None:
    if alg is Alg.EDDSA:
        private: Any = ed25519.Ed25519PrivateKey.generate()
        jwk = dict(OKPAlgorithm.to_jwk(private.public_key(), as_dict=True))
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = dict(ECAlgorithm.to_jwk(private.public_key(), as_dict=True))
    key = public_key_from_jwk(jwk, registering=True)
    claims = replace(good_claims(make_world(alg)), iss=key.thumbprint_uri())
    token = pyjwt.encode(
        claims.to_json(), private, algorithm=alg.value, headers={"typ": CONSENT_TYP}
    )
    verified = verify_consent(
        token, holder_keys={key.thumbprint_uri(): key}, audience=VERIFIER_A, now=NOW
    )
    assert verified.claims == claims
    assert verified.key == key


# --- node jose ------------------------------------------------------------------------------


def _node_verify(token: str, jwk: dict[str, Any], alg: str, **extra: Any) -> dict[str, Any]:
    return {
        "op": "verify",
        "token": token,
        "jwk": jwk,
        "algorithms": [alg],
        "typ": CONSENT_TYP,
        "audience": VERIFIER_A,
        "now": NOW,
        **extra,
    }


@pytest.mark.service
def test_jose_verifies_regie_consent() -> None:
    requests: list[dict[str, Any]] = []
    expected: list[tuple[Alg, ConsentClaims, str]] = []
    for alg in (Alg.EDDSA, Alg.ES256):
        holder, claims, token = _consent(alg, NOW)
        jwk, name = holder.public_key.to_jwk(), alg.value
        requests += [
            _node_verify(token, jwk, name),
            _node_verify(_tampered(token), jwk, name),
            _node_verify(token, jwk, name, typ="kb+jwt"),
            _node_verify(token, jwk, name, audience=VERIFIER_B),
            _node_verify(token, jwk, name, now=claims.exp + 1),
            _node_verify(token, jwk, name, now=claims.nbf - 3600),
        ]
        expected.append((alg, claims, holder.kid))
    results = peer(*requests)
    for i, (alg, claims, kid) in enumerate(expected):
        good, tampered, wrong_typ, wrong_aud, expired, early = results[6 * i : 6 * i + 6]
        assert good["ok"], good
        assert good["protectedHeader"] == {"alg": alg.value, "typ": CONSENT_TYP, "kid": kid}
        assert good["payload"] == claims.to_json()
        assert good["payload"]["authorization_details"][1]["retention"] == "P0D"
        assert tampered["code"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
        assert wrong_typ["code"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"
        assert wrong_aud["code"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"
        assert expired["code"] == "ERR_JWT_EXPIRED"
        assert early["code"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"
