"""Consent grants per second on SQLite and PostgreSQL, against raw single-row SQLite commits.

``bench_consents()`` returns rates (per second) and ratios, each ratio the median
of ``REGIE_BENCH_ROUNDS`` interleaved rounds:

* baseline ``raw_commit``: Python's ``sqlite3`` inserting one small row and
  committing it, in WAL mode with ``synchronous=FULL`` (the durability the wallet
  uses), on the same disk;
* ``grant_sqlite`` / ``grant_postgresql``: :func:`wallet.consents.grant` end to end
  (terms checked against the registry and the held credentials, pairwise key
  opened, random status index allocated, token signed, allocation + consent +
  event committed in one transaction).

The target is grants on SQLite ≥ 0.3 × raw commits. PostgreSQL is measured when
``REGIE_TEST_POSTGRES_URL`` (default: the local test server) is reachable,
else reported as ``None``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from issuer import CREDENTIAL_TYPES, SOURCES, Issuer, new_state, with_derived_claims
from regie_protocol import sdjwt, vocab
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.registry import RegisteredVerifier, Registry
from wallet import consents
from wallet.core import UnlockedWallet, create_wallet, unlock_wallet
from wallet.storage import open_database
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

from .pg import scratch_database

ROUNDS = int(os.environ.get("REGIE_BENCH_ROUNDS", "5"))
GRANTS = int(os.environ.get("REGIE_BENCH_GRANTS", "100"))
VERIFIER = "https://ouderenpas.utrecht.example"
NOW = 1_790_000_000


def _wallet(url: str | None, home: Path) -> tuple[UnlockedWallet, Registry]:
    db = open_database(url, home=home)
    passphrase = VaultPassphrase("kat boom huis fiets")
    create_wallet(db, passphrase, now=NOW, kdf=KdfParams.unsafe_fast_for_tests())
    wallet = unlock_wallet(db, passphrase, floor=KdfFloor.unsafe_accept_test_params())
    holder = SigningKey.generate(Alg.EDDSA)
    jwk = json.loads(holder.export_private_jwk(protection=Unprotected()))
    wallet.put("holder_key", {"jwk": jwk, "alg": "EdDSA"}, now=NOW, ref=holder.kid)
    source = SOURCES["brp"]
    issuer = Issuer(new_state(source.issuer_id), SigningKey.generate(), CREDENTIAL_TYPES)
    vct = source.ctype.vct
    claims = with_derived_claims(vct, source.sample, dt.date(2026, 9, 21))
    issued = issuer.issue(vct=vct, claims=claims, holder=holder.public_key, now=NOW)
    verified = sdjwt.verify(
        issued.token,
        issuer_keys={source.issuer_id: issuer.public_keys()},
        key_binding=sdjwt.NoKeyBinding(),
        status=sdjwt.UNSAFE_SKIP_STATUS,
        now=NOW,
        accepted_vcts=None,
    )
    wallet.put(
        "credential",
        {
            "sd_jwt": issued.token,
            "issuer": verified.issuer,
            "vct": verified.vct,
            "holder_kid": holder.kid,
            "claims": verified.claims,
            "expires_at": issued.expires_at,
            "status": None,
            "received_at": NOW,
        },
        now=NOW,
    )
    registry = Registry.new("https://registrar.regie.example", now=NOW).with_verifier(
        RegisteredVerifier(
            id=VERIFIER,
            name="Ouderenpas",
            signing_keys=(SigningKey.generate(Alg.ES256).public_key,),
            attributes=frozenset({"age_over_65", "address"}),
            purposes=frozenset({vocab.DPV + "ServiceProvision"}),
        ),
        now=NOW,
    )
    return wallet, registry


def _grant_batch(wallet: UnlockedWallet, registry: Registry) -> Callable[[], float]:
    terms = consents.GrantTerms(
        verifier_id=VERIFIER,
        attributes=("age_over_65", "address.locality"),
        purpose=vocab.DPV + "ServiceProvision",
        valid_for=30 * 86400,
    )

    def batch() -> float:
        started = time.perf_counter()
        for _ in range(GRANTS):
            consents.grant(
                wallet, terms, registry=registry, now=NOW, host_url="https://wallet.example"
            )
        return GRANTS / (time.perf_counter() - started)

    return batch


def _raw_batch(path: Path) -> Callable[[], float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)")
    payload = os.urandom(200)

    def batch() -> float:
        started = time.perf_counter()
        for _ in range(GRANTS):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (v) VALUES (?)", (payload,))
            conn.execute("COMMIT")
        return GRANTS / (time.perf_counter() - started)

    return batch


def bench_consents() -> dict[str, Any]:
    """Rates per second and ratios of consent grants to raw single-row SQLite commits."""
    with (
        tempfile.TemporaryDirectory(dir=os.environ.get("REGIE_BENCH_DIR")) as tmp,
        scratch_database() as pg,
    ):
        root = Path(tmp)
        cases: dict[str, Callable[[], float]] = {"raw_commit": _raw_batch(root / "raw.sqlite3")}
        sqlite_wallet, registry = _wallet(None, root / "sqlite")
        cases["grant_sqlite"] = _grant_batch(sqlite_wallet, registry)
        pg_wallet = None
        if pg is not None:
            pg_wallet, pg_registry = _wallet(pg, root / "pg")
            cases["grant_postgresql"] = _grant_batch(pg_wallet, pg_registry)
        try:
            for func in cases.values():
                func()  # warm up: pools, first list, pairwise key
            rounds: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(ROUNDS):
                for name, func in cases.items():
                    rounds[name].append(func())
        finally:
            sqlite_wallet.db.dispose()
            if pg_wallet is not None:
                pg_wallet.db.dispose()

    def ratio(name: str) -> float | None:
        if name not in rounds:
            return None
        pairs = zip(rounds[name], rounds["raw_commit"], strict=True)
        return statistics.median(a / b for a, b in pairs)

    result: dict[str, Any] = {
        f"{name}_per_s": statistics.median(values) for name, values in rounds.items()
    }
    result.setdefault("grant_postgresql_per_s", None)
    result.update(
        grant_sqlite_ratio=ratio("grant_sqlite"),
        grant_postgresql_ratio=ratio("grant_postgresql"),
        grants_per_round=GRANTS,
    )
    return result


if __name__ == "__main__":
    for key, value in bench_consents().items():
        print(f"{key:>24}: {value:,.2f}" if isinstance(value, float) else f"{key:>24}: {value}")
