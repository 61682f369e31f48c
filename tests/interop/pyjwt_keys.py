"""Key pairs as PyJWT's users make them: a ``cryptography`` private key and PyJWT's public JWK."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from regie_protocol.keys import Alg


def pyjwt_keypair(alg: Alg) -> tuple[Any, dict[str, Any]]:
    """A new Ed25519 or P-256 private key, and its public JWK as PyJWT writes it."""
    if alg is Alg.EDDSA:
        private: Any = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return private, dict(jwk)


__all__ = ["pyjwt_keypair"]
