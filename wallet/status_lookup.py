"""A credential's Token Status List entry: fetched safely, verified with its issuer's keys.

The resolver that :func:`regie_protocol.sdjwt.verify` asks is built here for
ONE issuer: the status list token fetched from the credential's ``uri`` (through a
:class:`~wallet.fetch.Fetcher`) must be signed by that issuer's trusted keys and
name the ``uri`` it was fetched from (``verify_status_list``). A list is
fetched once per lookup object (one command), then read from memory.
"""

from __future__ import annotations

from collections.abc import Mapping

from regie_protocol.errors import Code, SignatureRefused
from regie_protocol.keys import PublicKey
from regie_protocol.limits import DEFAULT_LIMITS, Limits
from regie_protocol.sdjwt import StatusResolver
from regie_protocol.statuslist import VerifiedStatusList, verify_status_list

from .fetch import Fetcher

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"


class StatusLookup:
    """Status values of credentials, for the trusted issuers' keys, at one ``now``."""

    def __init__(
        self,
        issuer_keys: Mapping[str, Mapping[str, PublicKey]],
        fetcher: Fetcher,
        *,
        now: int,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._keys = issuer_keys
        self._fetcher = fetcher
        self._now = now
        self._limits = limits
        self._lists: dict[tuple[str, str], VerifiedStatusList] = {}

    def status_of(self, issuer: str, uri: str, idx: int) -> int:
        """The raw status value (0 valid, 1 invalid, 2 suspended, ...) of entry ``idx``."""
        return self.status_list(issuer, uri).list.get(idx)

    def status_list(self, issuer: str, uri: str) -> VerifiedStatusList:
        cached = self._lists.get((issuer, uri))
        if cached is not None:
            return cached
        keys = self._keys.get(issuer)
        if not keys:
            raise SignatureRefused(
                f"the issuer {issuer!r} is not trusted here", code=Code.ISSUER_UNTRUSTED
            )
        body = self._fetcher.get(
            uri,
            accept=STATUS_LIST_MEDIA_TYPE,
            max_bytes=self._limits.max_status_list_token_bytes,
        )
        verified = verify_status_list(body, keys=keys, uri=uri, now=self._now, limits=self._limits)
        self._lists[(issuer, uri)] = verified
        return verified

    def resolver_for(self, issuer: str) -> StatusResolver:
        """The ``status=`` argument of ``sdjwt.verify`` for a credential of ``issuer``."""

        def resolve(uri: str, idx: int) -> int:
            return self.status_of(issuer, uri, idx)

        return resolve


__all__ = ["STATUS_LIST_MEDIA_TYPE", "StatusLookup"]
