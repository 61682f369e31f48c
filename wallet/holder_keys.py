"""The citizen's holder keys: credentials are bound to one of them at issuance.

Each key is a sealed record of kind ``holder_key`` whose ``ref`` is the public
key's RFC 7638 thumbprint (a public value: it is in every credential bound to
the key) and whose payload is ``{"jwk": <private JWK>, "alg": "EdDSA"|"ES256"}``.
"""

from __future__ import annotations

import json
from typing import Any

from regie_protocol.errors import Code, KeyRefused, Misuse
from regie_protocol.keys import Alg, PublicKey, SigningKey, Unprotected

from .core import UnlockedWallet

HOLDER_KEY = "holder_key"
HOLDER_ALGS = (Alg.EDDSA, Alg.ES256)


def new_holder_key(wallet: UnlockedWallet, alg: Alg | str, *, now: int) -> PublicKey:
    """Make a holder key, store it sealed, and return its public key."""
    chosen = Alg(alg)
    if chosen not in HOLDER_ALGS:
        raise Misuse(f"a holder key is EdDSA or ES256, not {chosen.value}")
    key = SigningKey.generate(chosen)
    jwk: dict[str, Any] = json.loads(key.export_private_jwk(protection=Unprotected()))
    wallet.put(HOLDER_KEY, {"jwk": jwk, "alg": key.alg.value}, now=now, ref=key.kid)
    return key.public_key


def holder_thumbprints(wallet: UnlockedWallet) -> set[str]:
    """The thumbprints of this wallet's holder keys (the plaintext ``ref`` column)."""
    return {record.ref for record in wallet.find(HOLDER_KEY) if record.ref is not None}


def holder_key(wallet: UnlockedWallet, thumbprint: str) -> SigningKey:
    """The private holder key with this thumbprint (for presenting a credential)."""
    for record in wallet.find(HOLDER_KEY, ref=thumbprint):
        jwk = record.payload.get("jwk")
        if not isinstance(jwk, dict):
            break
        key = SigningKey.from_private_jwk(jwk)
        if key.kid == thumbprint:
            return key
    raise KeyRefused(f"this wallet holds no holder key {thumbprint}", code=Code.KEY_UNKNOWN)


__all__ = ["HOLDER_ALGS", "HOLDER_KEY", "holder_key", "holder_thumbprints", "new_holder_key"]
