"""The consent log's API: checkpoints and proofs for anyone, events for those entitled.

=========================================  ===============================================
``GET  /v1/log/checkpoint``                the latest signed checkpoint (C2SP signed note,
                                           with witness cosignatures), ``text/plain``
``POST /v1/log/checkpoint``                sign one of the current tree now (auditor)
``GET  /v1/log/key``                       the log's verifier key (vkey), ``text/plain``
``GET  /v1/log/leaf-hashes?start=&end=``   leaf hashes, at most 4096
``GET  /v1/log/proofs/inclusion``          ``?index=&size=``: an inclusion proof
``GET  /v1/log/proofs/consistency``        ``?from=&to=``: a consistency proof
``GET  /v1/log/events?start=&end=``        the events: all to an auditor, a citizen's own
                                           to that citizen (others left out), at most 1024
``GET  /v1/log/receipts/{index}``          a receipt (C2SP tlog-proof) for one event: to an
                                           auditor, the citizen concerned, or the verifier
                                           whose read it records
=========================================  ===============================================

Checkpoints, leaf hashes and proofs are public: they hold hashes only, and a
salt in every event keeps a leaf hash from being confirmed by guessing. Events
and receipts need a DPoP proof (RFC 9449, no access token: ``htm``/``htu`` of
the call) by a key the host knows: a log reader registered as ``auditor`` or as
a ``citizen`` (with the wallet it may see), or, for a receipt only, the key the
consent binds (``cnf.jkt``), which is the verifier that read. Anyone else gets
401 (no or a bad proof) or 403 (a known key asking for what it may not see);
the refusal is recorded like any other.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from regie_protocol.errors import Code, LogRefused
from regie_protocol.http import HttpProblem, ProblemCode, api_router

from ..log import store
from ..log.access import Reader, reader_for, verifier_may_see
from .dpop_calls import caller_proof
from .problems import refusal
from .service import ClientDep, HostService, NowDep, ServiceDep

LOG_PATH = "/v1/log"
MAX_LEAF_HASHES = 4096
MAX_EVENTS = 1024
_TEXT = "text/plain; charset=utf-8"

router = api_router(tags=["log"])


def _text(description: str) -> dict[str, Any]:
    """A 200 answer documented as plain text."""
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


_PUBLIC_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "A parameter is out of range for the log's size."},
    429: {"description": "Too many requests from this address."},
}
_SIGNED_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_PUBLIC_RESPONSES,
    401: {"description": "The DPoP proof is missing, invalid, replayed or by an unknown key."},
    403: {"description": "The key may not see this."},
}

DpopHeader = Annotated[
    str | None,
    Header(alias="DPoP", max_length=8192, description="A DPoP proof for this call."),
]


class LeafHashes(BaseModel):
    """Leaf hashes ``start`` .. ``start + len - 1`` (standard base64)."""

    model_config = ConfigDict(populate_by_name=True)
    start: int
    leafHashes: list[str]


class LoggedEvent(BaseModel):
    index: int
    event: str = Field(description="The event's exact canonical JSON (RFC 8785).")


class LoggedEvents(BaseModel):
    start: int
    events: list[LoggedEvent]


class InclusionProof(BaseModel):
    index: int
    treeSize: int
    proof: list[str]


class ConsistencyProof(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: int = Field(alias="from")
    to: int
    proof: list[str]


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(value).decode("ascii") for value in values]


def _public(service: HostService, client: str) -> None:
    service.public_limiter.check(client)


def _bad_range(message: str) -> HttpProblem:
    return HttpProblem(400, ProblemCode.INVALID_PARAMS, message)


def _size(service: HostService) -> int:
    return service.log.size()


def _range(start: int, end: int | None, size: int, most: int) -> tuple[int, int]:
    stop = min(size, start + most) if end is None else end
    if not 0 <= start <= stop <= size:
        raise _bad_range(f"the range [{start}, {stop}) is not within the log's {size} entries")
    if stop - start > most:
        raise _bad_range(f"at most {most} entries per call")
    return start, stop


def _authenticate(
    service: HostService, request: Request, dpop: str | None, *, now: int, client: str
) -> tuple[str, Reader | None]:
    """The DPoP key's thumbprint and, when it is a registered log reader, who it is."""
    path = request.url.path
    proof = caller_proof(
        service,
        dpop,
        htm=request.method,
        path=path,
        route=f"{request.method} {path}",
        now=now,
        client=client,
    )
    return proof.jkt, service.db.run(lambda conn: reader_for(conn, proof.jkt), write=False)


def _forbidden(service: HostService, request: Request, *, now: int, client: str) -> Exception:
    service.write_limiter.check(client)
    exc = LogRefused("this key may not see this part of the log", code=Code.LOG_ACCESS_REFUSED)
    route = f"{request.method} {request.url.path}"
    service.record_refusal(route=route, now=now, code=exc.code.value, detail=exc.message)
    return refusal(403, exc)


@router.get(
    LOG_PATH + "/checkpoint",
    summary="The latest signed checkpoint of the consent log",
    operation_id="getLogCheckpoint",
    response_class=Response,
    responses={
        200: _text(
            "A C2SP checkpoint: origin, size and root, signed by the log key "
            "and cosigned by its witnesses."
        ),
        429: {"description": "Too many requests from this address."},
    },
)
def get_checkpoint(service: ServiceDep, now: NowDep, client: ClientDep) -> Response:
    _public(service, client)
    return Response(service.log.latest_note(now=now), media_type=_TEXT)


