"""The wallet host's part of an export: holder keys, sealed releases, verifiers' requests.

Export format version 2 (:mod:`wallet.export`) carries what the wallet host
needs to serve a restored wallet without its passphrase:

* per consent, ``holder_jwk`` (the pairwise public key that signed its token,
  or ``null``) and ``last_used_at`` (the last read, for ``frequency``);
* ``releases``: per consent, the sealed release (a JWE only the verifier can
  open: ciphertext, like the file around it), its claim names, the thumbprint
  of the verifier key it is sealed to, and when it was sealed;
* ``requests``: every verifier request in the inbox, answered or pending, with
  its state (the signed request token, the host's id and the verifier's).

Checking (:func:`check_holder_key`, :func:`check_releases`,
:func:`check_requests`) runs before any storage, like the rest of an import's
checks, and refuses what does not fit the exported consents
(``MalformedInput``): a holder key that did not sign its consent's token, a
release whose claim names or recipient do not match, a request that is not
its own token or names a consent the export does not hold.

Merging (:func:`merge_releases`, :func:`merge_requests`) runs in the import's
transaction after the consents, and only ever moves forward: a release
replaces the one here only when it was sealed later; a request's state moves
from pending to expired to answered (approved or refused), never back, and
one answer never replaces another. A request id held by another wallet in
this database is refused; a verifier request that is here under another host
id already is left as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol._encoding import b64url_decode, dumps_compact, loads_strict
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, Refused
from regie_protocol.keys import public_key_from_jwk
from regie_protocol.release import MAX_RELEASE_BYTES, RELEASE_CTY, RELEASE_TYP

from .inbox import request_claims
from .storage import ConsentRequest, Release, RequestState

RELEASE_MEMBERS = frozenset({"consent_id", "jwe", "attributes", "recipient_kid", "sealed_at"})
REQUEST_MEMBERS = frozenset(
    {
        "id",
        "verifier_id",
        "request_jti",
        "token",
        "state",
        "received_at",
        "expires_at",
        "answered_at",
        "consent_id",
    }
)
#: the host's request ids (:func:`~regie_protocol.consent.new_consent_id` values)
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_RANK = {
    RequestState.PENDING: 0,
    RequestState.EXPIRED: 1,
    RequestState.APPROVED: 2,
    RequestState.REFUSED: 2,
}


def _bad(what: str, reason: str) -> MalformedInput:
    return MalformedInput(f"the export's {what} {reason}")


def _time(value: Any, what: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if type(value) is not int or not 0 <= value < 2**53:
        raise _bad(what, "is not a time in epoch seconds")


def _text(value: Any, what: str, most: int) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= most:
        raise _bad(what, f"is not a string of 1 to {most} characters")
    return value


# --- building ---------------------------------------------------------------------------


def host_rows(conn: Connection, owner: str) -> dict[str, list[dict[str, Any]]]:
    """The owner's releases and requests, as the export holds them (read in ``conn``)."""
    releases = [
        {
            "consent_id": r["consent_id"],
            "jwe": r["jwe"],
            "attributes": loads_strict(
                str(r["attributes"]).encode("utf-8"), max_depth=2, what="release attributes"
            ),
            "recipient_kid": r["recipient_kid"],
            "sealed_at": int(r["sealed_at"]),
        }
        for r in conn.execute(
            select(Release).where(col(Release.owner) == owner).order_by(col(Release.consent_id))
        ).mappings()
    ]
    requests = [
        {
            "id": r["id"],
            "verifier_id": r["verifier_id"],
            "request_jti": r["request_jti"],
            "token": r["token"],
            "state": r["state"],
            "received_at": int(r["received_at"]),
            "expires_at": int(r["expires_at"]),
            "answered_at": None if r["answered_at"] is None else int(r["answered_at"]),
            "consent_id": r["consent_id"],
        }
        for r in conn.execute(
            select(ConsentRequest)
            .where(col(ConsentRequest.owner) == owner)
            .order_by(col(ConsentRequest.received_at), col(ConsentRequest.id))
        ).mappings()
    ]
    return {"releases": releases, "requests": requests}


def holder_jwk_json(jwk: Any) -> str | None:
    """A consent's ``holder_jwk`` as the wallet stores it (canonical JSON), from the export's."""
    if jwk is None:
        return None
    key = public_key_from_jwk(jwk)
    return json.dumps(key.to_jwk(), separators=(",", ":"), sort_keys=True)


