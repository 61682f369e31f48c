"""A wallet with credentials, trusted issuers, a registry and consents; and a second database.

Built on :mod:`tests.wallet.consents.helpers` (real issued credentials, a real
signed registry). :func:`sibling` gives another, empty database on the same
backend: the "other machine" a backup is restored onto.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from regie_protocol.keys import Alg, SigningKey
from tests.wallet.consents.helpers import HOST_URL, SERVICE, VERIFIER, Setup, setup_wallet
from tests.wallet.databases import Target, postgres_database
from wallet import consents, trust
from wallet.consents import GrantTerms
from wallet.core import UnlockedWallet
from wallet.storage import Consent, ConsentEvent, Database, Record, TrustedIssuer
from wallet.vault import VaultPassphrase

EXPORT_PASSPHRASE = "rivier brug molen zon"
ISSUER = "https://issuer.regie.example"


def export_passphrase() -> VaultPassphrase:
    return VaultPassphrase(EXPORT_PASSPHRASE)


def terms(days: int = 30) -> GrantTerms:
    return GrantTerms(
        verifier_id=VERIFIER,
        attributes=("age_over_65", "address.locality"),
        purpose=SERVICE,
        valid_for=days * 86400,
    )


def full_wallet(db: Database, *, now: int) -> tuple[Setup, list[str]]:
    """Credentials, a trusted issuer, a registry, two consents given and one withdrawn."""
    setup = setup_wallet(db, now=now)
    jwks = {"keys": [SigningKey.generate(Alg.ES256).public_key.to_jwk()]}
    trust.add_issuer(setup.wallet, ISSUER, jwks, now=now)
    ids = [
        consents.grant(
            setup.wallet, terms(), registry=setup.registry, now=now, host_url=HOST_URL
        ).id
        for _ in range(3)
    ]
    consents.revoke(setup.wallet, ids[2], now=now + 1)
    return setup, ids


def contents(wallet: UnlockedWallet, *, now: int) -> dict[str, Any]:
    """Everything a restore must bring back, independent of owner and record ids."""
    kinds = sorted(
        {
            str(r["kind"])
            for r in wallet.db.fetch_all(select(Record).where(col(Record.owner) == wallet.owner))
        }
    )
    records = sorted(
        (r.kind, r.ref or "", r.created_at, r.updated_at, json.dumps(r.payload, sort_keys=True))
        for kind in kinds
        if kind != "restored_from"
        for r in wallet.find(kind)
    )
    views = consents.list_consents(wallet, now=now, include_ended=True)
    consent_rows = sorted(
        (
            v.id,
            v.verifier_id,
            v.state.value,
            v.token,
            v.status_list_id,
            v.status_idx,
            v.granted_at,
            v.expires_at,
            v.ended_at,
            v.uses,
            consents.status_of(wallet, v),
        )
        for v in views
    )
    events = [
        (e.consent_id, e.name, e.at, json.dumps(e.detail, sort_keys=True))
        for e in consents.history(wallet, now=now)
    ]
    issuers = [i.to_json() for i in trust.trusted_issuers(wallet)]
    return {"records": records, "consents": consent_rows, "events": events, "issuers": issuers}


def row_counts(db: Database) -> tuple[int, ...]:
    return tuple(
        len(db.fetch_all(select(table))) for table in (Record, Consent, ConsentEvent, TrustedIssuer)
    )


@contextlib.contextmanager
def sibling(target: Target, name: str = "other") -> Iterator[Target]:
    """Another empty database on ``target``'s backend (a new home on SQLite)."""
    home = target.home / name
    home.mkdir()
    if target.backend == "sqlite":
        yield Target("sqlite", None, home)
        return
    with postgres_database() as (dbname, url):
        yield Target("postgresql", url, home, dbname)


__all__ = [
    "EXPORT_PASSPHRASE",
    "ISSUER",
    "contents",
    "export_passphrase",
    "full_wallet",
    "row_counts",
    "sibling",
    "terms",
]