@router.post(
    LOG_PATH + "/checkpoint",
    summary="Sign a checkpoint of the log as it is now (auditors)",
    operation_id="signLogCheckpoint",
    response_class=Response,
    responses={
        200: _text("The new (or, when nothing was added, the latest) checkpoint."),
        **_SIGNED_RESPONSES,
    },
)
def sign_checkpoint(
    request: Request, service: ServiceDep, now: NowDep, client: ClientDep, dpop: DpopHeader = None
) -> Response:
    _, reader = _authenticate(service, request, dpop, now=now, client=client)
    if reader is None or reader.role != "auditor":
        raise _forbidden(service, request, now=now, client=client)
    return Response(service.log.sign_now(now=now), media_type=_TEXT)


@router.get(
    LOG_PATH + "/key",
    summary="The log's verifier key (C2SP vkey)",
    operation_id="getLogKey",
    response_class=Response,
    responses={
        200: _text("The vkey; trust it only from a copy you got out of band."),
        429: {"description": "Too many requests from this address."},
    },
)
def get_key(service: ServiceDep, client: ClientDep) -> Response:
    _public(service, client)
    return Response(service.log.vkey() + "\n", media_type=_TEXT)


Start = Annotated[int, Query(ge=0, le=2**62, description="The first index.")]
End = Annotated[int | None, Query(ge=0, le=2**62, description="One past the last index.")]


@router.get(
    LOG_PATH + "/leaf-hashes",
    summary="Leaf hashes of the log (public: hashes only)",
    operation_id="getLogLeafHashes",
    responses=_PUBLIC_RESPONSES,
)
def get_leaf_hashes(
    service: ServiceDep, client: ClientDep, start: Start = 0, end: End = None
) -> LeafHashes:
    _public(service, client)
    first, stop = _range(start, end, _size(service), MAX_LEAF_HASHES)
    hashes = service.db.run(lambda conn: store.leaf_hashes(conn, first, stop), write=False)
    return LeafHashes(start=first, leafHashes=_b64(hashes))


@router.get(
    LOG_PATH + "/proofs/inclusion",
    summary="An inclusion proof of one entry in a tree size (public)",
    operation_id="getLogInclusionProof",
    responses=_PUBLIC_RESPONSES,
)
def get_inclusion(
    service: ServiceDep,
    client: ClientDep,
    index: Annotated[int, Query(ge=0, le=2**62)],
    size: Annotated[int, Query(ge=1, le=2**62)],
) -> InclusionProof:
    _public(service, client)
    if not index < size <= _size(service):
        raise _bad_range(f"entry {index} in a tree of {size}: not within this log")
    proof = service.db.run(lambda conn: store.inclusion_proof(conn, index, size), write=False)
    return InclusionProof(index=index, treeSize=size, proof=_b64(proof))


@router.get(
    LOG_PATH + "/proofs/consistency",
    summary="A consistency proof between two tree sizes (public)",
    operation_id="getLogConsistencyProof",
    responses=_PUBLIC_RESPONSES,
    response_model_by_alias=True,
)
def get_consistency(
    service: ServiceDep,
    client: ClientDep,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    to: Annotated[int, Query(ge=1, le=2**62)],
) -> ConsistencyProof:
    _public(service, client)
    if not from_ <= to <= _size(service):
        raise _bad_range(f"from {from_} to {to}: not within this log")
    proof = service.db.run(lambda conn: store.consistency_proof(conn, from_, to), write=False)
    return ConsistencyProof(from_=from_, to=to, proof=_b64(proof))


@router.get(
    LOG_PATH + "/events",
    summary="Log events: all to an auditor, a citizen's own to that citizen",
    operation_id="getLogEvents",
    responses=_SIGNED_RESPONSES,
)
def get_events(
    request: Request,
    service: ServiceDep,
    now: NowDep,
    client: ClientDep,
    dpop: DpopHeader = None,
    start: Start = 0,
    end: End = None,
) -> LoggedEvents:
    _, reader = _authenticate(service, request, dpop, now=now, client=client)
    if reader is None:
        raise _forbidden(service, request, now=now, client=client)
    first, stop = _range(start, end, _size(service), MAX_EVENTS)
    owner = None if reader.role == "auditor" else reader.owner
    rows = service.db.run(lambda conn: store.events(conn, first, stop, owner=owner), write=False)
    return LoggedEvents(
        start=first,
        events=[LoggedEvent(index=index, event=body.decode("utf-8")) for index, body in rows],
    )


@router.get(
    LOG_PATH + "/receipts/{index}",
    summary="A receipt (C2SP tlog-proof) for one log entry",
    operation_id="getLogReceipt",
    response_class=Response,
    responses={
        200: _text("The entry's index, inclusion proof and a signed checkpoint."),
        **_SIGNED_RESPONSES,
        404: {"description": "There is no such entry."},
    },
)
def get_receipt(
    request: Request,
    service: ServiceDep,
    now: NowDep,
    client: ClientDep,
    index: Annotated[int, Path(ge=0, le=2**62)],
    dpop: DpopHeader = None,
) -> Response:
    jkt, reader = _authenticate(service, request, dpop, now=now, client=client)
    if index >= _size(service):
        raise HttpProblem(404, ProblemCode.NOT_FOUND, "There is no log entry with this index.")
    row = service.db.run(lambda conn: store.event_at(conn, index), write=False)
    allowed = (
        (reader is not None and reader.role == "auditor")
        or (reader is not None and reader.role == "citizen" and reader.owner == row.owner)
        or service.db.run(lambda conn: verifier_may_see(conn, jkt, row), write=False)
    )
    if not allowed:
        raise _forbidden(service, request, now=now, client=client)
    return Response(service.log.receipt(index, now=now), media_type=_TEXT)


__all__ = ["LOG_PATH", "MAX_EVENTS", "MAX_LEAF_HASHES", "router"]
