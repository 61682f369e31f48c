"""The citizen's side of verifiers' consent requests: look, approve (and seal the data), refuse.

::

    for view in pending_requests(wallet, now=now):
        print(view.verifier_name, view.attributes, view.purpose_text.nl)
    approved = approve(wallet, view.id, leave_out=("given_name",), registry=registry,
                       now=now, host_url=config.host_url)
    refuse(wallet, other.id, now=now)

:func:`approve` is ONE transaction (T30): the consent is granted through
:func:`wallet.consents.grant` (checked completely first: the request is
verified again against the citizen's registry, so a registration withdrawn
since it arrived is noticed), answering the request (``request.id`` its
``jti``, ``request.sha256`` the hash of its JWT, ``cnf.jkt`` the key that
signed it, ``max_uses``, ``frequency``, ``retention``, purpose and legal basis
from it); in the same transaction the **data release** is sealed: per
credential type of the consent, an SD-JWT presentation of the held
credential with only the consented claims and a key binding JWT (``aud`` the
verifier, ``nonce`` the consent id), put in a
:class:`~regie_protocol.release.ReleaseContent` and encrypted to the
verifier's first registered encryption key. The host answers later reads
with it without the passphrase and without seeing the data. The request is
marked approved with its consent id. A refusal anywhere (an attribute not
held, a required attribute left out) writes nothing. Sealing and
:func:`reseal` (after a credential is replaced, e.g. a new address) are in
:mod:`wallet.releases`.

Refusing a request records ``refused`` and ``answered_at`` on the request
row only: consent history events name a consent, and a refused request has
none. What the citizen reads about a request, in plain words, is
:func:`wallet.request_text.describe`.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol import vocab
from regie_protocol.consent_request import ConsentRequestClaims, verify_request
from regie_protocol.errors import ClaimRefused, Code, Misuse
from regie_protocol.keys import Alg
from regie_protocol.registry import Registry

from . import consent_status
from .consent_terms import holds, purpose_text
from .consents import CREDENTIAL_KIND, Answering, GrantedConsent, GrantTerms, grant
from .core import StoredRecord, UnlockedWallet
from .inbox import expire_in, note_expired_requests, request_claims
from .log import record as log_record
from .releases import (
    SealedRelease,
    choose_credentials,
    credentials_in,
    registry_or_none,
    reseal,
    seal_release,
    store_release,
)
from .storage import ConsentRequest, RequestState

_CONSENT_BASES = frozenset({vocab.DPV + "Consent", vocab.GDPR + "Consent"})


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request as the citizen decides on it (state as of the ``now`` it was read at)."""

    id: str
    state: RequestState
    verifier_id: str
    #: the verifier's name in the citizen's registry; None when it is not (or no longer) there
    verifier_name: str | None
    attributes: tuple[str, ...]
    optional_attributes: tuple[str, ...]
    purpose: str
    purpose_text: ct.LocalizedText
    legal_basis: str
    #: DPV's label of the legal basis, e.g. "Art 6(1-e) public interest or official authority"
    legal_basis_label: str
    valid_for: int
    retention: str
    max_uses: int | None
    frequency: str | None
    received_at: int
    expires_at: int
    answered_at: int | None
    consent_id: str | None
    request_jti: str
    #: attributes asked for that no unexpired credential in the wallet holds
    not_held: tuple[str, ...] = ()

    @property
    def relies_on_consent(self) -> bool:
        """Whether the verifier's legal basis is the citizen's consent (GDPR Art. 6(1)(a))."""
        return self.legal_basis in _CONSENT_BASES or self.legal_basis.startswith(
            vocab.GDPR + "A6-1-a"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state.value,
            "verifier": self.verifier_id,
            "verifier_name": self.verifier_name,
            "attributes": list(self.attributes),
            "optional_attributes": list(self.optional_attributes),
            "purpose": self.purpose,
            "purpose_text": {"nl": self.purpose_text.nl, "en": self.purpose_text.en},
            "legal_basis": self.legal_basis,
            "legal_basis_label": self.legal_basis_label,
            "relies_on_consent": self.relies_on_consent,
            "valid_for": self.valid_for,
            "retention": self.retention,
            "max_uses": self.max_uses,
            "frequency": self.frequency,
            "received_at": self.received_at,
            "expires_at": self.expires_at,
            "answered_at": self.answered_at,
            "consent": self.consent_id,
            "request_jti": self.request_jti,
            "not_held": list(self.not_held),
        }


@dataclass(frozen=True, slots=True)
class Approved:
    """An approved request: its consent, and what the sealed release holds (names only)."""

    request: RequestView
    consent: GrantedConsent
    #: the claim names released, in the consent's order
    attributes: tuple[str, ...]
    left_out: tuple[str, ...]
    #: the thumbprint of the verifier's encryption key the release is sealed to
    recipient_kid: str


# --- looking --------------------------------------------------------------------


