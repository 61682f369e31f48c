"""Data releases: the citizen's consented claims, presented and sealed to the verifier.

A release is what the wallet host hands a verifier on each read under a
consent (``release`` table). Per credential type in the consent's
``authorization_details``, the newest unexpired credential of that type
holding the consented claims is presented
(:func:`regie_protocol.sdjwt.present`: only the consented disclosures, a
key binding JWT by the credential's holder key with ``aud`` the verifier and
``nonce`` the consent id); the presentations go into a
:class:`~regie_protocol.release.ReleaseContent` encrypted to the verifier's
first registered X25519 key. The host never sees the claims.

Which credential each release was made from is kept in a sealed record of
kind :data:`RELEASE_SOURCE_KIND` (``ref`` the consent id; payload the
SHA-256 of each credential's SD-JWT by type), so :func:`reseal` re-builds
exactly the releases of active consents whose credential was replaced (a new
address) and leaves the others alone.

Everything but :func:`reseal` runs in the caller's transaction (a Core
``Connection``): :func:`wallet.requests.approve` seals and stores the release
in the transaction that grants the consent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, delete, insert, select, update
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol import sdjwt
from regie_protocol._encoding import dumps_compact
from regie_protocol.errors import ClaimRefused, Code, KeyRefused, Misuse, Refused
from regie_protocol.keys import SigningKey
from regie_protocol.registry import RegisteredVerifier, Registry
from regie_protocol.release import ReleaseContent, encrypt_release

from .consent_terms import holds
from .consents import CREDENTIAL_KIND
from .core import StoredRecord, UnlockedWallet
from .holder_keys import HOLDER_KEY
from .registry_store import load_registry
from .storage import Consent, ConsentState, Record, Release

RELEASE_SOURCE_KIND = "release_source"

#: each authorization detail with the credential record its presentation is made from
Chosen = Sequence[tuple[ct.AuthorizationDetail, StoredRecord]]


@dataclass(frozen=True, slots=True)
class SealedRelease:
    """A release ready to store: the JWE and, in clear, the claim names and recipient key."""

    jwe: str
    attributes: tuple[str, ...]
    recipient_kid: str
    #: vct -> SHA-256 (hex) of the SD-JWT its presentation was made from
    sources: Mapping[str, str]

    @property
    def attributes_json(self) -> str:
        return dumps_compact(list(self.attributes)).decode("utf-8")


def _source(
    credentials: Sequence[StoredRecord], vct: str, names: Sequence[str], now: int
) -> StoredRecord:
    """The newest unexpired credential of type ``vct`` holding every one of ``names``."""
    fitting = []
    for record in credentials:
        p = record.payload
        expires = p.get("expires_at")
        claims = p.get("claims")
        if p.get("vct") != vct or not isinstance(claims, Mapping):
            continue
        if isinstance(expires, int) and expires <= now:
            continue
        if all(holds(claims, name) for name in names):
            fitting.append(record)
    if not fitting:
        raise ClaimRefused(
            f"this wallet holds no unexpired {vct} credential with {', '.join(names)}",
            code=Code.ATTRIBUTE_NOT_HELD,
        )
    return max(fitting, key=lambda r: (int(r.payload.get("received_at") or 0), r.created_at))


def choose_credentials(
    credentials: Sequence[StoredRecord], claims: ct.ConsentClaims, *, now: int
) -> Chosen:
    """The credential each of the consent's entries is presented from (``ATTRIBUTE_NOT_HELD``)."""
    return [
        (detail, _source(credentials, detail.credential_types[0], detail.claims, now))
        for detail in claims.authorization_details
    ]


def _digest(sd_jwt: str) -> str:
    return hashlib.sha256(sd_jwt.encode("ascii")).hexdigest()


def _sources(chosen: Chosen) -> dict[str, str]:
    return {d.credential_types[0]: _digest(str(r.payload["sd_jwt"])) for d, r in chosen}


def _holder_key_in(conn: Connection, wallet: UnlockedWallet, thumbprint: str) -> SigningKey:
    for record in wallet.find_in(conn, HOLDER_KEY, ref=thumbprint):
        jwk = record.payload.get("jwk")
        if isinstance(jwk, dict):
            key = SigningKey.from_private_jwk(jwk)
            if key.kid == thumbprint:
                return key
    raise KeyRefused(f"this wallet holds no holder key {thumbprint}", code=Code.KEY_UNKNOWN)


def seal_release(
    conn: Connection,
    wallet: UnlockedWallet,
    claims: ct.ConsentClaims,
    chosen: Chosen,
    verifier: RegisteredVerifier,
    *,
    now: int,
) -> SealedRelease:
    """Present each chosen credential for the consent ``claims`` and seal them to ``verifier``."""
    if not verifier.encryption_keys:
        raise ClaimRefused(
            f"verifier {verifier.id} registered no encryption key: no data can be sealed to it",
            code=Code.CLAIM_INVALID,
        )
    if verifier.id != claims.aud:
        raise Misuse("a release is sealed to the consent's own verifier")
    recipient = verifier.encryption_keys[0]
    presentations = [
        sdjwt.present(
            str(record.payload["sd_jwt"]),
            disclose=[tuple(name.split(".")) for name in detail.claims],
            holder_key=_holder_key_in(conn, wallet, str(record.payload["holder_kid"])),
            audience=claims.aud,
            nonce=claims.jti,
            now=now,
        )
        for detail, record in chosen
    ]
    content = ReleaseContent(claims.jti, tuple(presentations), sealed_at=now)
    return SealedRelease(
        jwe=encrypt_release(content, recipient=recipient),
        attributes=tuple(name for detail, _ in chosen for name in detail.claims),
        recipient_kid=recipient.thumbprint(),
        sources=_sources(chosen),
    )


