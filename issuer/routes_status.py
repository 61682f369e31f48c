"""The status list (public) and the admin routes that change a credential's status.

``GET /v1/status-lists/1`` answers the Token Status List, signed fresh
(``iat`` = now) as ``application/statuslist+jwt`` with ``Cache-Control:
max-age=<ttl>`` and a weak ``ETag`` over the list's content and the signing
key (the token bytes change every second, the list does not): a matching
``If-None-Match`` gets 304.

``POST /v1/credentials/{index}/revocation|suspension|reinstatement`` (admin)
set one entry; a revoked credential stays revoked (409), an index never
handed out is 404.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from fastapi import Path, Request, Response
from pydantic import BaseModel, ConfigDict

from regie_protocol.errors import Code, Misuse, StatusRefused
from regie_protocol.http import HttpProblem, ProblemCode, api_router
from regie_protocol.statuslist import Status

from .issuer import STATUS_LIST_PATH
from .service import AdminDep, NowDep, ServiceDep

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
_ACCEPTABLE = (STATUS_LIST_MEDIA_TYPE, "application/*", "*/*")

router = api_router(tags=["status"])


def _etag(encoded_list: object, kid: str) -> str:
    material = json.dumps([encoded_list, kid], sort_keys=True, separators=(",", ":"))
    return 'W/"' + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32] + '"'


def _accepts(accept: str | None) -> bool:
    if not accept:
        return True
    ranges = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
    return any(media in _ACCEPTABLE for media in ranges)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    bare = etag.removeprefix("W/")
    return "*" in tags or any(tag.removeprefix("W/") == bare for tag in tags)


@router.get(
    STATUS_LIST_PATH,
    summary="The issuer's Token Status List",
    operation_id="getStatusList",
    response_class=Response,
    responses={
        200: {
            "description": "A Status List Token, signed now.",
            "content": {STATUS_LIST_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        304: {"description": "Not modified: the list is the one the client has."},
        406: {"description": "The client accepts no media type this list is served as."},
    },
)
def status_list(request: Request, service: ServiceDep, now: NowDep) -> Response:
    issuer = service.read()
    ttl = service.settings.status_ttl
    etag = _etag(issuer.state.status_list, service.key.kid)
    headers = {"Cache-Control": f"max-age={ttl}", "ETag": etag}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if not _accepts(request.headers.get("accept")):
        raise HttpProblem(
            406,
            ProblemCode.NOT_ACCEPTABLE,
            f"The status list is served as {STATUS_LIST_MEDIA_TYPE} only.",
        )
    token = issuer.status_list_token(now=now, ttl=ttl)
    return Response(token, media_type=STATUS_LIST_MEDIA_TYPE, headers=headers)


StatusWord = Literal["valid", "revoked", "suspended"]
_WORDS: dict[Status, StatusWord] = {
    Status.VALID: "valid",
    Status.INVALID: "revoked",
    Status.SUSPENDED: "suspended",
}


class StatusChanged(BaseModel):
    """A credential's status after the change."""

    model_config = ConfigDict(extra="forbid")

    statusIndex: int
    status: StatusWord


IndexPath = Annotated[int, Path(ge=0, lt=2**31, description="The credential's status index.")]
_ADMIN_RESPONSES: dict[int | str, dict[str, object]] = {
    404: {"description": "No credential has this status index."},
    409: {"description": "The credential is revoked; that is final."},
}


def _change(service: ServiceDep, index: int, status: Status) -> StatusChanged:
    with service.transaction() as issuer:
        try:
            issuer.set_status(index, status)
        except StatusRefused as exc:
            if exc.code is Code.STATUS_INDEX_OUT_OF_RANGE:
                raise HttpProblem(404, exc.code, "No credential has this status index.") from None
            raise
        except Misuse:  # the one misuse of set_status: un-revoking
            raise HttpProblem(409, Code.REVOKED, "A revoked credential stays revoked.") from None
    return StatusChanged(statusIndex=index, status=_WORDS[status])


@router.post(
    "/v1/credentials/{index}/revocation",
    summary="Revoke a credential (final)",
    operation_id="revokeCredential",
    dependencies=[AdminDep],
    responses=_ADMIN_RESPONSES,
)
def revoke(index: IndexPath, service: ServiceDep) -> StatusChanged:
    return _change(service, index, Status.INVALID)


@router.post(
    "/v1/credentials/{index}/suspension",
    summary="Suspend a credential",
    operation_id="suspendCredential",
    dependencies=[AdminDep],
    responses=_ADMIN_RESPONSES,
)
def suspend(index: IndexPath, service: ServiceDep) -> StatusChanged:
    return _change(service, index, Status.SUSPENDED)


@router.post(
    "/v1/credentials/{index}/reinstatement",
    summary="Lift a suspension",
    operation_id="reinstateCredential",
    dependencies=[AdminDep],
    responses=_ADMIN_RESPONSES,
)
def reinstate(index: IndexPath, service: ServiceDep) -> StatusChanged:
    return _change(service, index, Status.VALID)


__all__ = ["STATUS_LIST_MEDIA_TYPE", "StatusChanged", "router"]