def _held_payloads(records: Sequence[StoredRecord]) -> list[Mapping[str, Any]]:
    return [record.payload for record in records]


def _not_held(
    attributes: Sequence[str], held: Sequence[Mapping[str, Any]], now: int
) -> tuple[str, ...]:
    def usable(payload: Mapping[str, Any]) -> bool:
        expires = payload.get("expires_at")
        return not (isinstance(expires, int) and expires <= now)

    claims = [p.get("claims") for p in held if usable(p)]
    return tuple(
        a for a in attributes if not any(isinstance(c, Mapping) and holds(c, a) for c in claims)
    )


def _view(
    row: RowMapping,
    registry: Registry | None,
    held: Sequence[Mapping[str, Any]],
    now: int,
) -> RequestView:
    claims = request_claims(str(row["token"]))
    verifier = registry.verifiers.get(claims.iss) if registry is not None else None
    basis = vocab.legal_bases().get(claims.legal_basis)
    state = RequestState(row["state"])
    return RequestView(
        id=str(row["id"]),
        state=state,
        verifier_id=claims.iss,
        verifier_name=verifier.name if verifier is not None else None,
        attributes=claims.attributes,
        optional_attributes=claims.optional_attributes,
        purpose=claims.purpose,
        purpose_text=claims.purpose_text or purpose_text(claims.purpose),
        legal_basis=claims.legal_basis,
        legal_basis_label=basis.label if basis is not None else claims.legal_basis,
        valid_for=claims.valid_for,
        retention=claims.retention,
        max_uses=claims.max_uses,
        frequency=claims.frequency,
        received_at=int(row["received_at"]),
        expires_at=int(row["expires_at"]),
        answered_at=row["answered_at"],
        consent_id=row["consent_id"],
        request_jti=str(row["request_jti"]),
        not_held=_not_held(claims.all_attributes, held, now)
        if state is RequestState.PENDING
        else (),
    )


