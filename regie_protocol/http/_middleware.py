"""ASGI middleware every Regie service runs: response headers, a body size cap, a last catch.

:class:`ApiHeadersMiddleware` (outermost of the service's own middleware) sets
on every answer, error answers included:

* ``API-Version``: the full semver of the service's API (NL GOV ``/core/version-header``);
* ``X-Content-Type-Options: nosniff``;
* ``Cache-Control: no-store`` unless the route set its own (a status list does);

and turns any exception that got this far into a 500 problem without
internals (the traceback goes to the server log).

:class:`BodyLimitMiddleware` refuses a request body over the limit with a 413
problem: at once when ``Content-Length`` says so, otherwise as soon as the
streamed body passes the limit (T29).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._problems import internal_error_response, logger, problem_for_status

DEFAULT_MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413)


class ApiHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, api_version: str) -> None:
        self.app = app
        self.api_version = api_version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["API-Version"] = self.api_version
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled exception in %s %r", scope.get("method"), scope.get("path"))
            if started:
                raise
            await internal_error_response()(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isascii() or not declared.isdigit():
                await problem_for_status(400)(scope, receive, send)
                return
            if len(declared) > 15 or int(declared) > self.max_body_bytes:
                await problem_for_status(413)(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        async def watch_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except BodyTooLarge:
            if started:
                raise
            await problem_for_status(413)(scope, receive, send)


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "ApiHeadersMiddleware",
    "BodyLimitMiddleware",
    "BodyTooLarge",
]
