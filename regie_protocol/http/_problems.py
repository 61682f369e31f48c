"""RFC 9457 problem details: one stable ``type`` per refusal reason, little said outward.

Every error answer of a Regie service is ``application/problem+json`` with
``type`` ``https://regie.example/problems/<code>``, ``title`` (fixed per code),
``status`` and ``detail`` (fixed per class of failure: it never repeats the
internal message, which goes to the server log). ``<code>`` is a
:class:`~regie_protocol.errors.Code` value, or a :class:`ProblemCode` value for
conditions of the HTTP layer itself; the two sets never overlap.

HTTP status of a :class:`~regie_protocol.errors.RegieError`:

========================================  =====  ==========================================
error                                     status why
========================================  =====  ==========================================
Refused (malformed, signature, claim,     400    something in the request is not acceptable
time, disclosure, key binding, key)
StatusRefused (revoked, suspended, ...)   403    understood, but it no longer grants anything
the same, raised while authenticating     401    wrapped in :class:`AuthenticationRefused`
the caller                                       by the code that authenticates
Unavailable                               503    storage or an upstream service; retry later
Misuse and any other exception            500    a bug: nothing about it goes out
========================================  =====  ==========================================

A route that knows better states the status itself with :func:`problem_from_error`
(for example 404 for a status index that was never handed out).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

from ..errors import (
    ClaimRefused,
    Code,
    DisclosureRefused,
    KeyBindingRefused,
    KeyRefused,
    LogRefused,
    MalformedInput,
    Refused,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://regie.example/problems/"

logger = logging.getLogger("regie.http")


class ProblemCode(StrEnum):
    """Problem codes of the HTTP layer (the others are :class:`Code` values). Append only."""

    INVALID_PARAMS = "invalid_params"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    BODY_TOO_LARGE = "body_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    GRANT_REFUSED = "grant_refused"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"
    RATE_LIMITED = "rate_limited"


_DETAIL_BY_CLASS: tuple[tuple[type[RegieError], str], ...] = (
    (MalformedInput, "The request or a value in it is not well-formed."),
    (SignatureRefused, "A signature, its algorithm, its header or its key was not accepted."),
    (TimeRefused, "A time in the request is outside the accepted window."),
    (ClaimRefused, "A claim or parameter is missing or has a value that is not accepted."),
    (DisclosureRefused, "A selective disclosure was not accepted."),
    (KeyBindingRefused, "The key binding was not accepted."),
    (StatusRefused, "A credential or consent is revoked, suspended or has no valid status."),
    (KeyRefused, "A key was not accepted."),
    (LogRefused, "A log proof, checkpoint or event does not hold."),
    (Refused, "The request was not accepted."),
    (Unavailable, "A service this one depends on is unavailable. Try again later."),
)
_INTERNAL_DETAIL = "The server could not complete the request."


def problem_type(code: Code | ProblemCode) -> str:
    """The stable ``type`` URI of a problem code."""
    return PROBLEM_TYPE_BASE + code.value


#: words of a code that are written in capitals (or mixed case) in a title
_TITLE_WORDS = {"dpop": "DPoP", "sd": "SD", "alg": "algorithm", "typ": "type", "url": "URL"}


def problem_title(code: Code | ProblemCode) -> str:
    """The fixed ``title`` of a problem code: its words (``DPoP replayed``)."""
    words = [_TITLE_WORDS.get(word, word) for word in code.value.split("_")]
    first = words[0]
    words[0] = first if first != first.lower() else first.capitalize()
    return " ".join(words)


def problem_body(
    status: int,
    type_code: Code | ProblemCode,
    title: str,
    detail: str,
    *,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON members of a problem: ``type``, ``title``, ``status``, ``detail`` (+ extensions)."""
    body: dict[str, Any] = {
        "type": problem_type(type_code),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if extensions:
        body.update(extensions)
    return body


def problem_response(
    status: int,
    type_code: Code | ProblemCode,
    title: str,
    detail: str,
    *,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An ``application/problem+json`` response (RFC 9457); see :func:`problem_title`."""
    return JSONResponse(
        problem_body(status, type_code, title, detail, extensions=extensions),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers) if headers else None,
    )


class HttpProblem(Exception):
    """Raise in a route to answer with a problem; the handler renders it."""

    def __init__(
        self,
        status: int,
        code: Code | ProblemCode,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
        log: str = "",
    ) -> None:
        super().__init__(f"{status} {code.value}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers) if headers else {}
        self.extensions = dict(extensions) if extensions else {}
        #: what the server log says (the detail when empty); never sent
        self.log = log or detail

    def response(self) -> JSONResponse:
        return problem_response(
            self.status,
            self.code,
            problem_title(self.code),
            self.detail,
            extensions=self.extensions,
            headers=self.headers,
        )


class AuthenticationRefused(HttpProblem):
    """The caller is not authenticated: 401 with ``WWW-Authenticate``.

    ``cause`` (a :class:`RegieError` from checking the credential) gives the
    ``type``; without one the type is ``unauthenticated``.
    """

    def __init__(
        self,
        *,
        scheme: str = "Bearer",
        cause: RegieError | None = None,
        error: str = "invalid_token",
    ) -> None:
        code: Code | ProblemCode = ProblemCode.UNAUTHENTICATED
        if cause is not None and isinstance(cause, Refused):
            code = cause.code
        super().__init__(
            401,
            code,
            "The request lacks valid credentials for this resource.",
            headers={"WWW-Authenticate": f'{scheme} error="{error}"'},
            log=cause.message if cause is not None else "",
        )


def status_for(error: RegieError) -> int:
    """The HTTP status for an error raised while serving a request (table in the module doc)."""
    if isinstance(error, StatusRefused):
        return 403
    if isinstance(error, Refused):
        return 400
    if isinstance(error, Unavailable):
        return 503
    return 500


def detail_for(error: RegieError) -> str:
    """The outward detail: the class of failure, never the internal message."""
    for cls, detail in _DETAIL_BY_CLASS:
        if isinstance(error, cls):
            return detail
    return _INTERNAL_DETAIL


def problem_from_error(error: RegieError, *, status: int | None = None) -> JSONResponse:
    """Render ``error`` as a problem; the full message goes to the server log only."""
    status = status if status is not None else status_for(error)
    if status >= 500 and not isinstance(error, Unavailable):
        logger.error("internal error (%s): %r", error.code.value, error.message)
        return internal_error_response()
    logger.info("refused %d %s: %r", status, error.code.value, error.message)
    return problem_response(status, error.code, problem_title(error.code), detail_for(error))


def internal_error_response() -> JSONResponse:
    code = ProblemCode.INTERNAL_ERROR
    return problem_response(500, code, problem_title(code), _INTERNAL_DETAIL)


_HTTP_CODES: Mapping[int, Code | ProblemCode] = {
    400: Code.MALFORMED,
    401: ProblemCode.UNAUTHENTICATED,
    403: ProblemCode.FORBIDDEN,
    404: ProblemCode.NOT_FOUND,
    405: ProblemCode.METHOD_NOT_ALLOWED,
    406: ProblemCode.NOT_ACCEPTABLE,
    413: ProblemCode.BODY_TOO_LARGE,
    415: ProblemCode.UNSUPPORTED_MEDIA_TYPE,
}


_HTTP_DETAILS: Mapping[int, str] = {
    400: "The request is not well-formed.",
    401: "The request lacks valid credentials for this resource.",
    404: "There is no resource at this path.",
    405: "This method is not allowed on this resource.",
    413: "The request body is larger than this service accepts.",
}


def problem_for_status(status: int, *, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A problem for a bare HTTP status (404 from the router, 405, 413, ...)."""
    if status >= 500:
        return internal_error_response()
    code: Code | ProblemCode = _HTTP_CODES.get(status, ProblemCode.HTTP_ERROR)
    detail = _HTTP_DETAILS.get(status)
    if detail is None:
        try:
            detail = HTTPStatus(status).phrase + "."
        except ValueError:
            detail = "The request was not accepted."
    return problem_response(status, code, problem_title(code), detail, headers=headers)


def invalid_params(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """NL GOV ``invalidParams`` from pydantic errors: name, code, reason; never the input."""
    params: list[dict[str, str]] = []
    for error in errors[:50]:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        params.append(
            {
                "name": ".".join(loc) or "body",
                "code": str(error.get("type", "invalid")),
                "reason": str(error.get("msg", "invalid value"))[:200],
            }
        )
    return params


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "AuthenticationRefused",
    "HttpProblem",
    "ProblemCode",
    "detail_for",
    "internal_error_response",
    "invalid_params",
    "problem_body",
    "problem_for_status",
    "problem_from_error",
    "problem_response",
    "problem_title",
    "problem_type",
    "status_for",
]