def _row(conn: Connection, wallet: UnlockedWallet, request_id: str) -> RowMapping:
    row = (
        conn.execute(
            select(ConsentRequest).where(
                col(ConsentRequest.id) == request_id, col(ConsentRequest.owner) == wallet.owner
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ClaimRefused(
            f"there is no request {request_id!r} in this wallet: see 'regie consent requests'",
            code=Code.REQUEST_UNKNOWN,
        )
    return row


def pending_requests(
    wallet: UnlockedWallet, *, now: int, registry: Registry | None = None
) -> list[RequestView]:
    """The requests waiting for the citizen's answer, oldest first.

    ``registry`` names the verifiers (the wallet's stored one when not given).
    """
    note_expired_requests(wallet.db, now=now, owner=wallet.owner)
    rows = wallet.db.fetch_all(
        select(ConsentRequest)
        .where(
            col(ConsentRequest.owner) == wallet.owner,
            col(ConsentRequest.state) == RequestState.PENDING.value,
        )
        .order_by(col(ConsentRequest.received_at), col(ConsentRequest.id))
    )
    if not rows:
        return []
    names = registry if registry is not None else registry_or_none(wallet, now)
    held = _held_payloads(wallet.find(CREDENTIAL_KIND))
    return [_view(row, names, held, now) for row in rows]


def show_request(
    wallet: UnlockedWallet, request_id: str, *, now: int, registry: Registry | None = None
) -> RequestView:
    """One request of this wallet, in any state (``REQUEST_UNKNOWN`` when there is none)."""
    note_expired_requests(wallet.db, now=now, owner=wallet.owner)
    row = wallet.db.run(lambda conn: _row(conn, wallet, request_id), write=False)
    names = registry if registry is not None else registry_or_none(wallet, now)
    held = _held_payloads(wallet.find(CREDENTIAL_KIND))
    return _view(row, names, held, now)


def _answered(row: RowMapping) -> ClaimRefused:
    state = str(row["state"])
    if state == RequestState.EXPIRED.value:
        return ClaimRefused(
            f"request {row['id']} expired before it was answered; the verifier can send a new one",
            code=Code.REQUEST_ANSWERED,
        )
    return ClaimRefused(
        f"request {row['id']} was already answered ({state})", code=Code.REQUEST_ANSWERED
    )


# --- answering --------------------------------------------------------------------


def _wanted(claims: ConsentRequestClaims, leave_out: Collection[str]) -> tuple[str, ...]:
    if isinstance(leave_out, str):
        raise Misuse("leave_out is a collection of attribute ids, not one string")
    optional = set(claims.optional_attributes)
    wrong = sorted(set(leave_out) - optional)
    if wrong:
        may = ", ".join(claims.optional_attributes) or "none"
        raise ClaimRefused(
            f"you can only leave out optional attributes ({may}), not {', '.join(wrong)}: "
            "the verifier needs the others; refuse the request if you do not want to share them",
            code=Code.CLAIM_INVALID,
        )
    wanted = claims.attributes + tuple(a for a in claims.optional_attributes if a not in leave_out)
    if not wanted:
        raise ClaimRefused(
            "you left out every attribute, so there is nothing to consent to: "
            "refuse the request instead",
            code=Code.CLAIM_INVALID,
        )
    return wanted


def approve(
    wallet: UnlockedWallet,
    request_id: str,
    *,
    leave_out: Collection[str] = (),
    registry: Registry,
    now: int,
    host_url: str,
    alg: Alg = Alg.EDDSA,
    randbelow: consent_status.RandBelow = secrets.randbelow,
) -> Approved:
    """Grant the consent a pending request asks for and seal its release, in one transaction.

    ``leave_out`` names optional attributes the citizen does not share. Raises
    Refused (``REQUEST_UNKNOWN``, ``REQUEST_ANSWERED``, ``ATTRIBUTE_NOT_HELD``,
    a required attribute left out, the request's own refusals against
    ``registry`` at ``now``); then nothing is written.
    """
    note_expired_requests(wallet.db, now=now, owner=wallet.owner)
    row = wallet.db.run(lambda conn: _row(conn, wallet, request_id), write=False)
    if row["state"] != RequestState.PENDING.value:
        raise _answered(row)
    token = str(row["token"])
    verified = verify_request(token, registry=registry, host_url=host_url, now=now)
    claims = verified.claims
    if (claims.inbox, claims.iss, claims.jti) != (
        wallet.owner,
        row["verifier_id"],
        row["request_jti"],
    ):
        raise ClaimRefused(
            f"request {request_id} does not match its stored inbox, verifier or id",
            code=Code.CLAIM_INVALID,
        )
    wanted = _wanted(claims, leave_out)
    terms = GrantTerms(
        verifier_id=claims.iss,
        attributes=wanted,
        purpose=claims.purpose,
        valid_for=claims.valid_for,
        legal_basis=claims.legal_basis,
        retention=claims.retention,
        max_uses=claims.max_uses,
        purpose_text=claims.purpose_text,
        frequency=claims.frequency,
    )
    answering = Answering(
        request=ct.RequestRef(id=claims.jti, sha256=ct.consent_request_hash(token)),
        cnf_jkt=verified.jkt,
        host_request_id=request_id,
    )
    sealed_by_run: list[SealedRelease] = []

    def then(conn: Connection, granted: GrantedConsent) -> None:
        chosen = choose_credentials(credentials_in(conn, wallet), granted.claims, now=now)
        sealed = seal_release(conn, wallet, granted.claims, chosen, verified.verifier, now=now)
        store_release(conn, wallet, granted.id, sealed, now=now)
        done = conn.execute(
            update(ConsentRequest)
            .where(
                col(ConsentRequest.id) == request_id,
                col(ConsentRequest.owner) == wallet.owner,
                col(ConsentRequest.state) == RequestState.PENDING.value,
            )
            .values(state=RequestState.APPROVED.value, consent_id=granted.id, answered_at=now)
        )
        if done.rowcount != 1:
            raise ClaimRefused(
                f"request {request_id} was answered meanwhile", code=Code.REQUEST_ANSWERED
            )
        sealed_by_run.append(sealed)

    granted = grant(
        wallet,
        terms,
        registry=registry,
        now=now,
        host_url=host_url,
        alg=alg,
        randbelow=randbelow,
        answering=answering,
        then=then,
    )
    sealed = sealed_by_run[-1]
    view = show_request(wallet, request_id, now=now, registry=registry)
    return Approved(
        request=view,
        consent=granted,
        attributes=sealed.attributes,
        left_out=tuple(a for a in claims.optional_attributes if a in leave_out),
        recipient_kid=sealed.recipient_kid,
    )


def refuse(wallet: UnlockedWallet, request_id: str, *, now: int) -> RequestView:
    """Refuse a pending request: state ``refused`` and ``answered_at``, nothing shared."""

    def work(conn: Connection) -> None:
        expire_in(conn, now=now, owner=wallet.owner)
        row = _row(conn, wallet, request_id)
        if row["state"] != RequestState.PENDING.value:
            raise _answered(row)
        conn.execute(
            update(ConsentRequest)
            .where(
                col(ConsentRequest.id) == request_id,
                col(ConsentRequest.owner) == wallet.owner,
                col(ConsentRequest.state) == RequestState.PENDING.value,
            )
            .values(state=RequestState.REFUSED.value, answered_at=now)
        )
        log_record.request_refused(
            conn,
            owner=wallet.owner,
            request_id=request_id,
            verifier=str(row["verifier_id"]),
            now=now,
        )

    wallet.db.run(work)
    return show_request(wallet, request_id, now=now)


__all__ = [
    "Approved",
    "RequestView",
    "approve",
    "pending_requests",
    "refuse",
    "reseal",
    "show_request",
]
