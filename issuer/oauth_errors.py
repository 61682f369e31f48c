"""OAuth 2.0 / OpenID4VCI error answers, which also carry our problem members.

The token endpoint (RFC 6749 §5.2), the credential endpoint (OpenID4VCI 1.0
"Credential Error Response") and a refused access token (RFC 6750 §3) must
answer ``application/json`` with an ``error`` code: wallets act on it. We send
exactly that, and add the RFC 9457 members ``type`` (our stable problem type),
``title``, ``status`` and ``detail`` — unknown members are ignored by OAuth
clients, so the body is both. A client that asks for
``application/problem+json`` in ``Accept`` (and not ``application/json``) gets
the same body under that media type.

Every other refusal of the issuer is plain problem+json (regie_protocol.http).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.message import Message
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from regie_protocol.errors import Code
from regie_protocol.http import PROBLEM_MEDIA_TYPE, ProblemCode, problem_body, problem_title

OAUTH_MEDIA_TYPE = "application/json"

logger = logging.getLogger("regie.issuer")


class OAuthErrorBody(BaseModel):
    """An OAuth 2.0 error (RFC 6749 §5.2) that is also an RFC 9457 problem."""

    error: str
    error_description: str
    type: str
    title: str
    status: int
    detail: str


def oauth_error_content(description: str) -> dict[str, Any]:
    """OpenAPI ``responses`` entry: application/json, or problem+json when asked (same body)."""
    schema = {"$ref": "#/components/schemas/OAuthErrorBody"}
    return {
        "model": OAuthErrorBody,
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
    }


def request_media_type(request: Request) -> str:
    """The request's media type without parameters (``""`` -> ``text/plain``)."""
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_type()


class OAuthError(Exception):
    """Raise in a protocol route; rendered by the handler :func:`install_oauth_errors` adds."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        code: Code | ProblemCode,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
        log: str = "",
    ) -> None:
        super().__init__(f"{error}: {description}")
        if not description.isascii() or '"' in description or "\\" in description:
            raise ValueError("an error_description is ASCII without quote or backslash")
        self.error = error
        self.description = description
        self.code = code
        self.status = status
        self.headers = dict(headers) if headers else {}
        self.log = log


def _media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    if PROBLEM_MEDIA_TYPE in accept and OAUTH_MEDIA_TYPE not in accept.replace(
        PROBLEM_MEDIA_TYPE, ""
    ):
        return PROBLEM_MEDIA_TYPE
    return OAUTH_MEDIA_TYPE


def oauth_error_response(request: Request, exc: OAuthError) -> JSONResponse:
    body = {
        "error": exc.error,
        "error_description": exc.description,
        **problem_body(exc.status, exc.code, problem_title(exc.code), exc.description),
    }
    return JSONResponse(
        body, status_code=exc.status, media_type=_media_type(request), headers=exc.headers
    )


async def _handle(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    logger.info(
        "refused %d %s (%s): %r", exc.status, exc.error, exc.code.value, exc.log or exc.description
    )
    return oauth_error_response(request, exc)


def install_oauth_errors(app: FastAPI) -> None:
    app.add_exception_handler(OAuthError, _handle)


__all__ = [
    "OAUTH_MEDIA_TYPE",
    "OAuthError",
    "OAuthErrorBody",
    "install_oauth_errors",
    "oauth_error_content",
    "oauth_error_response",
    "request_media_type",
]
