"""Public routes: the consent status lists and the host's keys.

``GET /v1/status-lists/{id}`` answers the Token Status List of consents
``id`` (see :mod:`wallet.host.status_tokens`) as ``application/statuslist+jwt``
with ``Cache-Control: max-age=<ttl>``; an unknown list is 404.
``GET /v1/keys`` lists the host's public keys (JWK set): a verifier pins them
to check the status lists. Both are rate-limited per client address (generously:
they are cheap and cached).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from pydantic import BaseModel, ConfigDict

from regie_protocol.http import HttpProblem, ProblemCode, api_router

from .host_key import public_jwk
from .service import ClientDep, NowDep, ServiceDep

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
_ACCEPTABLE = (STATUS_LIST_MEDIA_TYPE, "application/*", "*/*")
_RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many requests from this address."}
}

router = api_router(tags=["status"])


def _accepts(accept: str | None) -> bool:
    if not accept:
        return True
    ranges = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
    return any(media in _ACCEPTABLE for media in ranges)


ListId = Annotated[
    str,
    Path(
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        max_length=63,
        description="The list's id, as in a consent's status URI (consents-1, ...).",
    ),
]


@router.get(
    "/v1/status-lists/{list_id}",
    summary="A Token Status List of consents",
    operation_id="getStatusList",
    response_class=Response,
    responses={
        200: {
            "description": "A Status List Token signed by the host key.",
            "content": {STATUS_LIST_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        404: {"description": "There is no status list with this id."},
        406: {"description": "The client accepts no media type this list is served as."},
        **_RATE_LIMITED,
    },
)
def status_list(
    list_id: ListId, request: Request, service: ServiceDep, now: NowDep, client: ClientDep
) -> Response:
    service.public_limiter.check(client)
    if not _accepts(request.headers.get("accept")):
        raise HttpProblem(
            406,
            ProblemCode.NOT_ACCEPTABLE,
            f"The status list is served as {STATUS_LIST_MEDIA_TYPE} only.",
        )
    token = service.status_tokens.token(list_id, now=now)
    if token is None:
        raise HttpProblem(404, ProblemCode.NOT_FOUND, "There is no status list with this id.")
    ttl = service.settings.status_ttl
    return Response(
        token, media_type=STATUS_LIST_MEDIA_TYPE, headers={"Cache-Control": f"max-age={ttl}"}
    )


class KeySet(BaseModel):
    """The host's public signing keys (JWK set, RFC 7517)."""

    model_config = ConfigDict(extra="forbid")

    keys: list[dict[str, Any]]


@router.get(
    "/v1/keys",
    summary="The host's public keys (they sign the status lists)",
    operation_id="getHostKeys",
    responses={**_RATE_LIMITED},
)
def keys(service: ServiceDep, client: ClientDep, response: Response) -> KeySet:
    service.public_limiter.check(client)
    response.headers["Cache-Control"] = "public, max-age=300"
    return KeySet(keys=[public_jwk(service.key)])


__all__ = ["STATUS_LIST_MEDIA_TYPE", "KeySet", "router"]
