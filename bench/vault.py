"""Vault speed: sealing and opening a 1 KiB record against raw XChaCha20-Poly1305.

``bench_vault()`` returns rates (per second) and ratios, each ratio the median of
``REGIE_BENCH_ROUNDS`` interleaved rounds:

* baseline ``raw``: PyNaCl's public binding
  ``nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt``/``_decrypt`` on 1 KiB with
  a fixed nonce (the cheapest an application can encrypt through PyNaCl's public API);
* ``seal`` / ``open``: :func:`wallet.vault.seal` (two AEAD calls, 80 random bytes, the
  canonical associated data) and :func:`wallet.vault.open_record` of the same record.

The target is seal ≥ 0.5 × raw. A seal does two AEAD calls (the record under its
own key, and that key under the master key) and draws 80 random bytes, so 0.5 is
its ceiling.
"""

from __future__ import annotations

import os
import statistics
import timeit
from collections.abc import Callable

import nacl.bindings

from wallet.vault import generate_master_key, open_record, seal

ROUNDS = int(os.environ.get("REGIE_BENCH_ROUNDS", "5"))
NUMBER = 5000
WHERE = {
    "table": "credentials",
    "record_id": "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
    "owner": "user-42",
    "schema_version": 1,
}


def _rate(func: Callable[[], object], number: int = NUMBER) -> float:
    return number / min(timeit.repeat(func, number=number, repeat=5))


def bench_vault() -> dict[str, float]:
    """Rates per second and ratios (seal and open to raw AEAD) for 1 KiB records."""
    plaintext = os.urandom(1024)
    key, nonce, aad = os.urandom(32), os.urandom(24), os.urandom(64)
    master = generate_master_key()
    sealed = seal(master, plaintext=plaintext, **WHERE)  # type: ignore[arg-type]
    raw_ct = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)
    cases: dict[str, Callable[[], object]] = {
        "raw_encrypt": lambda: nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, aad, nonce, key
        ),
        "raw_decrypt": lambda: nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            raw_ct, aad, nonce, key
        ),
        "seal": lambda: seal(master, plaintext=plaintext, **WHERE),  # type: ignore[arg-type]
        "open": lambda: open_record(master, sealed, **WHERE),  # type: ignore[arg-type]
    }
    rounds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, func in cases.items():
            rounds[name].append(_rate(func))

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(rounds[a], rounds[b], strict=True))

    result = {f"{name}_per_s": statistics.median(values) for name, values in rounds.items()}
    result.update(
        seal_ratio=ratio("seal", "raw_encrypt"),
        open_ratio=ratio("open", "raw_decrypt"),
    )
    return result


if __name__ == "__main__":
    for name, value in bench_vault().items():
        print(f"{name:>20}: {value:,.2f}")
