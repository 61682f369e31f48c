"""Everything one verifier acts with, built from its settings: identity, trust, store, caches.

The CLI and the example service open a :class:`VerifierContext` once; it hands
out policies (for an endpoint's attributes and purpose) and one
:class:`~verifier.client.WalletHostClient` per trusted wallet host, all sharing
one status-list cache and one HTTP client. It asks and collects with its store::

    request_id = context.submit_request(claims)   # signed, posted, recorded
    collected = context.collect(request_id)       # the answer (DPoP); approved: checked, saved
    if collected.consent is not None:
        context.client(collected.host).read(collected.consent.token, policy=context.policy())

Its clients tell the store when a host refuses a read because the consent is
over (``consent_ended``, ``revoked``): the consent is marked withdrawn there
and :func:`~verifier.purge.purge` deletes what was kept under it at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import httpx

from regie_protocol.consent_request import ConsentRequestClaims
from regie_protocol.errors import Misuse

from .client import WalletHostClient
from .fetch import AllowListFetcher
from .identity import VerifierIdentity, load_identity
from .policy import ConsentPolicy
from .settings import VerifierSettings
from .status_cache import StatusListCache
from .store import VerifierStore
from .trust import Trust, load_trust
from .verify import VerifiedConsentToken

DEFAULT_TIMEOUT = 10.0


def system_clock() -> int:
    return int(time.time())


@dataclass(frozen=True, slots=True)
class Collected:
    """A request's answer as :meth:`VerifierContext.collect` found it: the state at the host
    (pending, approved, refused, expired) and, once approved, the checked consent (saved)."""

    request_id: str
    host: str
    state: str
    consent: VerifiedConsentToken | None = None


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
                    host,
                    self.identity,
                    http=self.http,
                    clock=self.now,
                    status=self.status,
                    on_ended=self.store.note_ended,
                )
            return client

    def submit_request(self, claims: ConsentRequestClaims) -> str:
        """Sign ``claims``, post them to the wallet host they name (``aud``, trusted) and
        record the request in the store; the host's id for it."""
        request_id = self.client(claims.aud).submit_request(claims)
        self.store.add_request(claims.aud, request_id, claims.jti, now=self.now())
        return request_id

    def collect(self, request_id: str) -> Collected:
        """Ask the host for the answer to a request sent from here (one look, with DPoP) and
        record it. An approved answer's consent token is checked first
        (:meth:`~verifier.client.WalletHostClient.verify_answer`: the holder's signature,
        this verifier, this request, its status) and saved with the request's new state in
        one transaction; a refusal there saves nothing. Collecting again is harmless."""
        stored = self.store.request(request_id)
        if stored is None:
            raise Misuse(f"request {request_id!r} was not sent from this verifier")
        client = self.client(stored.host)
        answer = client.answer(request_id)
        if answer.state == "approved":
            consent = client.verify_answer(answer, self.policy(), request_jti=stored.request_jti)
            self.store.save_answer(
                stored.host,
                request_id,
                answer.state,
                consent=consent,
                holder_jwk=answer.holder_jwk,
                now=self.now(),
            )
            return Collected(request_id, stored.host, answer.state, consent)
        if answer.state != stored.state:
            self.store.save_answer(stored.host, request_id, answer.state, now=self.now())
        return Collected(request_id, stored.host, answer.state)

    def close(self) -> None:
        self.store.close()
        self.http.close()


__all__ = ["Collected", "VerifierContext", "system_clock"]
