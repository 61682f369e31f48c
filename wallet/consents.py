"""The consent lifecycle: grant, look, revoke, expire, each step one transaction.

::

    terms = GrantTerms(verifier_id=V, attributes=("age_over_18",), purpose=P, valid_for=30 * 86400)
    granted = grant(wallet, terms, registry=registry, now=now, host_url=config.host_url)
    revoke(wallet, granted.id, now=later)

A grant is checked completely before anything is written (DPV purpose and
legal basis, the verifier's registration through
:meth:`~regie_protocol.registry.Registry.check_request`, attributes held by an
unexpired credential). It is signed by the citizen's **pairwise key** for that
verifier (created on the first grant to it), so two verifiers cannot link the
citizen by the consent key (T23). ``cnf.jkt`` is the verifier's first registered
signing key, so only it can use the token.

One transaction reads the held credentials (opened once per unlocked wallet
while their sealed rows stay unchanged), opens or creates the pairwise key and
writes the status allocation (a fresh random index, see
:mod:`wallet.consent_status`), the consent row and its ``consent.granted``
event; one transaction writes a revocation: state ``withdrawn`` (DPV: ended by
the citizen), ``ended_at``, the status bit INVALID and the
``consent.withdrawn`` event (T30). A consent past ``exp`` is marked
``expired`` with a ``consent.expired`` event the first time it is looked at.

A CLI grant answers no verifier request: ``request.id`` is ``cli-<consent id>``
and ``request.sha256`` the SHA-256 of the compact JSON of the grant's terms
(:func:`grant_request_json`); ``notice`` is the wallet's own notice
(:data:`wallet.consent_terms.CLI_NOTICE_NL`). A grant that answers a
verifier's signed request (:mod:`wallet.requests`) passes :class:`Answering`
instead: the request's id and hash and its signing key (``cnf.jkt``), and may
pass ``then``, more work for the same transaction (the sealed data release).
Every grant stores the pairwise public key (``holder_jwk``), so the wallet
host can check a presented token without the passphrase.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, text, update
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol._encoding import b64url_encode, dumps_compact
from regie_protocol.errors import ClaimRefused, Code, Misuse
from regie_protocol.keys import Alg, PublicKey, SigningKey, Unprotected
from regie_protocol.registry import Registry
from regie_protocol.statuslist import Status
from regie_protocol.tlog.event import EventName

from . import consent_status
from .consent_terms import (
    CLI_NOTICE_SHA256,
    CLI_NOTICE_URI,
    GDPR_CONSENT,
    NO_RETENTION,
    legal_basis_iri,
    locate_attributes,
    purpose_iri,
    purpose_text,
    split_attributes,
)
from .core import StoredRecord, UnlockedWallet
from .log import record as log_record
from .storage import Consent, ConsentEvent, ConsentEventName, ConsentState
from .storage.models import metadata

PAIRWISE_KIND = "pairwise_key"
#: Core tables: the grant path inserts with bound parameters, building no statement
_CONSENTS = metadata.tables["consent"]
_EVENTS = metadata.tables["consent_event"]
_INSERT_CONSENT = _CONSENTS.insert()
_INSERT_EVENT = _EVENTS.insert()
_INSERT_RECORD = metadata.tables["record"].insert()
#: pairwise keys already opened, per unlocked wallet (a pairwise key is never replaced)
_PAIRWISE: weakref.WeakKeyDictionary[UnlockedWallet, dict[str, SigningKey]] = (
    weakref.WeakKeyDictionary()
)
#: credential payloads already opened, per unlocked wallet: record id -> (schema version,
#: sealed bytes, payload); reused only while the row is byte-for-byte the same
_HELD: weakref.WeakKeyDictionary[
    UnlockedWallet, dict[str, tuple[int, bytes, Mapping[str, Any]]]
] = weakref.WeakKeyDictionary()
_HELD_MEMBERS = ("vct", "expires_at", "claims")
CREDENTIAL_KIND = "credential"


@dataclass(frozen=True, slots=True)
class GrantTerms:
    """What the citizen grants. Build it from checked values (see :mod:`wallet.consent_terms`)."""

    verifier_id: str
    attributes: tuple[str, ...]
    purpose: str
    valid_for: int
    legal_basis: str = GDPR_CONSENT
    retention: str = NO_RETENTION
    max_uses: int | None = None
    purpose_text: ct.LocalizedText | None = None
    #: ISO 8601 duration: at most one use per this period (None: no limit)
    frequency: str | None = None


@dataclass(frozen=True, slots=True)
class Answering:
    """What a grant answering a verifier's signed request takes from it."""

    #: ``id`` the verifier's request ``jti``; ``sha256`` the hash of its JWT
    #: (:func:`~regie_protocol.consent.consent_request_hash`)
    request: ct.RequestRef
    #: the thumbprint of the key that signed the request: the consent's ``cnf.jkt``
    cnf_jkt: str
    #: the host's id of the request (named in the ``consent.granted`` event)
    host_request_id: str


