"""Verifiers' consent requests: post one (unauthenticated, rate-limited), collect the answer.

``POST /v1/requests`` takes ``{"request": "<signed request JWT>"}``. The
request is verified against its inbox owner's registry by
:func:`wallet.inbox.accept_request`; the answer is ``201`` with
``{"id", "state": "pending", "expiresAt"}`` and ``Location``, or ``200`` with
the same body when this very request was posted before. ``Idempotency-Key``
is honoured (scoped to the claimed verifier). Refusals: malformed ``400``, an
unknown inbox ``404``, a bad signature, an unregistered verifier or
over-asking ``403``, a reused request id ``409``, a reused
``Idempotency-Key`` with another body ``422``.

``GET /v1/requests/{id}`` needs ``DPoP: <proof for GET and this URL>`` made
with the key that signed the request; any other key gets the same ``404`` as
an unknown id (no oracle). The answer carries the consent token and the
holder's public key once the citizen approved.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from regie_protocol.consent_request import parse_request
from regie_protocol.errors import ClaimRefused, Code, KeyRefused, Refused, SignatureRefused
from regie_protocol.http import HttpProblem, ProblemCode, api_router

from .. import inbox
from . import idempotency
from .dpop_calls import caller_proof
from .problems import refusal
from .service import ClientDep, HostService, NowDep, ServiceDep

REQUESTS_PATH = "/v1/requests"
#: the longest request JWT accepted, characters
MAX_REQUEST_CHARS = 32 * 1024

router = api_router(tags=["requests"])

_FORBIDDEN = frozenset(
    {Code.VERIFIER_UNREGISTERED, Code.BEYOND_REGISTRATION, Code.AUDIENCE_MISMATCH}
)


class RequestIn(BaseModel):
    """A verifier's signed consent request."""

    model_config = ConfigDict(extra="forbid")

    request: str = Field(min_length=1, max_length=MAX_REQUEST_CHARS)


class RequestCreated(BaseModel):
    """The request as stored: the host's id (to poll), its state and when it lapses."""

    id: str
    state: str
    expiresAt: int


class RequestAnswerOut(BaseModel):
    """Where a request stands; the consent token and holder key once approved."""

    id: str
    state: str
    consentToken: str | None = None
    holderJwk: dict[str, str] | None = None


def _status_of(error: Refused) -> int:
    if error.code is Code.REQUEST_UNKNOWN:
        return 404
    if error.code is Code.IDEMPOTENCY_CONFLICT:
        return 409
    if isinstance(error, SignatureRefused | KeyRefused) or error.code in _FORBIDDEN:
        return 403
    return 400


def _refuse(service: HostService, error: Refused, *, route: str, now: int) -> HttpProblem:
    service.record_refusal(route=route, now=now, code=error.code.value, detail=error.message)
    return refusal(_status_of(error), error)


def _created(body: dict[str, object], status: int) -> JSONResponse:
    location = f"{REQUESTS_PATH}/{body['id']}"
    return JSONResponse(body, status_code=status, headers={"Location": location})


@router.post(
    REQUESTS_PATH,
    status_code=201,
    summary="Send a signed consent request to a citizen's inbox",
    operation_id="createConsentRequest",
    response_model=RequestCreated,
    responses={
        200: {"description": "This request was sent before: as stored.", "model": RequestCreated},
        201: {"description": "The request is stored and waits for the citizen."},
        403: {"description": "Bad signature, unregistered verifier, or beyond its registration."},
        404: {"description": "There is no inbox with this id at this host."},
        409: {"description": "The request id was used before for another request."},
        422: {"description": "The Idempotency-Key was used before with another body."},
        429: {"description": "Too many requests from this address."},
    },
)
def create_request(
    body: RequestIn,
    service: ServiceDep,
    now: NowDep,
    client: ClientDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=130)] = None,
) -> JSONResponse:
    service.write_limiter.check(client)
    route = f"POST {REQUESTS_PATH}"
    token = body.request.strip()
    idem: idempotency.IdempotencyKey | None = None
    try:
        key = idempotency.parse_key(idempotency_key)
        if key is not None:
            idem = idempotency.IdempotencyKey(
                scope=idempotency.scope_for(route, parse_request(token).iss),
                key=key,
                request_sha256=idempotency.request_sha256(token.encode("utf-8")),
            )
            stored = service.db.run(lambda conn: idempotency.lookup(conn, idem, now=now))
            if stored is not None:
                return _created(stored.body, stored.status)
        accepted = inbox.accept_request(service.db, token, host_url=service.host_url, now=now)
    except ClaimRefused as exc:
        if exc.code is Code.IDEMPOTENCY_CONFLICT and idem is not None:
            raise HttpProblem(
                422, exc.code, "This Idempotency-Key was used with another request."
            ) from None
        raise _refuse(service, exc, route=route, now=now) from None
    except Refused as exc:
        raise _refuse(service, exc, route=route, now=now) from None
    status = 201 if accepted.created else 200
    answer = accepted.to_json()
    if idem is not None:
        stored_answer = idempotency.StoredAnswer(status=status, body=answer)
        service.db.run(lambda conn: idempotency.store(conn, idem, stored_answer, now=now))
    return _created(answer, status)


RequestId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_-]{1,128}$", description="The host's id of the request.")
]


@router.get(
    REQUESTS_PATH + "/{request_id}",
    summary="Collect the answer to a consent request (DPoP by the request's key)",
    operation_id="getConsentRequest",
    response_model_exclude_none=True,
    responses={
        401: {"description": "The DPoP proof is missing, invalid or replayed."},
        404: {"description": "No request with this id was signed by the proof's key."},
        429: {"description": "Too many requests from this address."},
    },
)
def get_request(
    request_id: RequestId,
    service: ServiceDep,
    now: NowDep,
    client: ClientDep,
    dpop: Annotated[str | None, Header(alias="DPoP", max_length=8192)] = None,
) -> RequestAnswerOut:
    route = f"GET {REQUESTS_PATH}/{{id}}"
    proof = caller_proof(
        service,
        dpop,
        htm="GET",
        path=f"{REQUESTS_PATH}/{request_id}",
        route=route,
        now=now,
        client=client,
    )
    answer = inbox.answer_for(service.db, request_id, jkt=proof.jkt, now=now)
    if answer is None:
        service.write_limiter.check(client)
        service.record_refusal(
            route=route, now=now, code=Code.REQUEST_UNKNOWN.value, detail="unknown id or other key"
        )
        raise HttpProblem(404, ProblemCode.NOT_FOUND, "There is no such request for this key.")
    return RequestAnswerOut.model_validate(answer.to_json())


__all__ = ["REQUESTS_PATH", "RequestAnswerOut", "RequestCreated", "RequestIn", "router"]
