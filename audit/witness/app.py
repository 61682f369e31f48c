"""The witness's HTTP service: ``create_app(witness, base_url=...)``; nothing is built at import.

==========================================  ===============================================
path                                        what
==========================================  ===============================================
``POST /add-checkpoint``                    C2SP tlog-witness: cosign a checkpoint
``GET /v1/logs``                            the trusted logs and their latest cosigned size
``GET /v1/logs/{origin hash}/checkpoint``   the latest cosigned checkpoint of a log
``GET /v1/openapi.json``                    the OpenAPI 3.1 document
==========================================  ===============================================

``/add-checkpoint`` is not versioned (not under ``/v1``), unlike every other Regie path:
the C2SP tlog-witness spec fixes it (``<submission prefix>/add-checkpoint``, the prefix
being this service's base URL), and clients of any witness post there. Its answers are
the spec's, exactly:

=====  ==============================================  ===================================
code   when                                            body
=====  ==============================================  ===================================
200    cosigned                                        the cosignature line(s), text/plain
400    malformed body, old size > checkpoint size      problem (``malformed``, ...)
403    no signature by a trusted key / a bad one       problem (``key_unknown`` /
                                                       ``signature_invalid``)
404    the origin is not a trusted log                 problem (``not_found``)
409    old size is not the latest cosigned size        ``<size>\\n``, ``text/x.tlog.size``
422    bad proof, proof with old 0, two roots for one  problem (``log_inconsistent``,
       size, size 0 with another root than the empty   ``log_proof_invalid``,
       tree's                                          ``log_split_view``)
413    body over the limit (64 KiB)                    problem (``body_too_large``)
=====  ==============================================  ===================================

Every answer but the 409 and the 200 is ``application/problem+json`` (RFC 9457) with a
stable ``type``; every answer carries ``API-Version`` (:mod:`regie_protocol.http`).
``GET /v1/logs/{origin hash}/checkpoint`` is the spec's monitoring retrieval, with
``/v1/logs`` as the monitoring prefix: the origin hash is the lowercase hex SHA-256
of the origin, and the note carries the log's signature(s) and this witness's
cosignature.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from regie_protocol.http import (
    Contact,
    HttpProblem,
    ProblemCode,
    ServiceInfo,
    api_router,
    create_service_app,
)
from regie_protocol.tlog.witness_wire import SIZE_MEDIA_TYPE

from .checks import Conflict, SubmissionRefused
from .service import Witness
from .store import TrustedLog

#: the semantic version of this HTTP API (its major is the /v1 in the paths)
API_VERSION = "1.0.0"
#: the largest add-checkpoint request body accepted (a checkpoint, 63 proof lines, signatures)
MAX_BODY_BYTES = 64 * 1024
COSIGNATURE_MEDIA_TYPE = "text/plain; charset=utf-8"

_PROBLEM_STATUSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "No signature by a trusted key of the log, or a bad one."},
    404: {"description": "The checkpoint's origin is not a log this witness cosigns for."},
    409: {
        "description": "The old size is not the size of the latest checkpoint cosigned.",
        "content": {SIZE_MEDIA_TYPE: {"schema": {"type": "string", "example": "20852014\n"}}},
    },
    422: {
        "description": (
            "The checkpoint is not consistent with the latest cosigned (a bad proof, two "
            "roots for one size), or the proof does not fit the sizes."
        )
    },
}


class LogState(BaseModel):
    """A log this witness cosigns for and the latest checkpoint it cosigned (camelCase members)."""

    model_config = ConfigDict(extra="forbid")

    origin: str
    #: the log's verifier keys (vkeys) the witness trusts
    keys: list[str]
    #: the size of the latest cosigned checkpoint (null: none yet)
    size: int | None
    #: its root hash, standard base64
    rootHash: str | None
    #: when it was cosigned, RFC 3339 UTC
    cosignedAt: str | None
    #: the lowercase hex SHA-256 of the origin (the monitoring path's segment)
    originHash: str


class WitnessLogs(BaseModel):
    """The witness's own verifier key and the logs it cosigns for."""

    model_config = ConfigDict(extra="forbid")

    witness: str
    logs: list[LogState]


