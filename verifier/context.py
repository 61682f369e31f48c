"""Everything one verifier acts with, built from its settings: identity, trust, store, caches.

The CLI and the example service open a :class:`VerifierContext` once; it hands
out policies (for an endpoint's attributes and purpose) and one
:class:`~verifier.client.WalletHostClient` per trusted wallet host, all sharing
one status-list cache and one HTTP client.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import httpx

from regie_protocol.errors import Misuse

from .client import WalletHostClient
from .fetch import AllowListFetcher
from .identity import VerifierIdentity, load_identity
from .policy import ConsentPolicy
from .settings import VerifierSettings
from .status_cache import StatusListCache
from .store import VerifierStore
from .trust import Trust, load_trust

DEFAULT_TIMEOUT = 10.0


def system_clock() -> int:
    return int(time.time())


@dataclass
class VerifierContext:
    """One verifier's identity, trust, store, status cache and HTTP client."""

    settings: VerifierSettings
    identity: VerifierIdentity
    trust: Trust
    store: VerifierStore
    http: httpx.Client
    clock: Callable[[], int]
    status: StatusListCache = field(init=False)
    _clients: dict[str, WalletHostClient] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        base = self.policy()
        self.status = StatusListCache(
            fetch=AllowListFetcher(base.trusted_bases(), http=self.http),
            keys_for=base.status_list_keys,
            clock=self.now,
            min_ttl=self.settings.status_min_ttl,
            max_ttl=self.settings.status_max_ttl,
            default_ttl=min(
                max(self.settings.status_default_ttl, self.settings.status_min_ttl),
                self.settings.status_max_ttl,
            ),
        )

    @classmethod
    def open(
        cls,
        settings: VerifierSettings,
        *,
        clock: Callable[[], int] | None = None,
        http: httpx.Client | None = None,
        identity: VerifierIdentity | None = None,
    ) -> VerifierContext:
        """Load the identity and trust files and open the store named by ``settings``."""
        identity = identity or load_identity(settings.identity_file)
        trust = load_trust(settings.trust_file)
        store = VerifierStore.open(settings.database)
        client = http or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        return cls(settings, identity, trust, store, client, clock or system_clock)

    def now(self) -> int:
        return int(self.clock())

    def policy(self, attributes: Collection[str] = (), purpose: str | None = None) -> ConsentPolicy:
        """The verifier's policy: its trust and store, needing ``attributes`` for ``purpose``."""
        return ConsentPolicy(
            audience=self.identity.id,
            attributes=frozenset(attributes),
            purpose=purpose,
            trusted_hosts=self.trust.wallet_hosts,
            trusted_issuers=self.trust.issuers,
            holder_keys=self.store.holder_key,
            clock=self.now,
            leeway=self.settings.leeway,
        )

    def client(self, host: str) -> WalletHostClient:
        """The client for a trusted wallet host (one per host, shared)."""
        if host not in self.trust.wallet_hosts:
            raise Misuse(
                f"the wallet host {host} is not trusted: run 'regie verifier trust host {host}'"
            )
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                client = self._clients[host] = WalletHostClient(
                    host, self.identity, http=self.http, clock=self.now, status=self.status
                )
            return client

    def close(self) -> None:
        self.store.close()
        self.http.close()


__all__ = ["VerifierContext", "system_clock"]
