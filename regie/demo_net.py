"""The demo's small internet: every service's real ASGI app, reached in-process over httpx.

:class:`InProcessNetwork` is an ``httpx`` transport that hands each request
to the app serving its origin (the BRP's issuer, Anna's wallet host, the
parking desk) through ``httpx.ASGITransport``, on a fresh event loop in the
calling thread. So the desk's synchronous ``httpx.Client`` reaches the host
from inside the desk's own request handler, as over a network. Nothing
listens on a port. The network keeps a log of every exchange (a wire tap),
which the demo uses to show what the wallet host really sent.

:class:`DemoClock` is the one clock all services and the wallet share, so the
demo can move time forward ("three weeks later").
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import httpx
from starlette.types import ASGIApp

from regie_protocol.errors import Unavailable


@dataclass
class DemoClock:
    """Integer seconds, moved on by the story."""

    now: int

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


class InProcessNetwork(httpx.BaseTransport):
    """Serve each request from the app registered for its origin; keep every answer."""

    def __init__(self) -> None:
        self._apps: dict[str, ASGIApp] = {}
        self._lock = threading.Lock()
        #: every answer, oldest first; ``response.request`` is what was sent
        self.exchanges: list[httpx.Response] = []

    def serve(self, origin: str, app: ASGIApp) -> None:
        """Answer requests to ``origin`` (``https://host``) with ``app``."""
        self._apps[origin] = app

    def client(self) -> httpx.Client:
        """A client on this network (no redirects followed, as the services' own)."""
        return httpx.Client(transport=self, follow_redirects=False)

    def last(self, method: str, url: str) -> httpx.Response:
        """The latest answer to ``method url``."""
        with self._lock:
            for response in reversed(self.exchanges):
                if response.request.method == method and str(response.request.url) == url:
                    return response
        raise LookupError(f"no {method} {url} was sent")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        app = self._apps.get(origin)
        if app is None:
            raise httpx.ConnectError(f"nothing answers at {origin}", request=request)
        body = request.read()

        async def send() -> tuple[int, httpx.Headers, bytes]:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            answer = await httpx.ASGITransport(app=app).handle_async_request(forwarded)
            return answer.status_code, answer.headers, await answer.aread()

        status, headers, content = asyncio.run(send())
        response = httpx.Response(status, headers=headers, content=content, request=request)
        with self._lock:
            self.exchanges.append(response)
        # a stream, not content: the calling client reads and closes it as from a socket
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))


class NetworkFetcher:
    """The wallet's fetcher (``wallet.fetch.Fetcher``) on the demo's network."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        answer = self._http.get(url, headers={"Accept": accept})
        if answer.status_code != 200:
            raise Unavailable(f"{url} answered HTTP {answer.status_code}")
        return answer.content[: max_bytes + 1]


__all__ = ["DemoClock", "InProcessNetwork", "NetworkFetcher"]