# --- checking ---------------------------------------------------------------------------


def check_holder_key(consent: Mapping[str, Any], claims: ct.ConsentClaims, where: str) -> None:
    """``holder_jwk`` (when given) is the public key that signed the consent's token."""
    jwk, last_used = consent["holder_jwk"], consent["last_used_at"]
    _time(last_used, f"{where}.last_used_at", optional=True)
    if jwk is None:
        return
    if not isinstance(jwk, dict):
        raise _bad(f"{where}.holder_jwk", "is not a JWK")
    try:
        key = public_key_from_jwk(jwk)
        ct.verify_consent(
            consent["token"],
            holder_keys={claims.iss: key},
            audience=claims.aud,
            now=claims.nbf,
        )
    except Refused as exc:
        raise _bad(
            f"{where}.holder_jwk", f"is not the key that signed its token ({exc.message})"
        ) from None


def _release_kid(jwe: Any, where: str) -> str:
    """The ``kid`` of a release's protected header (its shape only: it is opened elsewhere)."""
    if not isinstance(jwe, str) or not 0 < len(jwe) <= MAX_RELEASE_BYTES or not jwe.isascii():
        raise _bad(f"{where}.jwe", f"is not a compact JWE of at most {MAX_RELEASE_BYTES} bytes")
    parts = jwe.split(".")
    if len(parts) != 5:
        raise _bad(f"{where}.jwe", "is not a compact JWE (five parts)")
    header = loads_strict(b64url_decode(parts[0], what="release header"), max_depth=3)
    if (
        not isinstance(header, dict)
        or header.get("typ") != RELEASE_TYP
        or header.get("cty") != RELEASE_CTY
        or not isinstance(header.get("kid"), str)
    ):
        raise _bad(f"{where}.jwe", "is not a sealed data release")
    kid: str = header["kid"]
    return kid


def check_releases(
    releases: Sequence[Mapping[str, Any]], consents: Mapping[str, ct.ConsentClaims]
) -> None:
    """Each release belongs to an exported consent and matches it (claim names, sealed once)."""
    seen: set[str] = set()
    for i, r in enumerate(releases):
        where = f"releases[{i}]"
        consent_id = r["consent_id"]
        if not isinstance(consent_id, str) or consent_id not in consents:
            raise _bad(where, "names a consent the export does not hold")
        if consent_id in seen:
            raise _bad(where, f"repeats the release of consent {consent_id}")
        seen.add(consent_id)
        kid = _text(r["recipient_kid"], f"{where}.recipient_kid", 128)
        if _release_kid(r["jwe"], where) != kid:
            raise _bad(where, "is sealed to another key than its recipient_kid")
        names = r["attributes"]
        consented = [n for d in consents[consent_id].authorization_details for n in d.claims]
        if (
            not isinstance(names, list)
            or not all(isinstance(n, str) for n in names)
            or sorted(names) != sorted(consented)
        ):
            raise _bad(f"{where}.attributes", "are not the claims its consent covers")
        _time(r["sealed_at"], f"{where}.sealed_at")


def check_requests(requests: Sequence[Mapping[str, Any]], consent_ids: Collection[str]) -> None:
    """Each request is its own token, in a known state, answered by an exported consent."""
    ids: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    answers: set[str] = set()
    for i, r in enumerate(requests):
        where = f"requests[{i}]"
        request_id = r["id"]
        if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
            raise _bad(f"{where}.id", "is not a wallet host request id")
        pair = (
            _text(r["verifier_id"], f"{where}.verifier_id", 512),
            _text(r["request_jti"], f"{where}.request_jti", 128),
        )
        if request_id in ids or pair in pairs:
            raise _bad(where, f"repeats request {request_id}")
        ids.add(request_id)
        pairs.add(pair)
        if r["state"] not in {s.value for s in RequestState}:
            raise _bad(f"{where}.state", f"{r['state']!r} is not a request state")
        for name in ("received_at", "expires_at"):
            _time(r[name], f"{where}.{name}")
        _time(r["answered_at"], f"{where}.answered_at", optional=True)
        if not isinstance(r["token"], str):
            raise _bad(f"{where}.token", "is not a string")
        claims = request_claims(r["token"])
        if (claims.iss, claims.jti, claims.exp) != (*pair, r["expires_at"]):
            raise _bad(where, "does not match its token (verifier, request id or expiry)")
        _check_answer(r, where, consent_ids, answers)


