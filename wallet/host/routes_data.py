"""``POST /v1/data``: a verifier reads under a consent, with DPoP; the host answers the release.

Headers: ``Authorization: DPoP <consent token>`` and ``DPoP: <proof>`` (htm
``POST``, htu ``<host_url>/v1/data``, ``ath`` the token's hash, signed with the
key in the token's ``cnf.jkt``); optional ``Idempotency-Key``. Optional body
``{"attributes": [...]}``: the attributes the verifier needs, all consented
when absent. Every check and the record of the read are one transaction
(:mod:`wallet.host.reads`). The answer is ``{"consent", "use", "release",
"attributes"}``; ``release`` is a JWE only the verifier can open.

Refusals (problem+json; ``type`` = the reason, ``detail`` fixed):

* ``401`` + ``WWW-Authenticate: DPoP``: no or a malformed token, a token this
  host did not issue or that was altered, no DPoP proof, an invalid one
  (wrong URL, method, token hash, age), one by another key than ``cnf.jkt``,
  a replayed one. Failed authentications count against the address's rate limit.
* ``403``: the consent ended, is revoked, not yet or no longer valid, used up
  (``max_uses``), used too recently (``frequency``), does not cover an asked
  attribute, or the verifier is no longer registered with this key.
* ``422``: an ``Idempotency-Key`` reused with another body.

Each refusal is kept with its detail in ``read_refusal`` after the refused
transaction rolled back.

The route is ``async``: the checks without I/O (token parse, DPoP proof) run
on the event loop, the read transaction on the group committer's writer
thread, awaited as a Future; only a refusal's record goes through the thread
pool. A read holds no thread while it waits for its commit.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.http import HTTPBase
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from starlette.concurrency import run_in_threadpool

from regie_protocol.dpop import VerifiedProof
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, Refused, SignatureRefused
from regie_protocol.http import api_router

from . import idempotency
from .problems import DPOP_CHALLENGE, refusal
from .reads import DATA_PATH, prepare_read, submit_read
from .service import ClientDep, HostService, NowDep, ServiceDep

router = api_router(tags=["data"])

_dpop_scheme = HTTPBase(
    scheme="DPoP",
    scheme_name="dpopConsent",
    description="Authorization: DPoP <consent token>, with a DPoP proof header (RFC 9449).",
    auto_error=False,
)
_FORBIDDEN = frozenset(
    {
        Code.VERIFIER_UNREGISTERED, Code.AUDIENCE_MISMATCH, Code.EXPIRED, Code.NOT_YET_VALID,
        Code.ISSUED_IN_FUTURE, Code.LIFETIME_TOO_LONG, Code.CONSENT_ENDED, Code.REVOKED,
        Code.SUSPENDED, Code.STATUS_UNKNOWN, Code.STATUS_INDEX_OUT_OF_RANGE,
        Code.USES_EXHAUSTED, Code.TOO_FREQUENT, Code.NOT_CONSENTED,
    }
)  # fmt: skip
AttributeName = Annotated[
    str,
    StringConstraints(
        pattern=r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){0,3}$", max_length=259
    ),
]


class DataRequest(BaseModel):
    """What the verifier needs now: a subset of the consented attributes."""

    model_config = ConfigDict(extra="forbid")

    attributes: list[AttributeName] | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("attributes")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("an attribute is named twice")
        return value


class DataResponse(BaseModel):
    """One recorded use of a consent and the sealed release."""

    consent: str
    use: int
    release: str
    attributes: list[str]


def _status_of(error: Refused) -> int:
    if error.code is Code.IDEMPOTENCY_CONFLICT:
        return 422
    return 403 if error.code in _FORBIDDEN else 401


def _refuse(
    service: HostService,
    error: Refused,
    *,
    now: int,
    client: str,
    consent_id: str | None = None,
    proof: VerifiedProof | None = None,
    status: int | None = None,
) -> Exception:
    status = status or _status_of(error)
    if status in (400, 401):  # not authenticated: limited per address before anything is written
        service.write_limiter.check(client)
    service.record_refusal(
        route=f"POST {DATA_PATH}",
        now=now,
        code=error.code.value,
        detail=error.message,
        consent_id=consent_id,
        proof=proof,
    )
    return refusal(status, error, challenge=DPOP_CHALLENGE)


async def _refused(service: HostService, error: Refused, **details: Any) -> Exception:
    """:func:`_refuse` in the thread pool (it writes the refusal to the database)."""
    return await run_in_threadpool(partial(_refuse, service, error, **details))


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise ClaimRefused("no Authorization header", code=Code.CLAIM_MISSING)
    if credentials.scheme.lower() != "dpop":
        raise ClaimRefused(
            f"Authorization scheme {credentials.scheme[:16]!r}: send 'DPoP <consent token>'",
            code=Code.DPOP_MISSING,
        )
    return credentials.credentials


@router.post(
    DATA_PATH,
    summary="Read under a consent (consent token + DPoP proof): the sealed release",
    operation_id="readData",
    responses={
        401: {"description": "The consent token or the DPoP proof was not accepted."},
        403: {"description": "The consent does not allow this read now."},
        422: {"description": "The Idempotency-Key was used before with another body."},
        429: {"description": "Too many failed calls from this address."},
    },
)
async def read_data(
    request: Request,
    service: ServiceDep,
    now: NowDep,
    client: ClientDep,
    background: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_dpop_scheme)],
    dpop: Annotated[
        str | None, Header(alias="DPoP", max_length=8192, description="The DPoP proof.")
    ] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=130)] = None,
    body: DataRequest | None = None,
) -> DataResponse:
    attributes = None if body is None or body.attributes is None else tuple(body.attributes)
    try:
        key = idempotency.parse_key(idempotency_key)
    except MalformedInput as exc:
        raise await _refused(service, exc, now=now, client=client, status=400) from None
    try:
        token = _token(credentials)
        if len(request.headers.getlist("dpop")) > 1:
            raise SignatureRefused("more than one DPoP header", code=Code.DPOP_INVALID)
        attempt = prepare_read(
            token,
            dpop,
            attributes=attributes,
            host_url=service.host_url,
            now=now,
            idempotency_key=key,
        )
    except Refused as exc:
        raise await _refused(service, exc, now=now, client=client) from None
    future = submit_read(attempt, now=now, caches=service.caches, committer=service.committer)
    try:
        released = await asyncio.wrap_future(future)
    except Refused as exc:
        raise await _refused(
            service,
            exc,
            now=now,
            client=client,
            consent_id=attempt.consent_id,
            proof=attempt.proof,
        ) from None
    if service.purge_due(now):
        background.add_task(service.purge_if_due, now)
    return DataResponse.model_validate(released.to_json())


__all__ = ["DataRequest", "DataResponse", "router"]
