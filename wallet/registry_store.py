"""The verifier registry this wallet relies on: its registrar's key and the latest signed list.

The first :func:`add_registry` names the registrar's public key (the citizen
got it out of band, like a scheme manager's key); later ones must be signed
by that stored key and must not go back in ``version`` (a replayed older list
could restore a withdrawn registration). :func:`load_registry` verifies the
stored list again at ``now``, so an expired registry is noticed.
The registry and the registrar key are public: stored in clear (``registry`` table),
so the wallet host reads an owner's registry without the passphrase
(:func:`owner_registry`, for verifiers' consent requests).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.engine import RowMapping
from sqlmodel import col

from regie_protocol.errors import Code, KeyRefused, Misuse
from regie_protocol.keys import PublicKey, parse_jwk_text, public_key_from_jwk
from regie_protocol.registry import Registry, parse_registry, verify_registry

from .core import UnlockedWallet
from .storage import Database
from .storage import Registry as RegistryRow


def _stored_row(db: Database, owner: str) -> RowMapping | None:
    rows = db.fetch_all(select(RegistryRow).where(col(RegistryRow.owner) == owner))
    return rows[0] if rows else None


def _stored(wallet: UnlockedWallet) -> RowMapping | None:
    return _stored_row(wallet.db, wallet.owner)


def _registrar_key(text: str) -> PublicKey:
    return public_key_from_jwk(parse_jwk_text(text), registering=True)


def add_registry(
    wallet: UnlockedWallet,
    token: str,
    *,
    now: int,
    registrar_jwk: dict[str, Any] | None = None,
) -> tuple[Registry, int | None]:
    """Verify and store a registry; ``(registry, the version it replaced or None)``."""
    token = token.strip()
    row = _stored(wallet)
    if row is None:
        if registrar_jwk is None:
            raise Misuse(
                "this wallet trusts no registrar yet: give the registrar's public key "
                "(--registrar-jwk FILE)"
            )
        key = public_key_from_jwk(registrar_jwk, registering=True)
        previous = None
    else:
        key = _registrar_key(str(row["registrar_jwk"]))
        if registrar_jwk is not None and public_key_from_jwk(registrar_jwk) != key:
            raise KeyRefused(
                f"this wallet already trusts registrar key {key.thumbprint()}; "
                "a registry signed by another key is not accepted",
                code=Code.KEY_UNKNOWN,
            )
        previous = parse_registry(str(row["document"])).unverified_registry.version
    registry = verify_registry(token, registrar_keys=key, now=now, min_version=previous)
    key_text = json.dumps(key.to_jwk(), separators=(",", ":"), sort_keys=True)
    owner = wallet.owner

    def work(conn: Connection) -> None:
        conn.execute(delete(RegistryRow).where(col(RegistryRow.owner) == owner))
        conn.execute(
            insert(RegistryRow).values(
                owner=owner, registrar_jwk=key_text, document=token, loaded_at=now
            )
        )

    wallet.db.run(work)
    return registry, previous


def owner_registry(db: Database, owner: str, *, now: int) -> Registry | None:
    """The registry stored for ``owner`` (no passphrase needed), verified again at ``now``.

    ``None`` when that wallet has loaded no registry; an expired or damaged one
    is refused as :func:`~regie_protocol.registry.verify_registry` refuses it.
    """
    row = _stored_row(db, owner)
    if row is None:
        return None
    key = _registrar_key(str(row["registrar_jwk"]))
    return verify_registry(str(row["document"]), registrar_keys=key, now=now, min_version=None)


def load_registry(wallet: UnlockedWallet, *, now: int) -> Registry:
    """The stored registry, verified again with the stored registrar key at ``now``."""
    registry = owner_registry(wallet.db, wallet.owner, now=now)
    if registry is None:
        raise Misuse(
            "this wallet has no verifier registry: run 'regie wallet trust add-registry' first"
        )
    return registry


__all__ = ["add_registry", "load_registry", "owner_registry"]
