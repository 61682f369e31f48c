"""Credential offers, pre-authorised codes and access tokens, kept in the issuer state.

An offer (credential type and checked claims) waits in ``IssuerState.offers``
under ``"code:" + SHA-256(pre-authorised code)``. Redeeming the code at the
token endpoint removes that entry and files the offer under
``"token:" + SHA-256(access token)``; issuing the credential removes that one.
So a code and an access token each work once, only their hashes are stored,
and the claims stay in the (owner-only) state file only until the credential
is issued or the offer expires (:func:`prune` drops expired entries).

No I/O: the caller passes the state inside ``StateFile.transaction()``, the
clock and the fresh random secrets. Unknown, used and expired secrets are
refused alike to the outside (the caller answers ``invalid_grant`` /
``invalid_token``); the codes differ for the server log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from regie_protocol.errors import ClaimRefused, Code

from .state import IssuerState

CODE_PREFIX = "code:"
TOKEN_PREFIX = "token:"  # noqa: S105 - a key prefix, not a secret


@dataclass(frozen=True, slots=True)
class Offer:
    """What an offer lets its holder obtain: one credential of ``vct`` with ``claims``."""

    vct: str
    claims: Mapping[str, Any]
    expires_at: int


def secret_hash(secret: str) -> str:
    """SHA-256 (hex) of a high-entropy secret; the state keeps only this."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _record(vct: str, claims: Mapping[str, Any], expires_at: int) -> dict[str, Any]:
    return {"vct": vct, "claims": dict(claims), "expires_at": expires_at}


def _take(state: IssuerState, key: str, *, now: int, what: str) -> Offer:
    record = state.offers.get(key)
    if record is None:
        raise ClaimRefused(f"the {what} is unknown or was used", code=Code.CLAIM_INVALID)
    if now >= int(record["expires_at"]):
        del state.offers[key]
        raise ClaimRefused(f"the {what} expired at {record['expires_at']}", code=Code.EXPIRED)
    return Offer(vct=record["vct"], claims=record["claims"], expires_at=record["expires_at"])


def create_offer(
    state: IssuerState,
    *,
    vct: str,
    claims: Mapping[str, Any],
    code: str,
    now: int,
    lifetime: int,
) -> int:
    """File an offer under the hash of ``code``; returns when it expires."""
    prune(state, now=now)
    expires_at = now + lifetime
    state.offers[CODE_PREFIX + secret_hash(code)] = _record(vct, claims, expires_at)
    return expires_at


def redeem_code(
    state: IssuerState, code: str, *, access_token: str, now: int, lifetime: int
) -> Offer:
    """Use ``code`` once: its offer now waits under the hash of ``access_token``."""
    prune(state, now=now)
    key = CODE_PREFIX + secret_hash(code)
    offer = _take(state, key, now=now, what="pre-authorised code")
    del state.offers[key]
    state.offers[TOKEN_PREFIX + secret_hash(access_token)] = _record(
        offer.vct, offer.claims, now + lifetime
    )
    return offer


def offer_for_token(state: IssuerState, access_token: str, *, now: int) -> Offer:
    """The offer an access token grants (it stays until :func:`consume_token`)."""
    return _take(state, TOKEN_PREFIX + secret_hash(access_token), now=now, what="access token")


def consume_token(state: IssuerState, access_token: str) -> None:
    state.offers.pop(TOKEN_PREFIX + secret_hash(access_token), None)


def prune(state: IssuerState, *, now: int) -> None:
    """Drop every expired code and token."""
    expired = [key for key, record in state.offers.items() if now >= int(record["expires_at"])]
    for key in expired:
        del state.offers[key]


__all__ = [
    "Offer",
    "consume_token",
    "create_offer",
    "offer_for_token",
    "prune",
    "redeem_code",
    "secret_hash",
]
