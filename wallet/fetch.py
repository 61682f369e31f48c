"""Fetching issuer metadata and status lists without becoming an SSRF proxy (T21).

A credential names the URL of its status list, and a person pastes metadata
URLs: both are input from others. :class:`SafeFetcher` only does ``GET`` over
HTTPS, resolves the host name itself and refuses when ANY address it resolves
to is not a public unicast address (loopback, private, link-local,
carrier-grade NAT, multicast, reserved, IPv4-mapped forms of those), then
connects to the address it checked (the host name goes in ``Host`` and the TLS
SNI, so the certificate is still checked for the name: no DNS rebinding
between check and connect). Redirects are followed by hand, at most
:data:`MAX_REDIRECTS`, each target checked like the first. Bodies are read up
to a size cap; a timeout bounds every step.

``allow_local_http`` (``REGIE_ALLOW_LOCAL_URLS=1``) is for local demos and
tests: it additionally accepts ``http://`` and ``https://`` to loopback
(``localhost``, ``127.0.0.0/8``, ``::1``), nothing else.

Code that fetches takes a :class:`Fetcher`, so tests can hand in one that
serves from an in-process app.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from regie_protocol.errors import Code, MalformedInput, Refused, Unavailable

#: the most redirects one fetch follows
MAX_REDIRECTS = 3
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1 << 20
ALLOW_LOCAL_ENV = "REGIE_ALLOW_LOCAL_URLS"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``; the default asks the system resolver
Resolver = Callable[[str, int], Sequence[str]]


class Fetcher(Protocol):
    """Something that GETs a URL and returns the body, or raises Regie's errors."""

    def get(self, url: str, *, accept: str, max_bytes: int) -> bytes: ...


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unavailable(f"cannot resolve {host!r}: {exc}") from None
    return [str(info[4][0]) for info in infos]


def _refuse(url: str, reason: str) -> Refused:
    return Refused(f"will not fetch {url}: {reason}", code=Code.URL_REFUSED)


def _is_loopback(addr: IpAddress) -> bool:
    mapped = addr.ipv4_mapped if isinstance(addr, ipaddress.IPv6Address) else None
    return (mapped or addr).is_loopback


def _is_public(addr: IpAddress) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return _is_public(addr.ipv4_mapped)
    return addr.is_global and not (addr.is_multicast or addr.is_reserved)


class SafeFetcher:
    """GET over HTTPS to public addresses only (see the module docstring)."""

    def __init__(
        self,
        *,
        allow_local_http: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.allow_local_http = allow_local_http
        self._timeout = timeout
        self._resolver = resolver
        self._transport = transport

    def get(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        with httpx.Client(
            timeout=self._timeout, follow_redirects=False, transport=self._transport
        ) as client:
            current = url
            for _ in range(MAX_REDIRECTS + 1):
                redirect, body = self._send(client, current, accept, max_bytes)
                if redirect is None:
                    return body
                current = redirect
            raise _refuse(url, f"more than {MAX_REDIRECTS} redirects")

    def check_url(self, url: str) -> tuple[str, str, int, IpAddress]:
        """``(scheme, host, port, address)`` to connect to, or a refusal."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise MalformedInput(f"{url!r} is not a URL") from None
        host = parts.hostname
        if parts.scheme not in ("https", "http") or not host:
            raise _refuse(url, "only https:// URLs are fetched")
        if parts.username is not None or parts.password is not None:
            raise _refuse(url, "a URL with user information is not fetched")
        local_ok = self.allow_local_http
        if parts.scheme == "http" and not local_ok:
            raise _refuse(url, "only https:// URLs are fetched")
        port = port or (443 if parts.scheme == "https" else 80)
        try:
            literal: IpAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses: list[IpAddress] = [literal]
        else:
            resolved = self._resolver(host, port)
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
            except ValueError:
                raise Unavailable(f"the resolver gave no usable address for {host!r}") from None
            if not addresses:
                raise Unavailable(f"{host!r} has no address")
        for addr in addresses:
            if local_ok and _is_loopback(addr):
                continue
            if not _is_public(addr):
                raise _refuse(url, f"{host} is at {addr}, which is not a public address")
            if parts.scheme == "http":
                raise _refuse(url, "plain http:// is fetched only from this machine")
        return parts.scheme, host, port, addresses[0]

    def _send(
        self, client: httpx.Client, url: str, accept: str, max_bytes: int
    ) -> tuple[str | None, bytes]:
        """Fetch ``url``: ``(redirect target, b"")`` or ``(None, body)``."""
        scheme, host, port, addr = self.check_url(url)
        parts = urlsplit(url)
        ip_host = f"[{addr}]" if isinstance(addr, ipaddress.IPv6Address) else str(addr)
        target = parts._replace(netloc=f"{ip_host}:{port}").geturl()
        default_port = 443 if scheme == "https" else 80
        host_header = host if port == default_port else f"{host}:{port}"
        request = client.build_request(
            "GET",
            target,
            headers={"Host": host_header, "Accept": accept},
            extensions={"sni_hostname": host},
        )
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException:
            raise Unavailable(f"{url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot fetch {url}: {type(exc).__name__}") from None
        try:
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if not location:
                    raise Unavailable(f"{url} redirects without a Location")
                return urljoin(url, location), b""
            if response.status_code != 200:
                raise Unavailable(f"{url} answered HTTP {response.status_code}")
            return None, _read_capped(response, url, max_bytes)
        finally:
            response.close()


def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    too_large = Refused(
        f"the answer from {url} is larger than {max_bytes} bytes", code=Code.SIZE_EXCEEDED
    )
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise too_large
    except httpx.HTTPError as exc:
        raise Unavailable(f"cannot read the answer from {url}: {type(exc).__name__}") from None
    return bytes(body)


__all__ = [
    "ALLOW_LOCAL_ENV",
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "Fetcher",
    "Resolver",
    "SafeFetcher",
    "system_resolver",
]
