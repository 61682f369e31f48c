"""A wallet with real credentials and a real signed verifier registry, for consent tests.

Credentials are issued by :class:`issuer.Issuer` to a holder key stored in the
wallet, verified with :func:`regie_protocol.sdjwt.verify`, and stored in the
agreed ``credential`` payload (not through ``wallet receive``, so these tests
do not depend on it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from issuer import (
    CREDENTIAL_TYPES,
    SOURCES,
    IssuedCredential,
    Issuer,
    new_state,
    with_derived_claims,
)
from regie_protocol import sdjwt, vocab
from regie_protocol.keys import Alg, PublicKey, SigningKey, Unprotected
from regie_protocol.registry import RegisteredVerifier, Registry
from wallet.core import UnlockedWallet, create_wallet, unlock_wallet
from wallet.registry_store import add_registry
from wallet.storage import Database
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

PASSPHRASE = "kat boom huis fiets"
REGISTRAR = "https://registrar.regie.example"
VERIFIER = "https://ouderenpas.utrecht.example"
OTHER_VERIFIER = "https://parkeren.utrecht.example"
UNREGISTERED = "https://onbekend.example"
SERVICE = vocab.DPV + "ServiceProvision"
AGE = vocab.DPV + "AgeVerification"
HOST_URL = "https://wallet.regie.example"


@dataclass
class Setup:
    wallet: UnlockedWallet
    registry: Registry
    registry_token: str
    registrar_jwk: dict[str, Any]
    verifier_key: SigningKey
    holder_kid: str


def add_holder_key(wallet: UnlockedWallet, *, now: int) -> SigningKey:
    """A new holder key, stored in ``wallet`` as a ``holder_key`` record."""
    holder = SigningKey.generate(Alg.EDDSA)
    jwk = json.loads(holder.export_private_jwk(protection=Unprotected()))
    wallet.put("holder_key", {"jwk": jwk, "alg": holder.alg.value}, now=now, ref=holder.kid)
    return holder


@dataclass(frozen=True)
class Issued:
    """A credential stored in the wallet, and the issuer (key, status list) that issued it."""

    issuer: Issuer
    credential: IssuedCredential


def issue_credential(
    wallet: UnlockedWallet, holder: SigningKey, source_name: str, *, now: int
) -> Issued:
    """Issue the sample of source ``source_name`` to ``holder`` by a new issuer; store it."""
    source = SOURCES[source_name]
    issuer = Issuer(new_state(source.issuer_id), SigningKey.generate(Alg.ES256), CREDENTIAL_TYPES)
    vct = source.ctype.vct
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    issued = issuer.issue(
        vct=vct,
        claims=with_derived_claims(vct, source.sample, today),
        holder=holder.public_key,
        now=now,
    )
    issuer_keys = {source.issuer_id: issuer.public_keys()}
    store_issued(wallet, issued, issuer_keys=issuer_keys, holder_kid=holder.kid, now=now)
    return Issued(issuer, issued)


def store_issued(
    wallet: UnlockedWallet,
    issued: IssuedCredential,
    *,
    issuer_keys: Mapping[str, Mapping[str, PublicKey]],
    holder_kid: str,
    now: int,
) -> str:
    """Verify ``issued`` and store it in the agreed ``credential`` payload; the record id."""
    verified = sdjwt.verify(
        issued.token,
        issuer_keys=issuer_keys,
        key_binding=sdjwt.NoKeyBinding(),
        status=sdjwt.UNSAFE_SKIP_STATUS,
        now=now,
        accepted_vcts=None,
    )
    payload = {
        "sd_jwt": issued.token,
        "issuer": verified.issuer,
        "vct": verified.vct,
        "holder_kid": holder_kid,
        "claims": verified.claims,
        "expires_at": issued.expires_at,
        "status": {"uri": verified.status[0], "idx": verified.status[1]}
        if verified.status
        else None,
        "received_at": now,
    }
    return wallet.put("credential", payload, now=now)


def issue_credentials(wallet: UnlockedWallet, *, now: int, sources: tuple[str, ...]) -> str:
    """Issue each source's sample to a new holder key in ``wallet``; returns the key's kid."""
    holder = add_holder_key(wallet, now=now)
    for name in sources:
        issue_credential(wallet, holder, name, now=now)
    return holder.kid


def make_registry(now: int) -> tuple[Registry, str, dict[str, Any], SigningKey]:
    registrar = SigningKey.generate(Alg.EDDSA)
    verifier_key = SigningKey.generate(Alg.ES256)
    registry = Registry.new(REGISTRAR, now=now).with_verifier(
        RegisteredVerifier(
            id=VERIFIER,
            name="Gemeente Utrecht — Ouderenpas",
            signing_keys=(verifier_key.public_key,),
            attributes=frozenset(
                {"age_over_65", "age_over_18", "address", "given_name", "income_by_year"}
            ),
            purposes=frozenset({SERVICE, AGE}),
        ),
        now=now,
    )
    registry = registry.with_verifier(
        RegisteredVerifier(
            id=OTHER_VERIFIER,
            name="Gemeente Utrecht — Parkeren",
            signing_keys=(SigningKey.generate(Alg.EDDSA).public_key,),
            attributes=frozenset({"address.locality"}),
            purposes=frozenset({SERVICE}),
        ),
        now=now,
    )
    token = registry.sign(registrar)
    return registry, token, registrar.public_key.to_jwk(), verifier_key


def new_wallet(db: Database, *, now: int) -> UnlockedWallet:
    create_wallet(db, VaultPassphrase(PASSPHRASE), now=now, kdf=KdfParams.unsafe_fast_for_tests())
    return unlock_wallet(
        db, VaultPassphrase(PASSPHRASE), floor=KdfFloor.unsafe_accept_test_params()
    )


def setup_wallet(db: Database, *, now: int, sources: tuple[str, ...] = ("brp", "diploma")) -> Setup:
    """A wallet holding the sample credentials of ``sources`` and a loaded registry."""
    wallet = new_wallet(db, now=now)
    kid = issue_credentials(wallet, now=now, sources=sources)
    registry, token, registrar_jwk, verifier_key = make_registry(now)
    add_registry(wallet, token, now=now, registrar_jwk=registrar_jwk)
    return Setup(wallet, registry, token, registrar_jwk, verifier_key, kid)


def snapshot(db: Database, home: Path) -> tuple[object, ...]:
    """Every row of every table, and on SQLite the database and WAL bytes too."""
    from sqlalchemy import text

    from wallet.storage.models import metadata

    tables: list[object] = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(text(f"SELECT * FROM {table.name}")).all()
            tables.append(sorted(tuple(map(repr, row)) for row in rows))
    files: list[bytes] = []
    if db.backend == "sqlite":
        for name in ("wallet.sqlite3", "wallet.sqlite3-wal"):
            path = home / name
            files.append(path.read_bytes() if path.exists() else b"")
    return (tables, files)


__all__ = [
    "AGE",
    "HOST_URL",
    "OTHER_VERIFIER",
    "PASSPHRASE",
    "SERVICE",
    "UNREGISTERED",
    "VERIFIER",
    "Issued",
    "Setup",
    "add_holder_key",
    "issue_credential",
    "issue_credentials",
    "make_registry",
    "new_wallet",
    "setup_wallet",
    "snapshot",
    "store_issued",
]