@dataclass(frozen=True, slots=True)
class GrantedConsent:
    id: str
    token: str
    claims: ct.ConsentClaims
    status_list_id: str
    status_idx: int


@dataclass(frozen=True, slots=True)
class ConsentView:
    """A consent as the citizen sees it (state as of the ``now`` it was read at)."""

    id: str
    verifier_id: str
    state: ConsentState
    granted_at: int
    expires_at: int
    ended_at: int | None
    uses: int
    status_list_id: str
    status_idx: int
    token: str
    claims: Mapping[str, Any] = field(repr=False)

    @property
    def attributes(self) -> list[str]:
        return [c for d in self.claims["authorization_details"] for c in d["claims"]]

    @property
    def purposes(self) -> list[str]:
        return sorted({d["purpose"] for d in self.claims["authorization_details"]})

    def summary(self) -> dict[str, Any]:
        """The JSON a listing shows (no token)."""
        return {
            "id": self.id,
            "state": self.state.value,
            "verifier": self.verifier_id,
            "attributes": self.attributes,
            "purposes": self.purposes,
            "granted_at": self.granted_at,
            "expires_at": self.expires_at,
            "ended_at": self.ended_at,
            "uses": self.uses,
            "status": {"list": self.status_list_id, "idx": self.status_idx},
        }


@dataclass(frozen=True, slots=True)
class ConsentEventView:
    consent_id: str
    name: str
    at: int
    detail: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"consent": self.consent_id, "event": self.name, "at": self.at, **self.detail}


# --- checking the terms -------------------------------------------------------


