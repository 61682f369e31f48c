"""Offline consent verification per second, against raw Ed25519 verification in the same run.

``bench_verify_offline()`` makes a real consent (:func:`bench.world.approved_consent`
on a SQLite wallet), the host's signed status list holding it
(:class:`wallet.host.status_tokens.StatusTokens`), and a verifier policy that
trusts that host. It then times:

* baseline: PyNaCl ``VerifyKey.verify`` over the consent token's own signing
  input and signature (the one signature check a verification needs);
* :func:`verifier.verify_consent_token` on that token: ``typ``, holder key by
  ``iss``, signature, times, audience, the status list's host trusted, scope
  and purpose, the status entry VALID, with a warm
  :class:`~verifier.status_cache.StatusListCache` (fetched once before timing,
  within its ``ttl``; the bench fails if the fetch is called while timing).

Each rate is the best of 5 repeats; the ratio is the median of ``rounds``
interleaved rounds. Target: ≥ 0.6 × raw.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.signing

from regie_protocol._encoding import b64url_decode
from regie_protocol.consent import parse_consent
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from verifier.policy import ConsentPolicy
from verifier.status_cache import StatusListCache
from verifier.verify import verify_consent_token
from wallet.host.status_tokens import StatusTokens
from wallet.storage import open_database

from .world import SERVICE, approved_consent

ROUNDS = int(os.environ.get("REGIE_BENCH_ROUNDS", "5"))
HOST_URL = "https://wallet.regie.example"
NOW = 1_790_000_000


def rate(func: Callable[[], object], number: int) -> float:
    """Calls per second, best of five repeats."""
    return number / min(timeit.repeat(func, number=number, repeat=5))


def bench_verify_offline(*, rounds: int = ROUNDS, number: int = 2000) -> dict[str, Any]:
    """Rates per second of raw Ed25519 and ``verify_consent_token``, and their ratio."""
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("REGIE_BENCH_DIR")) as tmp,
        open_database(None, home=Path(tmp)) as db,
    ):
        consent = approved_consent(db, host_url=HOST_URL, now=NOW)
        host_key = SigningKey.generate(Alg.EDDSA)
        claims = parse_consent(consent.token).unverified_claims
        uri = claims["status"]["status_list"]["uri"]
        status_token = StatusTokens(db, host_key, host_url=HOST_URL, ttl=300).token(
            uri.rsplit("/", 1)[1], now=NOW
        )
    if status_token is None:
        raise RuntimeError(f"the host has no status list at {uri}")
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return status_token.encode("ascii")

    host_keys = {host_key.kid: host_key.public_key}
    cache = StatusListCache(fetch=fetch, keys_for=lambda _: host_keys, clock=lambda: NOW)
    holder = public_key_from_jwk(json.loads(consent.holder_jwk))
    policy = ConsentPolicy(
        audience=consent.verifier_id,
        attributes=frozenset({"address"}),
        purpose=SERVICE,
        trusted_hosts={HOST_URL: host_keys},
        trusted_issuers={},
        holder_keys={holder.thumbprint_uri(): holder},
        clock=lambda: NOW,
        leeway=30,
    )
    verified = verify_consent_token(consent.token, policy, status=cache)  # warms the cache
    if verified.jti != consent.consent_id or fetched != [uri]:
        raise RuntimeError("the warm-up did not verify the consent with one status fetch")

    signing_input, _, signature = consent.token.rpartition(".")
    message, raw_signature = signing_input.encode("ascii"), b64url_decode(signature)
    verify_key = nacl.signing.VerifyKey(holder.raw)  # type: ignore[attr-defined]

    def raw() -> object:
        return verify_key.verify(message, raw_signature)

    def regie() -> object:
        return verify_consent_token(consent.token, policy, status=cache)

    rates: dict[str, list[float]] = {"raw": [], "verify": []}
    for _ in range(rounds):
        rates["raw"].append(rate(raw, number))
        rates["verify"].append(rate(regie, number))
    if fetched != [uri]:
        raise RuntimeError("the status list was fetched again while timing")
    return {
        "token_bytes": len(consent.token),
        "raw_per_s": statistics.median(rates["raw"]),
        "verify_per_s": statistics.median(rates["verify"]),
        "ratio": statistics.median(
            v / r for v, r in zip(rates["verify"], rates["raw"], strict=True)
        ),
        "status_fetches": len(fetched),
    }


if __name__ == "__main__":
    print(json.dumps(bench_verify_offline(), indent=2))