def credentials_in(conn: Connection, wallet: UnlockedWallet) -> list[StoredRecord]:
    """The wallet's credential records, opened, read in the caller's transaction."""
    return wallet.find_in(conn, CREDENTIAL_KIND)


def _record_source(
    conn: Connection, wallet: UnlockedWallet, consent_id: str, sealed: SealedRelease, now: int
) -> None:
    conn.execute(
        delete(Record).where(
            col(Record.owner) == wallet.owner,
            col(Record.kind) == RELEASE_SOURCE_KIND,
            col(Record.ref) == consent_id,
        )
    )
    payload = {"consent": consent_id, "credentials": dict(sealed.sources)}
    _, values = wallet.insert_values(RELEASE_SOURCE_KIND, payload, now=now, ref=consent_id)
    conn.execute(insert(Record).values(**values))


def store_release(
    conn: Connection, wallet: UnlockedWallet, consent_id: str, sealed: SealedRelease, *, now: int
) -> None:
    """Insert the release of a new consent, and its source record, in the caller's transaction."""
    conn.execute(
        insert(Release).values(
            consent_id=consent_id,
            owner=wallet.owner,
            jwe=sealed.jwe,
            attributes=sealed.attributes_json,
            recipient_kid=sealed.recipient_kid,
            sealed_at=now,
        )
    )
    _record_source(conn, wallet, consent_id, sealed, now)


def _active_releases(conn: Connection, wallet: UnlockedWallet, now: int) -> list[RowMapping]:
    query = (
        select(col(Consent.id), col(Consent.token), col(Consent.verifier_id))
        .join(Release, col(Release.consent_id) == col(Consent.id))
        .where(
            col(Consent.owner) == wallet.owner,
            col(Consent.state) == ConsentState.GIVEN.value,
            col(Consent.expires_at) > now,
        )
        .order_by(col(Consent.granted_at), col(Consent.id))
    )
    return list(conn.execute(query).mappings().all())


def registry_or_none(wallet: UnlockedWallet, now: int) -> Registry | None:
    """The wallet's registry, or None when it has none or it no longer verifies (expired)."""
    try:
        return load_registry(wallet, now=now)
    except (Misuse, Refused):
        return None


def reseal(wallet: UnlockedWallet, *, now: int, registry: Registry | None = None) -> int:
    """Re-build the releases of active consents whose credential changed; how many.

    A consent is re-sealed when the credential its release would now be made
    from (the newest unexpired one of its type holding its claims) is not the
    one it was made from. A consent whose claims are no longer all held, or
    whose verifier is not in ``registry`` (default: the wallet's, when it has
    a valid one) with an encryption key, keeps its release as it is. One
    transaction for all of them; a wallet without releases is not touched.
    """
    candidates = wallet.db.run(lambda conn: _active_releases(conn, wallet, now), write=False)
    if not candidates:
        return 0
    names = registry if registry is not None else registry_or_none(wallet, now)
    if names is None:
        return 0

    def work(conn: Connection) -> int:
        credentials = credentials_in(conn, wallet)
        sources = {r.ref: r.payload for r in wallet.find_in(conn, RELEASE_SOURCE_KIND)}
        count = 0
        for row in _active_releases(conn, wallet, now):
            consent_id = str(row["id"])
            claims = ct.claims_from_json(ct.parse_consent(str(row["token"])).unverified_claims)
            try:
                chosen = choose_credentials(credentials, claims, now=now)
            except ClaimRefused:
                continue
            if sources.get(consent_id, {}).get("credentials") == _sources(chosen):
                continue
            verifier = names.verifiers.get(str(row["verifier_id"]))
            if verifier is None or not verifier.encryption_keys:
                continue
            sealed = seal_release(conn, wallet, claims, chosen, verifier, now=now)
            conn.execute(
                update(Release)
                .where(col(Release.consent_id) == consent_id, col(Release.owner) == wallet.owner)
                .values(
                    jwe=sealed.jwe,
                    attributes=sealed.attributes_json,
                    recipient_kid=sealed.recipient_kid,
                    sealed_at=now,
                )
            )
            _record_source(conn, wallet, consent_id, sealed, now)
            count += 1
        return count

    return wallet.db.run(work)


__all__ = [
    "RELEASE_SOURCE_KIND",
    "Chosen",
    "SealedRelease",
    "choose_credentials",
    "credentials_in",
    "registry_or_none",
    "reseal",
    "seal_release",
    "store_release",
]
