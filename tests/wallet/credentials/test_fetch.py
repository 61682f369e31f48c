"""The SSRF-safe fetcher (T21): HTTPS to public addresses only, every redirect re-checked.

The network is an ``httpx.MockTransport`` and DNS an injected resolver, so the
table runs offline; each refusal starts from the good fetch (same test file,
``test_good_fetch``) and changes one thing.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from regie_protocol.errors import Code, MalformedInput, Refused, RegieError, Unavailable
from wallet.fetch import MAX_REDIRECTS, SafeFetcher

PUBLIC_IP = "93.184.216.34"
GOOD_URL = "https://issuer.example/.well-known/jwt-vc-issuer"
NAMES = {
    "issuer.example": [PUBLIC_IP],
    "private.example": ["10.1.2.3"],
    "mixed.example": [PUBLIC_IP, "127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "v6private.example": ["fd00::1"],
    "localhost": ["127.0.0.1", "::1"],
}
BODY = b'{"issuer": "https://issuer.example"}'


def resolver(host: str, port: int) -> Sequence[str]:
    if host not in NAMES:
        raise Unavailable(f"cannot resolve {host}")
    return NAMES[host]


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.startswith("/redirect-to/"):
        return httpx.Response(302, headers={"Location": path.removeprefix("/redirect-to/")})
    if path == "/loop":
        return httpx.Response(302, headers={"Location": "/loop"})
    if path == "/big-declared":
        return httpx.Response(200, headers={"Content-Length": "5000"}, content=b"x" * 5000)
    if path == "/big-streamed":
        return httpx.Response(200, content=iter([b"x" * 600, b"x" * 600]))
    if path == "/missing":
        return httpx.Response(404)
    return httpx.Response(200, content=BODY)


def fetch(url: str, *, allow_local_http: bool = False, max_bytes: int = 1024) -> bytes:
    fetcher = SafeFetcher(
        allow_local_http=allow_local_http,
        resolver=resolver,
        transport=httpx.MockTransport(handler),
    )
    return fetcher.get(url, accept="application/json", max_bytes=max_bytes)


def test_good_fetch_connects_to_the_checked_address() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    fetcher = SafeFetcher(resolver=resolver, transport=httpx.MockTransport(record))
    assert fetcher.get(GOOD_URL, accept="application/json", max_bytes=1024) == BODY
    (request,) = seen
    assert request.url.host == PUBLIC_IP  # no second DNS lookup between check and connect
    assert request.headers["host"] == "issuer.example"
    assert request.extensions["sni_hostname"] == "issuer.example"
    assert fetch("https://issuer.example/redirect-to/https://issuer.example/ok") == BODY


def test_local_http_only_when_allowed() -> None:
    assert fetch("http://127.0.0.1:8001/x", allow_local_http=True) == BODY
    assert fetch("http://localhost:8001/x", allow_local_http=True) == BODY
    assert fetch("https://[::1]/x", allow_local_http=True) == BODY


R = Refused
URL = Code.URL_REFUSED
CASES: dict[str, tuple[str, dict[str, object], type[RegieError], Code]] = {
    "plain http": ("http://issuer.example/x", {}, R, URL),
    "ftp": ("ftp://issuer.example/x", {}, R, URL),
    "no host": ("https:///x", {}, R, URL),
    "user info": ("https://user:pw@issuer.example/x", {}, R, URL),
    "not a URL": ("https://issuer.example:99999/x", {}, MalformedInput, Code.MALFORMED),
    "loopback literal": ("https://127.0.0.1/x", {}, R, URL),
    "loopback v6": ("https://[::1]/x", {}, R, URL),
    "localhost name": ("https://localhost/x", {}, R, URL),
    "private 10/8": ("https://10.0.0.5/x", {}, R, URL),
    "private 192.168/16": ("https://192.168.1.1/x", {}, R, URL),
    "link-local metadata": ("https://169.254.169.254/latest/meta-data", {}, R, URL),
    "link-local v6": ("https://[fe80::1]/x", {}, R, URL),
    "v4-mapped loopback": ("https://[::ffff:127.0.0.1]/x", {}, R, URL),
    "carrier-grade NAT": ("https://100.64.0.1/x", {}, R, URL),
    "unspecified": ("https://0.0.0.0/x", {}, R, URL),
    "multicast": ("https://224.0.0.1/x", {}, R, URL),
    "name resolves to private": ("https://private.example/x", {}, R, URL),
    "name resolves to unique-local v6": ("https://v6private.example/x", {}, R, URL),
    "one of the addresses is loopback": ("https://mixed.example/x", {}, R, URL),
    "name resolves to link-local": ("https://metadata.example/x", {}, R, URL),
    "redirect to private": (
        "https://issuer.example/redirect-to/https://10.0.0.1/x", {}, R, URL),
    "redirect to loopback name": (
        "https://issuer.example/redirect-to/https://localhost/x", {}, R, URL),
    "redirect to http": ("https://issuer.example/redirect-to/http://issuer.example/x", {}, R, URL),
    "too many redirects": ("https://issuer.example/loop", {}, R, URL),
    "too large (declared)": ("https://issuer.example/big-declared", {}, R, Code.SIZE_EXCEEDED),
    "too large (streamed)": ("https://issuer.example/big-streamed", {}, R, Code.SIZE_EXCEEDED),
    "allow-local: private stays refused": (
        "http://10.0.0.1/x", {"allow_local_http": True}, R, URL),
    "allow-local: public http stays refused": (
        "http://issuer.example/x", {"allow_local_http": True}, R, URL),
    "HTTP error": ("https://issuer.example/missing", {}, Unavailable, Code.UNAVAILABLE),
    "unknown name": ("https://nowhere.example/x", {}, Unavailable, Code.UNAVAILABLE),
}  # fmt: skip


@pytest.mark.parametrize(("url", "options", "error", "code"), CASES.values(), ids=CASES.keys())
def test_refused(url: str, options: dict[str, bool], error: type[RegieError], code: Code) -> None:
    with pytest.raises(error) as caught:
        fetch(url, **options)  # type: ignore[arg-type]
    assert type(caught.value) is error
    assert caught.value.code is code


def test_redirect_limit_is_small() -> None:
    assert MAX_REDIRECTS == 3