def _check_answer(
    request: Mapping[str, Any], where: str, consent_ids: Collection[str], answers: set[str]
) -> None:
    state, consent_id = RequestState(request["state"]), request["consent_id"]
    if state is RequestState.APPROVED and consent_id is None:
        raise _bad(where, "is approved but names no consent")
    if state is not RequestState.APPROVED and consent_id is not None:
        raise _bad(where, f"is {state.value} but names a consent")
    if state is RequestState.PENDING and request["answered_at"] is not None:
        raise _bad(where, "is pending but was answered")
    if consent_id is None:
        return
    if consent_id not in consent_ids:
        raise _bad(f"{where}.consent_id", "names a consent the export does not hold")
    if consent_id in answers:
        raise _bad(f"{where}.consent_id", f"names consent {consent_id} a second time")
    answers.add(consent_id)


# --- merging ----------------------------------------------------------------------------


def _refuse(message: str) -> ClaimRefused:
    return ClaimRefused(message, code=Code.CLAIM_INVALID)


def merge_releases(
    conn: Connection, owner: str, releases: Sequence[Mapping[str, Any]]
) -> tuple[int, int, frozenset[str]]:
    """Add missing releases, replace older ones: ``(added, replaced, their consent ids)``."""
    ids = [r["consent_id"] for r in releases]
    local = {
        str(row["consent_id"]): row
        for row in conn.execute(
            select(col(Release.consent_id), col(Release.owner), col(Release.sealed_at)).where(
                col(Release.consent_id).in_(ids)
            )
        ).mappings()
    }
    added = replaced = 0
    taken: set[str] = set()
    for r in releases:
        values = {
            "jwe": r["jwe"],
            "attributes": dumps_compact(list(r["attributes"])).decode("utf-8"),
            "recipient_kid": r["recipient_kid"],
            "sealed_at": r["sealed_at"],
        }
        row = local.get(r["consent_id"])
        if row is None:
            conn.execute(insert(Release).values(consent_id=r["consent_id"], owner=owner, **values))
            added += 1
        elif row["owner"] != owner:
            raise _refuse(f"the release of consent {r['consent_id']} belongs to another wallet")
        elif r["sealed_at"] > int(row["sealed_at"]):
            conn.execute(
                update(Release)
                .where(col(Release.consent_id) == r["consent_id"], col(Release.owner) == owner)
                .values(**values)
            )
            replaced += 1
        else:
            continue
        taken.add(r["consent_id"])
    return added, replaced, frozenset(taken)


def merge_requests(
    conn: Connection, owner: str, requests: Sequence[Mapping[str, Any]]
) -> tuple[int, int]:
    """Add requests not here, move the state of those here forward: ``(added, answered)``."""
    ids = [r["id"] for r in requests]
    local = {
        str(row["id"]): row
        for row in conn.execute(
            select(ConsentRequest).where(col(ConsentRequest.id).in_(ids))
        ).mappings()
    }
    added = answered = 0
    for r in requests:
        row = local.get(r["id"])
        if row is None:
            twin = conn.execute(
                select(col(ConsentRequest.owner)).where(
                    col(ConsentRequest.verifier_id) == r["verifier_id"],
                    col(ConsentRequest.request_jti) == r["request_jti"],
                )
            ).first()
            if twin is None:
                conn.execute(insert(ConsentRequest).values(owner=owner, **r))
                added += 1
                continue
            row_owner = str(twin[0])
        else:
            row_owner = str(row["owner"])
        if row_owner != owner:
            raise _refuse(f"request {r['id']} belongs to another wallet in this database")
        if row is None:
            continue  # this verifier's request is here under another host id: that one stands
        if _RANK[RequestState(r["state"])] > _RANK[RequestState(row["state"])]:
            conn.execute(
                update(ConsentRequest)
                .where(col(ConsentRequest.id) == r["id"], col(ConsentRequest.owner) == owner)
                .values(state=r["state"], answered_at=r["answered_at"], consent_id=r["consent_id"])
            )
            answered += 1
    return added, answered


__all__ = [
    "RELEASE_MEMBERS",
    "REQUEST_MEMBERS",
    "check_holder_key",
    "check_releases",
    "check_requests",
    "holder_jwk_json",
    "host_rows",
    "merge_releases",
    "merge_requests",
]
