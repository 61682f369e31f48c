"""Credentials in the vault: receive (verify, then store sealed), list, show, delete, prune.

:func:`receive` stores a credential only when :func:`regie_protocol.sdjwt.verify`
accepts it with this wallet's policy: the issuer is trusted (keys from
:mod:`wallet.trust`), no Key Binding JWT (it comes from the issuer), not
expired, status VALID (looked up through :class:`~wallet.status_lookup.StatusLookup`),
and bound (``cnf.jwk``) to one of this wallet's holder keys. A newer
credential of the same type from the same issuer replaces the older one in
the same transaction; an older one is refused.

Records are kind ``credential``, ``ref`` None (the type and issuer stay
inside the sealed payload)::

    {"sd_jwt", "issuer", "vct", "holder_kid", "claims", "expires_at", "status", "received_at"}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, insert
from sqlmodel import col

from regie_protocol import sdjwt
from regie_protocol.errors import ClaimRefused, Code, Misuse, Refused, Unavailable
from regie_protocol.statuslist import Status

from .core import StoredRecord, UnlockedWallet
from .fetch import Fetcher
from .holder_keys import holder_thumbprints
from .status_lookup import StatusLookup
from .storage import Record
from .trust import issuer_keys

CREDENTIAL = "credential"


class CredentialState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    UNKNOWN_OFFLINE = "unknown (offline)"
    UNKNOWN_REFUSED = "unknown (status list refused)"


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """A credential opened from the vault (it was verified when it was received)."""

    id: str
    issuer: str
    vct: str
    holder_kid: str
    claims: Mapping[str, Any]
    expires_at: int | None
    status: tuple[str, int] | None
    received_at: int
    sd_jwt: str

    @property
    def type_name(self) -> str:
        """A short name for the type: the last path segment of its ``vct``."""
        return self.vct.rstrip("/").rsplit("/", 1)[-1] or self.vct

    def disclosable(self) -> list[str]:
        """Names of the claims the holder may leave out (object members; array items as ``[]``)."""
        parsed = sdjwt.parse(self.sd_jwt)
        return sorted({d.name if d.name is not None else "[]" for d in parsed.disclosures})

    def to_json(self) -> dict[str, Any]:
        status = None if self.status is None else {"uri": self.status[0], "idx": self.status[1]}
        return {
            "id": self.id,
            "issuer": self.issuer,
            "vct": self.vct,
            "type": self.type_name,
            "holder_kid": self.holder_kid,
            "received_at": self.received_at,
            "expires_at": self.expires_at,
            "status": status,
            "claims": dict(self.claims),
            "disclosable": self.disclosable(),
        }


@dataclass(frozen=True, slots=True)
class Received:
    id: str
    issuer: str
    vct: str
    #: ids of the older credentials of the same type and issuer this one replaced
    replaced: tuple[str, ...]
    #: the very same credential was already in the wallet (nothing changed)
    already_held: bool = False


def _held(record: StoredRecord) -> HeldCredential:
    p = record.payload
    status = p.get("status")
    entry = None if not isinstance(status, dict) else (str(status["uri"]), int(status["idx"]))
    expires = p.get("expires_at")
    return HeldCredential(
        id=record.id,
        issuer=str(p["issuer"]),
        vct=str(p["vct"]),
        holder_kid=str(p["holder_kid"]),
        claims=p.get("claims") or {},
        expires_at=int(expires) if expires is not None else None,
        status=entry,
        received_at=int(p["received_at"]),
        sd_jwt=str(p["sd_jwt"]),
    )


def held_credentials(wallet: UnlockedWallet) -> list[HeldCredential]:
    """Every credential in the wallet, oldest first."""
    return [_held(record) for record in wallet.find(CREDENTIAL)]


def get_credential(wallet: UnlockedWallet, credential_id: str) -> HeldCredential:
    record = wallet.get(credential_id)
    if record.kind != CREDENTIAL:
        raise Misuse(f"there is no credential {credential_id} in this wallet")
    return _held(record)


def receive(wallet: UnlockedWallet, token: str, *, now: int, fetcher: Fetcher) -> Received:
    """Verify ``token`` (an SD-JWT VC from its issuer) and store it sealed. Raises Refused."""
    token = token.strip()
    keys = issuer_keys(wallet)
    parsed = sdjwt.parse(token)
    claimed_issuer = parsed.unverified_issuer or ""
    lookup = StatusLookup(keys, fetcher, now=now)
    verified = sdjwt.verify(
        token,
        issuer_keys=keys,
        key_binding=sdjwt.NoKeyBinding(),
        status=lookup.resolver_for(claimed_issuer),
        now=now,
        accepted_vcts=None,
    )
    if verified.holder_key is None:
        raise ClaimRefused(
            "the credential is bound to no holder key (cnf.jwk)", code=Code.CLAIM_MISSING
        )
    holder_kid = verified.holder_key.thumbprint()
    if holder_kid not in holder_thumbprints(wallet):
        raise ClaimRefused(
            "the credential is bound to another holder: its cnf.jwk is none of this wallet's "
            "holder keys",
            code=Code.CLAIM_INVALID,
        )
    assert verified.vct is not None  # an SD-JWT VC requires vct (checked by verify)
    iat = verified.claims.get("iat")
    exp = verified.claims.get("exp")
    same = [
        c for c in held_credentials(wallet) if c.issuer == verified.issuer and c.vct == verified.vct
    ]
    for older in same:
        if older.sd_jwt == parsed.sd_jwt:
            return Received(older.id, older.issuer, older.vct, (), already_held=True)
        held_iat = older.claims.get("iat")
        if isinstance(held_iat, int) and isinstance(iat, int) and iat < held_iat:
            raise ClaimRefused(
                f"this wallet holds a newer credential of this type from {verified.issuer} "
                f"({older.id})",
                code=Code.CLAIM_INVALID,
            )
    payload = {
        "sd_jwt": parsed.sd_jwt,
        "issuer": verified.issuer,
        "vct": verified.vct,
        "holder_kid": holder_kid,
        "claims": verified.claims,
        "expires_at": exp if isinstance(exp, int) else None,
        "status": None
        if verified.status is None
        else {"uri": verified.status[0], "idx": verified.status[1]},
        "received_at": now,
    }
    record_id, values = wallet.insert_values(CREDENTIAL, payload, now=now)
    replaced = tuple(c.id for c in same)
    owner = wallet.owner

    def work(conn: Connection) -> None:
        conn.execute(insert(Record).values(**values))
        if replaced:
            conn.execute(
                delete(Record).where(col(Record.owner) == owner, col(Record.id).in_(replaced))
            )

    wallet.db.run(work)
    if replaced:
        wallet.db.checkpoint_truncate()
    return Received(record_id, verified.issuer, verified.vct, replaced)


def credential_state(held: HeldCredential, *, now: int, lookup: StatusLookup) -> CredentialState:
    """Expired from the clock; else the status list's word, or unknown when it cannot tell."""
    if held.expires_at is not None and held.expires_at <= now:
        return CredentialState.EXPIRED
    if held.status is None:
        return CredentialState.VALID
    try:
        value = lookup.status_of(held.issuer, *held.status)
    except Unavailable:
        return CredentialState.UNKNOWN_OFFLINE
    except Refused:
        return CredentialState.UNKNOWN_REFUSED
    if value == Status.VALID:
        return CredentialState.VALID
    if value == Status.INVALID:
        return CredentialState.REVOKED
    if value == Status.SUSPENDED:
        return CredentialState.SUSPENDED
    return CredentialState.UNKNOWN_REFUSED