def origin_hash(origin: str) -> str:
    """The monitoring path segment of ``origin``: lowercase hex SHA-256."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _rfc3339(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_state(log: TrustedLog) -> LogState:
    """What ``GET /v1/logs`` (and ``regie audit witness logs --json``) says about a log."""
    latest = log.latest
    return LogState(
        origin=log.origin,
        keys=[key.vkey() for key in log.keys],
        size=None if latest is None else latest.size,
        rootHash=None if latest is None else _b64(latest.root),
        cosignedAt=None if latest is None else _rfc3339(latest.cosigned_at),
        originHash=origin_hash(log.origin),
    )


def _problem(error: SubmissionRefused) -> HttpProblem:
    code = ProblemCode.NOT_FOUND if error.status == 404 else error.code
    return HttpProblem(error.status, code, error.detail, log=error.message)


def _witness(request: Request) -> Witness:
    witness: Witness = request.app.state.witness
    return witness


router = api_router(tags=["witness"])


@router.post(
    "/add-checkpoint",
    summary="Cosign a checkpoint (C2SP tlog-witness add-checkpoint)",
    operation_id="addCheckpoint",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "old <size>, consistency proof lines, an empty line, a checkpoint.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
    responses={
        200: {
            "description": "The witness's cosignature line(s) on the checkpoint.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **_PROBLEM_STATUSES,
    },
)
async def add_checkpoint(request: Request) -> Response:
    """Check a checkpoint against the latest one cosigned for its log and cosign it.

    The path is not versioned: C2SP tlog-witness fixes it as
    ``<submission prefix>/add-checkpoint``. The answers are the spec's (module doc).
    """
    body = await request.body()
    try:
        answer = await run_in_threadpool(_witness(request).add_checkpoint, body)
    except SubmissionRefused as exc:
        raise _problem(exc) from None
    if isinstance(answer, Conflict):
        # set as a raw header: a media_type would get "; charset=utf-8" appended
        return Response(
            f"{answer.size}\n", status_code=409, headers={"Content-Type": SIZE_MEDIA_TYPE}
        )
    return Response("".join(answer.lines), media_type=COSIGNATURE_MEDIA_TYPE)


@router.get(
    "/v1/logs",
    summary="The logs this witness cosigns for, with their latest cosigned size",
    operation_id="listLogs",
    response_model=WitnessLogs,
)
def list_logs(request: Request) -> WitnessLogs:
    witness = _witness(request)
    logs = [log_state(log) for log in witness.store.logs()]
    return WitnessLogs(witness=witness.key.verifier().vkey(), logs=logs)


OriginHash = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f]{64}$",
        min_length=64,
        max_length=64,
        description="The lowercase hex SHA-256 of the log's origin.",
    ),
]


@router.get(
    "/v1/logs/{log_hash}/checkpoint",
    summary="The latest checkpoint this witness cosigned for a log",
    operation_id="getLogCheckpoint",
    response_class=Response,
    responses={
        200: {
            "description": "The checkpoint note: the log's signature(s) and this cosignature.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        404: {"description": "This witness never cosigned a checkpoint of such a log."},
    },
)
def log_checkpoint(log_hash: OriginHash, request: Request) -> Response:
    witness = _witness(request)
    for log in witness.store.logs():
        if log.latest is not None and origin_hash(log.origin) == log_hash:
            return Response(log.latest.note, media_type=COSIGNATURE_MEDIA_TYPE)
    raise HttpProblem(
        404, ProblemCode.NOT_FOUND, "This witness never cosigned a checkpoint of such a log."
    )


def service_info(base_url: str) -> ServiceInfo:
    return ServiceInfo(
        title="Regie witness",
        api_version=API_VERSION,
        description=(
            "A C2SP tlog-witness: cosigns a transparency log's checkpoint once it has checked "
            "that the checkpoint is consistent with the last one it cosigned for that log, so "
            "the log cannot show different histories to different parties."
        ),
        contact=Contact(name="Regie", url="https://regie.example", email="api@regie.example"),
        base_url=base_url,
        max_body_bytes=MAX_BODY_BYTES,
    )


def create_app(witness: Witness, *, base_url: str) -> FastAPI:
    """The witness's HTTP service for ``witness`` (key, store, clock), public at ``base_url``.

    The witness is kept in ``app.state.witness``.
    """
    app = create_service_app(service_info(base_url))
    app.state.witness = witness
    app.include_router(router)
    return app


__all__ = [
    "API_VERSION",
    "COSIGNATURE_MEDIA_TYPE",
    "MAX_BODY_BYTES",
    "LogState",
    "WitnessLogs",
    "create_app",
    "log_state",
    "origin_hash",
    "service_info",
]
