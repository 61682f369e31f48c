"""Exception handlers and strict JSON bodies: every failure becomes a problem.

* :class:`~regie_protocol.errors.RegieError` -> problem with its ``Code``
  (status table in :mod:`regie_protocol.http._problems`);
* FastAPI's ``RequestValidationError`` -> 400 ``invalid_params`` with an
  NL GOV ``invalidParams`` list (name, code, reason; the input is never echoed);
* Starlette's ``HTTPException`` (404 from the router, 405 with ``Allow``,
  413 from the body limit) -> problem for that status;
* anything else -> 500 ``internal_error`` from
  :class:`~regie_protocol.http._middleware.ApiHeadersMiddleware`, with the
  traceback in the server log only.

Request bodies declared as JSON are parsed by :func:`regie_protocol._encoding.loads_strict`
(no duplicate members, no NaN, bounded depth) through :class:`StrictJSONRoute`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .._encoding import loads_strict
from ..errors import MalformedInput, RegieError
from ..limits import DEFAULT_LIMITS
from ._problems import (
    HttpProblem,
    ProblemCode,
    invalid_params,
    logger,
    problem_for_status,
    problem_from_error,
    problem_response,
    problem_title,
)


class MalformedBody(HTTPException):
    """A JSON body refused by the strict parser (an HTTPException so FastAPI passes it on)."""

    def __init__(self, error: MalformedInput) -> None:
        super().__init__(status_code=400, detail=error.code.value)
        self.error = error


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`loads_strict`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads_strict(
                    body, max_depth=DEFAULT_LIMITS.max_json_depth, what="request body"
                )
            except MalformedInput as exc:
                raise MalformedBody(exc) from None
        return self._json


class StrictJSONRoute(APIRoute):
    """An API route whose JSON bodies are parsed strictly (``APIRouter(route_class=...)``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler


async def _regie_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegieError)
    return problem_from_error(exc)


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    logger.info("refused %d %s: %r", exc.status, exc.code.value, exc.log)
    return exc.response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    code = ProblemCode.INVALID_PARAMS
    return problem_response(
        400,
        code,
        problem_title(code),
        "One or more parameters are missing or invalid.",
        extensions={"invalidParams": invalid_params(exc.errors())},
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, MalformedBody):
        return problem_from_error(exc.error)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return problem_for_status(exc.status_code, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with ``application/problem+json``."""
    app.add_exception_handler(RegieError, _regie_error)
    app.add_exception_handler(HttpProblem, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_exception)


__all__ = [
    "MalformedBody",
    "StrictJSONRequest",
    "StrictJSONRoute",
    "install_problem_handlers",
]