def credential_states(
    wallet: UnlockedWallet, *, now: int, fetcher: Fetcher
) -> list[tuple[HeldCredential, CredentialState]]:
    """Every credential with its state (each status list fetched at most once)."""
    lookup = StatusLookup(issuer_keys(wallet), fetcher, now=now)
    return [(c, credential_state(c, now=now, lookup=lookup)) for c in held_credentials(wallet)]


def delete_credentials(wallet: UnlockedWallet, ids: Sequence[str]) -> None:
    """Delete credentials (their record keys go with them), then checkpoint."""
    for credential_id in ids:
        get_credential(wallet, credential_id)
    wallet.delete(list(ids))


def prune(
    wallet: UnlockedWallet, *, now: int, fetcher: Fetcher
) -> list[tuple[HeldCredential, CredentialState]]:
    """Remove expired and revoked credentials; the ones removed and why."""
    gone: list[tuple[HeldCredential, CredentialState]] = [
        (c, state)
        for c, state in credential_states(wallet, now=now, fetcher=fetcher)
        if state in (CredentialState.EXPIRED, CredentialState.REVOKED)
    ]
    wallet.delete([c.id for c, _ in gone])
    return gone


__all__ = [
    "CREDENTIAL",
    "CredentialState",
    "HeldCredential",
    "Received",
    "credential_state",
    "credential_states",
    "delete_credentials",
    "get_credential",
    "held_credentials",
    "prune",
    "receive",
]