def grant_request_json(terms: GrantTerms) -> bytes:
    """The compact JSON of a CLI grant's terms, whose SHA-256 is ``request.sha256``."""
    fields: dict[str, Any] = {
        "verifier": terms.verifier_id,
        "attributes": sorted(terms.attributes),
        "purpose": terms.purpose,
        "legal_basis": terms.legal_basis,
        "valid_for": terms.valid_for,
        "retention": terms.retention,
        "max_uses": terms.max_uses,
    }
    if terms.frequency is not None:
        fields["frequency"] = terms.frequency
    return dumps_compact(fields)


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the checks that need no database give a grant."""

    retention: ct.Duration
    text: ct.LocalizedText


def _check_request(terms: GrantTerms, registry: Registry) -> _Checked:
    split_attributes(terms.attributes)
    purpose = purpose_iri(terms.purpose)
    legal_basis = legal_basis_iri(terms.legal_basis)
    if purpose != terms.purpose or legal_basis != terms.legal_basis:
        raise Misuse("GrantTerms takes full IRIs for purpose and legal_basis")
    if type(terms.valid_for) is not int or not 0 < terms.valid_for <= ct.MAX_LIFETIME:
        raise Misuse(f"a consent runs more than 0 s and at most {ct.MAX_LIFETIME} s")
    if terms.max_uses is not None and (type(terms.max_uses) is not int or terms.max_uses < 1):
        raise Misuse("--max-uses is a positive whole number")
    retention = ct.Duration.parse(terms.retention, "retention")
    if terms.frequency is not None and ct.Duration.parse(terms.frequency, "frequency").is_zero:
        raise ClaimRefused(
            "frequency is zero: at most one use per zero time means nothing",
            code=Code.CLAIM_INVALID,
        )
    registry.check_request(
        terms.verifier_id, terms.attributes, terms.purpose, legal_basis=terms.legal_basis
    )
    return _Checked(retention, terms.purpose_text or purpose_text(terms.purpose))


def _details(
    terms: GrantTerms, checked: _Checked, held: Sequence[Mapping[str, Any]], *, now: int
) -> tuple[ct.AuthorizationDetail, ...]:
    by_type = locate_attributes(terms.attributes, held, now=now)
    actions = ("present",) if checked.retention.is_zero else ("present", "store")
    return tuple(
        ct.AuthorizationDetail(
            credential_types=(vct,),
            claims=names,
            actions=actions,
            purpose=terms.purpose,
            purpose_text=checked.text,
            legal_basis=terms.legal_basis,
            processing_activity=terms.verifier_id,
            retention=checked.retention.text,
            recipients=(),
            max_uses=terms.max_uses,
            frequency=terms.frequency,
        )
        for vct, names in by_type.items()
    )


def check_terms(
    wallet: UnlockedWallet, terms: GrantTerms, *, registry: Registry, now: int
) -> tuple[ct.AuthorizationDetail, ...]:
    """Every check a grant needs, without writing: the authorization details it would sign."""
    checked = _check_request(terms, registry)
    held = [record.payload for record in wallet.find(CREDENTIAL_KIND)]
    return _details(terms, checked, held, now=now)


def _held_in(conn: Connection, wallet: UnlockedWallet) -> list[Mapping[str, Any]]:
    """The credential payloads, read in ``conn``; rows sealed as last time are not reopened.

    Opening is a pure function of the master key and the row's id, schema
    version and sealed bytes, so a row equal in all three to one opened before
    gives the same payload (or the same refusal, which is never kept). Only the
    members :func:`~wallet.consent_terms.locate_attributes` reads are kept.
    """
    before = _HELD.get(wallet, {})
    now_held: dict[str, tuple[int, bytes, Mapping[str, Any]]] = {}
    for row in wallet.rows_in(conn, CREDENTIAL_KIND):
        record_id = str(row["id"])
        version, sealed = int(row["schema_version"]), bytes(row["sealed"])
        seen = before.get(record_id)
        if seen is not None and seen[0] == version and seen[1] == sealed:
            now_held[record_id] = seen
        else:
            payload = wallet.open_row(row).payload
            kept = {name: payload.get(name) for name in _HELD_MEMBERS}
            now_held[record_id] = (version, sealed, kept)
    _HELD[wallet] = now_held
    return [payload for _, _, payload in now_held.values()]


# --- keys ---------------------------------------------------------------------


def _signing_key(record: StoredRecord) -> SigningKey:
    jwk = record.payload.get("jwk")
    if not isinstance(jwk, dict):
        raise Misuse(f"record {record.id} holds no private JWK")
    return SigningKey.from_private_jwk(jwk)


def _pairwise_in(
    conn: Connection, wallet: UnlockedWallet, verifier_id: str, *, now: int, alg: Alg
) -> SigningKey:
    """The stored pairwise key for ``verifier_id``, or a new one inserted in ``conn``.

    Looked up inside the write transaction, so a concurrent first grant to the
    same verifier either is seen here or makes one of the two transactions
    wait (SQLite) or re-run (PostgreSQL): one key per verifier.
    """
    found = wallet.rows_in(conn, PAIRWISE_KIND, ref=verifier_id)
    if found:
        return _signing_key(wallet.open_row(found[0]))
    key = SigningKey.generate(alg)
    payload = {
        "jwk": json.loads(key.export_private_jwk(protection=Unprotected())),
        "alg": key.alg.value,
        "verifier": verifier_id,
    }
    _, values = wallet.insert_values(PAIRWISE_KIND, payload, now=now, ref=verifier_id)
    conn.execute(_INSERT_RECORD, values)
    return key


def pairwise_key(wallet: UnlockedWallet, verifier_id: str, *, now: int, alg: Alg) -> SigningKey:
    """The citizen's key for ``verifier_id``, created (in its own transaction) the first time.

    Kept open for the life of ``wallet`` (like its master key): a pairwise key is
    never replaced, and a grant then needs one read less.
    """
    opened = _PAIRWISE.setdefault(wallet, {})
    if verifier_id in opened:
        return opened[verifier_id]
    found = wallet.find(PAIRWISE_KIND, ref=verifier_id)
    if found:
        key = _signing_key(found[0])
    else:  # look again inside the write transaction: a concurrent first grant may have won
        key = wallet.db.run(lambda conn: _pairwise_in(conn, wallet, verifier_id, now=now, alg=alg))
    return opened.setdefault(verifier_id, key)  # only once committed


def pairwise_public_key(wallet: UnlockedWallet, verifier_id: str, iss: str) -> PublicKey:
    """The public half of the pairwise key that signed a consent with issuer ``iss``."""
    for record in wallet.find(PAIRWISE_KIND, ref=verifier_id):
        public = _signing_key(record).public_key
        if public.thumbprint_uri() == iss:
            return public
    raise Misuse(f"the pairwise key {iss} for {verifier_id} is not in this wallet")


# --- grant and revoke -----------------------------------------------------------


def _event(
    wallet: UnlockedWallet, consent_id: str, name: ConsentEventName, now: int, **detail: Any
) -> dict[str, Any]:
    return {
        "consent_id": consent_id,
        "owner": wallet.owner,
        "name": name.value,
        "at": now,
        "detail": dumps_compact(detail).decode("utf-8"),
    }


#: more work for a grant's transaction, run after the consent and its event are written
AfterGrant = Callable[[Connection, GrantedConsent], None]


def _public_jwk_json(key: SigningKey) -> str:
    return json.dumps(key.public_key.to_jwk(), separators=(",", ":"), sort_keys=True)


def grant(
    wallet: UnlockedWallet,
    terms: GrantTerms,
    *,
    registry: Registry,
    now: int,
    host_url: str,
    alg: Alg = Alg.EDDSA,
    randbelow: consent_status.RandBelow = secrets.randbelow,
    answering: Answering | None = None,
    then: AfterGrant | None = None,
) -> GrantedConsent:
    """Check, sign and store a consent; the allocation, consent and event commit together.

    One transaction: the held credentials are read, the pairwise key opened (or
    created, on the first grant to this verifier) and the consent written in
    it, and ``then`` (if given) runs in it last; a refusal from ``then`` rolls
    everything back. ``then`` may run more than once (see
    :meth:`wallet.storage.Database.run`): it must only touch the database.
    Without ``answering`` this is a CLI grant (``request.id`` ``cli-<id>``,
    ``cnf.jkt`` the verifier's first registered signing key).
    """
    checked = _check_request(terms, registry)
    verifier = registry.verifiers[terms.verifier_id]
    opened = _PAIRWISE.setdefault(wallet, {})
    consent_id = ct.new_consent_id()
    if answering is None:
        request = ct.RequestRef(
            id=f"cli-{consent_id}",
            sha256=b64url_encode(hashlib.sha256(grant_request_json(terms)).digest()),
        )
        cnf_jkt = verifier.signing_keys[0].thumbprint()
        origin: dict[str, Any] = {}
    else:
        request, cnf_jkt = answering.request, answering.cnf_jkt
        origin = {"request": answering.host_request_id}
    notice = ct.NoticeRef(uri=CLI_NOTICE_URI, sha256=CLI_NOTICE_SHA256, lang="nl")
    exp = now + terms.valid_for

    def work(conn: Connection) -> tuple[GrantedConsent, SigningKey]:
        details = _details(terms, checked, _held_in(conn, wallet), now=now)
        key = opened.get(terms.verifier_id)
        if key is None:
            key = _pairwise_in(conn, wallet, terms.verifier_id, now=now, alg=alg)
        list_id, idx = consent_status.allocate(conn, now=now, randbelow=randbelow)
        claims = ct.ConsentClaims(
            jti=consent_id,
            iss=key.public_key.thumbprint_uri(),
            aud=terms.verifier_id,
            iat=now,
            nbf=now,
            exp=exp,
            request=request,
            notice=notice,
            status=ct.StatusRef(idx=idx, uri=consent_status.list_uri(host_url, list_id)),
            cnf_jkt=cnf_jkt,
            authorization_details=details,
        )
        token = ct.sign_consent(claims, holder_key=key)
        conn.execute(
            _INSERT_CONSENT,
            {
                "id": consent_id,
                "owner": wallet.owner,
                "verifier_id": terms.verifier_id,
                "state": ConsentState.GIVEN.value,
                "token": token,
                "status_list_id": list_id,
                "status_idx": idx,
                "granted_at": now,
                "expires_at": exp,
                "ended_at": None,
                "uses": 0,
                "holder_jwk": _public_jwk_json(key),
            },
        )
        conn.execute(
            _INSERT_EVENT,
            _event(
                wallet,
                consent_id,
                ConsentEventName.GRANTED,
                now,
                status_list=list_id,
                idx=idx,
                by="citizen",
                **origin,
            ),
        )
        granted = GrantedConsent(consent_id, token, claims, list_id, idx)
        if then is not None:
            then(conn, granted)
        log_record.granted(
            conn,
            owner=wallet.owner,
            claims=claims,
            token=token,
            now=now,
            request_id=None if answering is None else answering.host_request_id,
        )
        return granted, key

    granted, key = wallet.db.run(work)
    opened.setdefault(terms.verifier_id, key)  # only once committed
    return granted


def _row(conn: Connection, wallet: UnlockedWallet, consent_id: str) -> RowMapping:
    row = (
        conn.execute(
            select(Consent).where(col(Consent.id) == consent_id, col(Consent.owner) == wallet.owner)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ClaimRefused(
            f"there is no consent {consent_id!r} in this wallet", code=Code.CONSENT_UNKNOWN
        )
    return row


#: PostgreSQL: a revocation's first statement, taken before its snapshot (see :func:`revoke`)
_LOCK_CONSENTS = text("LOCK TABLE consent IN EXCLUSIVE MODE")


def revoke(wallet: UnlockedWallet, consent_id: str, *, now: int) -> ConsentView:
    """Withdraw a given consent: state, ``ended_at``, status bit and event in one transaction."""
    note_expired(wallet, now=now)

    def work(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            # before the snapshot: wait for the reads in flight and hold new ones back, so
            # that reads recording uses cannot fail this transaction on serialization over
            # and over (a verifier reading without pause must not keep a consent alive)
            conn.execute(_LOCK_CONSENTS)
        row = _row(conn, wallet, consent_id)
        if row["state"] != ConsentState.GIVEN.value:
            ended = f" at {row['ended_at']}" if row["ended_at"] is not None else ""
            raise ClaimRefused(
                f"consent {consent_id} has already ended ({row['state']}{ended})",
                code=Code.CONSENT_ENDED,
            )
        conn.execute(
            update(Consent)
            .where(col(Consent.id) == consent_id, col(Consent.owner) == wallet.owner)
            .values(state=ConsentState.WITHDRAWN.value, ended_at=now)
        )
        consent_status.set_status(
            conn, row["status_list_id"], int(row["status_idx"]), Status.INVALID, now=now
        )
        conn.execute(
            insert(ConsentEvent).values(
                **_event(wallet, consent_id, ConsentEventName.WITHDRAWN, now, by="citizen")
            )
        )
        log_record.ended(
            conn,
            EventName.WITHDRAWN,
            owner=wallet.owner,
            consent_id=consent_id,
            verifier=str(row["verifier_id"]),
            now=now,
        )

    wallet.db.run(work)
    return show(wallet, consent_id, now=now)


def note_expired(wallet: UnlockedWallet, *, now: int) -> list[str]:
    """Mark given consents past ``exp`` as expired, each with a ``consent.expired`` event."""
    where = (
        col(Consent.owner) == wallet.owner,
        col(Consent.state) == ConsentState.GIVEN.value,
        col(Consent.expires_at) <= now,
    )
    if not wallet.db.fetch_all(select(col(Consent.id)).where(*where).limit(1)):
        return []

    def work(conn: Connection) -> list[str]:
        ids = list(
            conn.execute(
                select(col(Consent.id), col(Consent.expires_at), col(Consent.verifier_id)).where(
                    *where
                )
            )
        )
        for consent_id, expires_at, verifier_id in ids:
            conn.execute(
                update(Consent)
                .where(col(Consent.id) == consent_id, col(Consent.owner) == wallet.owner)
                .values(state=ConsentState.EXPIRED.value, ended_at=expires_at)
            )
            conn.execute(
                insert(ConsentEvent).values(
                    **_event(wallet, consent_id, ConsentEventName.EXPIRED, now, exp=expires_at)
                )
            )
            log_record.ended(
                conn,
                EventName.EXPIRED,
                owner=wallet.owner,
                consent_id=str(consent_id),
                verifier=str(verifier_id),
                now=now,
            )
        return [str(consent_id) for consent_id, _, _ in ids]

    return wallet.db.run(work)


# --- looking --------------------------------------------------------------------


def _view(row: RowMapping) -> ConsentView:
    token = str(row["token"])
    return ConsentView(
        id=str(row["id"]),
        verifier_id=str(row["verifier_id"]),
        state=ConsentState(row["state"]),
        granted_at=int(row["granted_at"]),
        expires_at=int(row["expires_at"]),
        ended_at=row["ended_at"],
        uses=int(row["uses"]),
        status_list_id=str(row["status_list_id"]),
        status_idx=int(row["status_idx"]),
        token=token,
        claims=dict(ct.parse_consent(token).unverified_claims),
    )


def list_consents(
    wallet: UnlockedWallet, *, now: int, include_ended: bool = False
) -> list[ConsentView]:
    """The wallet's consents, oldest first: only given ones unless ``include_ended``."""
    note_expired(wallet, now=now)
    query = select(Consent).where(col(Consent.owner) == wallet.owner)
    if not include_ended:
        query = query.where(col(Consent.state) == ConsentState.GIVEN.value)
    rows = wallet.db.fetch_all(query.order_by(col(Consent.granted_at), col(Consent.id)))
    return [_view(row) for row in rows]


def show(wallet: UnlockedWallet, consent_id: str, *, now: int) -> ConsentView:
    note_expired(wallet, now=now)
    return _view(wallet.db.run(lambda conn: _row(conn, wallet, consent_id), write=False))


def history(
    wallet: UnlockedWallet, consent_id: str | None = None, *, now: int
) -> list[ConsentEventView]:
    """The events of one consent (or of all), oldest first."""
    note_expired(wallet, now=now)
    query = select(ConsentEvent).where(col(ConsentEvent.owner) == wallet.owner)
    if consent_id is not None:
        wallet.db.run(lambda conn: _row(conn, wallet, consent_id), write=False)
        query = query.where(col(ConsentEvent.consent_id) == consent_id)
    rows = wallet.db.fetch_all(query.order_by(col(ConsentEvent.id)))
    return [
        ConsentEventView(
            consent_id=str(row["consent_id"]),
            name=str(row["name"]),
            at=int(row["at"]),
            detail=json.loads(row["detail"]),
        )
        for row in rows
    ]


def status_of(wallet: UnlockedWallet, consent: ConsentView) -> int:
    """The consent's raw value in its status list (0 VALID, 1 INVALID)."""
    return wallet.db.run(
        lambda conn: consent_status.get_status(conn, consent.status_list_id, consent.status_idx),
        write=False,
    )


def consent_ids(wallet: UnlockedWallet) -> Sequence[str]:
    rows = wallet.db.fetch_all(select(col(Consent.id)).where(col(Consent.owner) == wallet.owner))
    return [str(row["id"]) for row in rows]


__all__ = [
    "CREDENTIAL_KIND",
    "PAIRWISE_KIND",
    "AfterGrant",
    "Answering",
    "ConsentEventView",
    "ConsentView",
    "GrantTerms",
    "GrantedConsent",
    "check_terms",
    "consent_ids",
    "grant",
    "grant_request_json",
    "history",
    "list_consents",
    "note_expired",
    "pairwise_key",
    "pairwise_public_key",
    "revoke",
    "show",
    "status_of",
]
