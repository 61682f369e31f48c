"""Interop with node ``jose`` (panva), both directions, through ``node/jose_peer.mjs``.

* ``jwtVerify`` (``importJWK``, algorithms EdDSA/ES256, ``typ`` and audience
  checks) verifies tokens Regie signs, with the public JWK Regie exports.
* Regie verifies tokens ``SignJWT`` signs with fresh node keys; the ``kid`` is
  jose's RFC 7638 thumbprint, so Regie's key lookup also checks the thumbprints agree.
* Evidence for docs/decisions: jose reads and writes ``alg: Ed25519`` (RFC 9864),
  and what it accepts by default that Regie refuses.

Needs node and ``tests/interop/node/node_modules`` (``npm ci`` there): skipped
when absent on a workstation, a failure under CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from regie_protocol import jws
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, RegieError
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from tests.conftest import NOW
from tests.interop.node_peer import run_peer
from tests.protocol.jws_forge import forge

pytestmark = [pytest.mark.interop, pytest.mark.service]

NODE_DIR = Path(__file__).parent / "node"
PEER = NODE_DIR / "jose_peer.mjs"
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


def peer(*requests: dict[str, Any]) -> list[dict[str, Any]]:
    """Send requests to the jose peer in one process; one result per request, in order."""
    return run_peer(PEER.name, list(requests), package="jose")


def node_verify(token: str, jwk: dict[str, Any], algorithms: list[str], **extra: Any) -> Any:
    return {
        "op": "verify",
        "token": token,
        "jwk": jwk,
        "algorithms": algorithms,
        "typ": TYP,
        "audience": AUDIENCE,
        "now": NOW,
        **extra,
    }


def regie_verify(token: str, jwk: dict[str, Any]) -> jws.VerifiedJWS:
    key = public_key_from_jwk(jwk, registering=True)
    return jws.verify(
        token, profile=PROFILE, keys={key.thumbprint(): key}, now=NOW, audience=AUDIENCE
    )


# --- Regie signs, jose verifies -----------------------------------------------------------


def test_jose_verifies_regie_tokens() -> None:
    keys = [SigningKey.generate(Alg.EDDSA), SigningKey.generate(Alg.ES256)]
    tokens = [jws.sign(CLAIMS, key=key, typ=TYP) for key in keys]
    requests = []
    for key, token in zip(keys, tokens, strict=True):
        jwk = key.public_key.to_jwk()
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        requests += [
            node_verify(token, jwk, [key.alg.value]),
            node_verify(tampered, jwk, [key.alg.value]),  # negative control
            node_verify(token, jwk, [key.alg.value], typ="kb+jwt"),  # jose checks typ
            node_verify(token, jwk, [key.alg.value], audience="https://other.example"),
        ]
    results = peer(*requests)
    for i, key in enumerate(keys):
        good, bad_signature, wrong_typ, wrong_aud = results[4 * i : 4 * i + 4]
        assert good["ok"], good
        assert good["payload"] == CLAIMS
        assert good["protectedHeader"] == {"alg": key.alg.value, "typ": TYP, "kid": key.kid}
        assert bad_signature["code"] == "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
        assert wrong_typ["code"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"
        assert wrong_aud["code"] == "ERR_JWT_CLAIM_VALIDATION_FAILED"


# --- jose signs, Regie verifies -----------------------------------------------------------


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519", "ES256"])
def test_regie_verifies_jose_tokens(alg: str) -> None:
    (signed,) = peer({"op": "sign", "alg": alg, "typ": TYP, "claims": CLAIMS, "kid": True})
    assert signed["ok"], signed
    key = public_key_from_jwk(signed["jwk"], registering=True)
    assert signed["kid"] == key.thumbprint()  # jose's RFC 7638 thumbprint is ours
    verified = regie_verify(signed["token"], signed["jwk"])
    assert verified.claims == CLAIMS
    assert verified.header == {"alg": alg, "typ": TYP, "kid": key.thumbprint()}


# --- evidence: EdDSA vs Ed25519 and jose's defaults ----------------------------------------


def test_evidence_jose_reads_ed25519_tokens() -> None:
    """jose verifies ``alg: Ed25519`` once asked for it, whichever name the JWK carries."""
    key = SigningKey.generate(Alg.EDDSA)
    token = forge({"alg": "Ed25519", "typ": TYP, "kid": key.kid}, CLAIMS, key=key)
    regie_verify(token, key.public_key.to_jwk())  # Regie reads it (positive control)
    exported = key.public_key.to_jwk()  # carries "alg": "EdDSA"
    bare = {k: v for k, v in exported.items() if k != "alg"}
    as_exported, as_bare, eddsa_only = peer(
        node_verify(token, exported, ["Ed25519"], importAlg="Ed25519"),
        node_verify(token, bare, ["Ed25519"], importAlg="Ed25519"),
        node_verify(token, bare, ["EdDSA"], importAlg="EdDSA"),
    )
    assert as_exported["ok"], as_exported
    assert as_bare["ok"], as_bare
    assert eddsa_only["code"] == "ERR_JOSE_ALG_NOT_ALLOWED"


_BASE = f'"iss":"i","jti":"j","iat":{NOW - 10}'
_EXP = f',"exp":{NOW + 3600}'
#: name -> (payload JSON text or None for a duplicate header alg, jose accepts?, Regie's refusal)
DEFAULTS: dict[str, tuple[bytes | None, bool, type[RegieError], Code]] = {
    "duplicate-aud-last-wins": (
        ("{" + _BASE + _EXP + f',"aud":"https://evil.example","aud":"{AUDIENCE}"}}').encode(),
        True,
        MalformedInput,
        Code.DUPLICATE_MEMBER,
    ),
    "duplicate-alg-in-header": (None, True, MalformedInput, Code.DUPLICATE_MEMBER),
    "aud-array-containing-audience": (
        ("{" + _BASE + _EXP + f',"aud":["{AUDIENCE}","https://evil.example"]}}').encode(),
        True,
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
    "exp-missing": (
        ("{" + _BASE + f',"aud":"{AUDIENCE}"}}').encode(),
        True,
        ClaimRefused,
        Code.CLAIM_MISSING,
    ),
    "exp-numeric-string": (
        ("{" + _BASE + f',"exp":"{NOW + 3600}","aud":"{AUDIENCE}"}}').encode(),
        False,
        ClaimRefused,
        Code.CLAIM_INVALID,
    ),
}


def test_evidence_jose_defaults_versus_regie() -> None:
    key = SigningKey.generate(Alg.EDDSA)
    jwk = key.public_key.to_jwk()
    tokens = {}
    for name, (payload, _, _, _) in DEFAULTS.items():
        if payload is None:
            good = ("{" + _BASE + _EXP + f',"aud":"{AUDIENCE}"}}').encode()
            header = b'{"alg":"none","typ":"%s","alg":"EdDSA"}' % TYP.encode()
            tokens[name] = forge(header, good, key=key)
        else:
            tokens[name] = forge({"alg": "EdDSA", "typ": TYP}, payload, key=key)
    results = peer(*(node_verify(token, jwk, ["EdDSA"]) for token in tokens.values()))
    seen = {name: result["ok"] for name, result in zip(tokens, results, strict=True)}
    assert seen == {name: expected for name, (_, expected, _, _) in DEFAULTS.items()}
    for name, token in tokens.items():
        _, _, exc, code = DEFAULTS[name]
        with pytest.raises(RegieError) as caught:
            jws.verify(token, profile=PROFILE, keys=key.public_key, now=NOW, audience=AUDIENCE)
        assert type(caught.value) is exc, name
        assert caught.value.code is code, name
