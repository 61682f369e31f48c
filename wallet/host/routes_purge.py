"""``POST /v1/purge-reports``: a verifier reports that it deleted what it read under a consent.

Headers as for a read: ``Authorization: DPoP <consent token>`` and a DPoP
proof (``htm`` POST, ``htu`` ``<host_url>/v1/purge-reports``, ``ath`` the
token's hash) by the key the consent binds (``cnf.jkt``). The body names
when and which attributes: ``{"purgedAt": <epoch s>, "attributes": [...]}``.
A report is accepted for an ended consent too (that is when most are sent):
the presented token must equal the stored one, and the proof's key ``cnf.jkt``.
It becomes a ``retention.purged`` event in the citizen's log, which an
auditor compares with the consent's end and retention; the answer is the
event's log index and receipt (``201``).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Header, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Connection, select
from sqlmodel import col

from regie_protocol import consent as ct
from regie_protocol.dpop import verify_proof
from regie_protocol.errors import ClaimRefused, Code, Refused, SignatureRefused, TimeRefused
from regie_protocol.http import api_router

from ..log import record as log_record
from ..storage import Consent
from .dpop_calls import consent_token
from .problems import DPOP_CHALLENGE, refusal
from .replay import DPOP_LEEWAY, insert_proof
from .service import ClientDep, HostService, NowDep, ServiceDep

PURGE_PATH = "/v1/purge-reports"
#: how far ahead of the host's clock a report's purgedAt may be, seconds
FUTURE_LEEWAY = 30

router = api_router(tags=["data"])

AttributeName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[a-z][a-z0-9_.]*$")
]


class PurgeReport(BaseModel):
    """When the verifier deleted the data, and which attributes."""

    model_config = ConfigDict(extra="forbid")
    purgedAt: int = Field(ge=0, le=2**53 - 1)
    attributes: list[AttributeName] = Field(min_length=1, max_length=64)


class PurgeRecorded(BaseModel):
    logIndex: int
    receipt: str


def _record(
    conn: Connection, service: HostService, token: str, jkt: str, report: PurgeReport, now: int
) -> tuple[int, str]:
    claims = ct.parse_consent(token)
    row = conn.execute(
        select(col(Consent.owner), col(Consent.token), col(Consent.granted_at)).where(
            col(Consent.id) == claims.jti
        )
    ).first()
    if row is None or not hmac.compare_digest(str(row[1]).encode(), token.encode("ascii")):
        raise SignatureRefused("no consent of this host has this token", code=Code.CONSENT_UNKNOWN)
    bound = claims.unverified_claims.get("cnf")
    if not isinstance(bound, dict) or not hmac.compare_digest(
        str(bound.get("jkt", "")).encode(), jkt.encode()
    ):
        raise SignatureRefused(
            "the DPoP proof is signed by another key than cnf.jkt", code=Code.DPOP_KEY_MISMATCH
        )
    if not int(row[2]) <= report.purgedAt <= now + FUTURE_LEEWAY:
        raise TimeRefused(
            "purgedAt is before the consent was given or in the future", code=Code.CLAIM_INVALID
        )
    appended = log_record.purged(
        conn,
        owner=str(row[0]),
        consent_id=claims.jti,
        verifier=str(claims.unverified_claims.get("aud", "")),
        attributes=report.attributes,
        purged_at=report.purgedAt,
        now=now,
    )
    receipt = service.log.receipts(conn, [appended.index], now)[appended.index]
    return appended.index, receipt


@router.post(
    PURGE_PATH,
    status_code=201,
    summary="Report that data read under a consent was deleted (consent token + DPoP)",
    operation_id="reportPurge",
    responses={
        400: {"description": "The body is not a valid purge report."},
        401: {"description": "The consent token or the DPoP proof was not accepted."},
        429: {"description": "Too many failed calls from this address."},
    },
)
def report_purge(
    request: Request,
    report: PurgeReport,
    service: ServiceDep,
    now: NowDep,
    client: ClientDep,
    authorization: Annotated[str | None, Header(max_length=16384)] = None,
    dpop: Annotated[str | None, Header(alias="DPoP", max_length=8192)] = None,
) -> PurgeRecorded:
    """Record the purge as a ``retention.purged`` event; answer its log index and receipt."""
    route = f"POST {PURGE_PATH}"
    try:
        token = consent_token(authorization)
        if dpop is None:
            raise ClaimRefused("no DPoP header", code=Code.DPOP_MISSING)
        proof = verify_proof(
            dpop,
            htm="POST",
            htu=service.host_url + PURGE_PATH,
            now=now,
            access_token=token,
            expected_jkt=None,
            leeway=DPOP_LEEWAY,
        )

        def work(conn: Connection) -> tuple[int, str]:
            if not insert_proof(conn, proof):
                raise SignatureRefused("the DPoP proof was used before", code=Code.DPOP_REPLAYED)
            return _record(conn, service, token, proof.jkt, report, now)

        index, receipt = service.db.run(work)
    except Refused as exc:
        service.write_limiter.check(client)
        service.record_refusal(route=route, now=now, code=exc.code.value, detail=exc.message)
        status = 400 if exc.code is Code.CLAIM_INVALID else 401
        raise refusal(status, exc, challenge=DPOP_CHALLENGE) from None
    return PurgeRecorded(logIndex=index, receipt=receipt)


__all__ = ["PURGE_PATH", "PurgeRecorded", "PurgeReport", "router"]
