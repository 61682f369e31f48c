"""A synchronous ``httpx.Client`` that reaches a real ASGI app (httpx's ASGI transport).

Starlette's ``TestClient`` warns about httpx in this environment (and warnings
are errors), so each request runs the app through ``httpx.ASGITransport`` on
its own event loop. The verifier's code takes an ``httpx.Client`` and cannot
tell this from the network.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio
import httpx
from starlette.types import ASGIApp


class SyncAsgiTransport(httpx.BaseTransport):
    """Serve each request from ``apps`` (by host, or the one app) through httpx's ASGI transport."""

    def __init__(self, apps: ASGIApp | Mapping[str, ASGIApp]) -> None:
        self._apps = apps

    def _app(self, request: httpx.Request) -> ASGIApp:
        if isinstance(self._apps, Mapping):
            origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
            app = self._apps.get(origin)
            if app is None:
                raise httpx.ConnectError(f"no app at {origin}", request=request)
            return app
        return self._apps

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        app = self._app(request)
        body = request.read()

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await transport.handle_async_request(forwarded)
            content = await response.aread()
            # a stream, not content: the client then reads and closes it (and sets .elapsed)
            stream = httpx.ByteStream(content)
            return httpx.Response(response.status_code, headers=response.headers, stream=stream)

        return anyio.run(send)


def asgi_client(apps: ASGIApp | Mapping[str, ASGIApp], base_url: str = "") -> httpx.Client:
    """A client whose requests go to ``apps`` (one app, or ``{origin: app}``)."""
    return httpx.Client(transport=SyncAsgiTransport(apps), base_url=base_url)


__all__ = ["SyncAsgiTransport", "asgi_client"]
