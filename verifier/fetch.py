"""Fetching status lists from trusted parties only: an allow-list of base URLs (T16).

A consent or a credential names the URI of its status list. The verifier
fetches it only when it lies below a base URL the operator trusts (a wallet
host or an issuer from the trust file), so a token can never make the
verifier fetch anything else: no SSRF through a crafted ``status.uri``.
``GET`` only, no redirects, a timeout and a size cap; anything but a 200 is
:class:`~regie_protocol.errors.Unavailable`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import httpx

from regie_protocol.errors import Code, Refused, Unavailable

from .policy import is_under

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


class AllowListFetcher:
    """``fetch(uri) -> bytes`` for URIs below the allowed bases (``bases`` may be a callable)."""

    def __init__(
        self,
        bases: Collection[str] | Callable[[], Collection[str]],
        *,
        http: httpx.Client,
        accept: str = STATUS_LIST_MEDIA_TYPE,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._bases = bases
        self._http = http
        self._accept = accept
        self._max_bytes = max_bytes

    def allowed(self, uri: str) -> bool:
        bases = self._bases() if callable(self._bases) else self._bases
        return any(is_under(uri, base) for base in bases)

    def __call__(self, uri: str) -> bytes:
        if not self.allowed(uri):
            raise Refused(
                f"will not fetch {uri}: it is not below a trusted wallet host or issuer",
                code=Code.URL_REFUSED,
            )
        try:
            with self._http.stream(
                "GET", uri, headers={"Accept": self._accept}, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    raise Unavailable(f"{uri} answered HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise Refused(
                            f"the answer from {uri} is larger than {self._max_bytes} bytes",
                            code=Code.SIZE_EXCEEDED,
                        )
                return bytes(body)
        except httpx.TimeoutException:
            raise Unavailable(f"{uri} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot fetch {uri}: {type(exc).__name__}") from None


__all__ = ["DEFAULT_MAX_BYTES", "STATUS_LIST_MEDIA_TYPE", "AllowListFetcher"]
