"""``POST /v1/data``: a verifier reads under a consent, with DPoP; the host answers the release.

Headers: ``Authorization: DPoP <consent token>`` and ``DPoP: <proof>`` (htm
``POST``, htu ``<host_url>/v1/data``, ``ath`` the token's hash, signed with the
key in the token's ``cnf.jkt``); optional ``Idempotency-Key``. Optional body
``{"attributes": [...]}``: the attributes the verifier needs, all consented
when absent. Every check and the record of the read are one transaction
(:mod:`wallet.host.reads`). The answer is ``{"consent", "use", "release",
"attributes"}``; ``release`` is a JWE only the verifier can open.

Refusals (problem+json; ``type`` = the reason, ``detail`` fixed):

* ``400``: a header over its length, a body that is not a valid
  :class:`DataRequest`, a malformed ``Idempotency-Key``.
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

The hot path: FastAPI documents :func:`read_data` from its signature, and
:class:`~wallet.host.data_params.DataRoute` calls it with the parameters taken
from the request by hand (no dependency solver); it answers with JSON
serialised once. The checks without I/O (token parse, DPoP proof) run on the
event loop; the reads started in one turn of the loop go to the group
committer's writer thread together (:mod:`wallet.host.read_batches`), each in
its own savepoint, awaited as futures; only a refusal's record goes through
the thread pool.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

from fastapi import Header, Request, Response, Security
from fastapi.security.http import HTTPBase
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from regie_protocol.dpop import VerifiedProof
from regie_protocol.errors import Code, MalformedInput, Refused, SignatureRefused
from regie_protocol.http import api_router
from regie_protocol.tlog.event import TraceParent

from . import idempotency
from .data_params import (
    DPOP_MAX_CHARS,
    IDEMPOTENCY_KEY_MAX_CHARS,
    DataRequest,
    DataResponse,
    DataRoute,
)
from .dpop_calls import consent_token
from .problems import DPOP_CHALLENGE, refusal
from .reads import DATA_PATH, Released, prepare_read
from .service import HostService, client_of, now_of, service_of

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
    trace: TraceParent | None = None,
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
        trace=trace,
    )
    return refusal(status, error, challenge=DPOP_CHALLENGE)


async def _refused(service: HostService, error: Refused, **details: Any) -> Exception:
    """:func:`_refuse` in the thread pool (it writes the refusal to the database)."""
    return await run_in_threadpool(partial(_refuse, service, error, **details))


def _answer(released: Released, background: BackgroundTask | None) -> Response:
    """The 200 answer (:class:`DataResponse`), serialised once."""
    body = json.dumps(
        released.to_json(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    return Response(body, media_type="application/json", background=background)


async def read_data(
    request: Request,
    dpop: Annotated[
        str | None,
        Header(alias="DPoP", max_length=DPOP_MAX_CHARS, description="The DPoP proof."),
    ] = None,
    idempotency_key: Annotated[
        str | None, Header(alias=idempotency.HEADER, max_length=IDEMPOTENCY_KEY_MAX_CHARS)
    ] = None,
    body: DataRequest | None = None,
) -> Response:
    """Read under the consent in ``Authorization``; answers a :class:`DataResponse`."""
    service, now = service_of(request), now_of(request)
    attributes = None if body is None or body.attributes is None else tuple(body.attributes)
    try:
        key = idempotency.parse_key(idempotency_key)
    except MalformedInput as exc:
        raise await _refused(service, exc, now=now, client=client_of(request), status=400) from None
    try:
        headers = request.headers
        token = consent_token(headers.get("authorization"))
        if len(headers.getlist("dpop")) > 1:
            raise SignatureRefused("more than one DPoP header", code=Code.DPOP_INVALID)
        attempt = prepare_read(
            token,
            dpop,
            attributes=attributes,
            host_url=service.host_url,
            now=now,
            idempotency_key=key,
            caches=service.caches,
            traceparent=headers.get("traceparent"),
        )
    except Refused as exc:
        raise await _refused(service, exc, now=now, client=client_of(request)) from None
    try:
        released = await service.reads.read(attempt, now=now)
    except Refused as exc:
        raise await _refused(
            service,
            exc,
            now=now,
            client=client_of(request),
            consent_id=attempt.consent_id,
            proof=attempt.proof,
            trace=attempt.trace,
        ) from None
    purge = BackgroundTask(service.purge_if_due, now) if service.purge_due(now) else None
    return _answer(released, purge)


router.add_api_route(
    DATA_PATH,
    read_data,
    methods=["POST"],
    route_class_override=DataRoute,
    # documents the security scheme; read_data reads the Authorization header itself
    dependencies=[Security(_dpop_scheme)],
    response_model=DataResponse,
    summary="Read under a consent (consent token + DPoP proof): the sealed release",
    description=(
        "Checks the consent token and the DPoP proof, records the read and answers the "
        "release sealed to the verifier, in one transaction."
    ),
    operation_id="readData",
    responses={
        401: {"description": "The consent token or the DPoP proof was not accepted."},
        403: {"description": "The consent does not allow this read now."},
        422: {"description": "The Idempotency-Key was used before with another body."},
        429: {"description": "Too many failed calls from this address."},
    },
)

__all__ = ["DataRequest", "DataResponse", "read_data", "router"]
