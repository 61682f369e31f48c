"""What the host may remember between reads: pure results of checks on immutable inputs.

A read parses the presented consent token, checks its signature under the
consent's stored holder key, and the owner's verifier registry under its
registrar key. These results are pure functions of their inputs (the token
text, the key text, the signed document), so they are kept in bounded LRU
maps keyed by exactly those inputs: a changed token, key or registry is a
different key, never a stale hit. Time is not cached: the caller checks
``nbf``/``exp`` and the registry's ``exp`` at every read. State (the consent
row, its status bit, uses) is never cached; it is read inside the read's
transaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from regie_protocol import consent as ct
from regie_protocol.errors import Code, Misuse, TimeRefused
from regie_protocol.keys import PublicKey, parse_jwk_text, public_key_from_jwk
from regie_protocol.limits import Limits
from regie_protocol.registry import Registry, verify_registry

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 4096


class LruCache(Generic[K, V]):
    """A thread-safe map of at most ``max_entries`` items; the least recently used goes first.

    Only successes are kept: ``make`` raising leaves nothing behind.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise Misuse("a cache holds at least one entry")
        self.max_entries = max_entries
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: a slow check does not stall other reads
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


class CheckCaches:
    """The host's caches of verified consent tokens and registries (one per app)."""

    def __init__(self, *, leeway: int, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.leeway = leeway
        self._limits = Limits(leeway_seconds=leeway)
        self._keys: LruCache[str, PublicKey] = LruCache(max_entries)
        self._parsed: LruCache[str, ct.UnverifiedConsent] = LruCache(max_entries)
        self._consents: LruCache[tuple[str, str, str], ct.ConsentClaims] = LruCache(max_entries)
        self._registries: LruCache[tuple[str, str], Registry] = LruCache(64)

    def holder_key(self, jwk_text: str) -> PublicKey:
        """The public key of a stored ``holder_jwk`` (JSON text)."""
        return self._keys.get_or_make(
            jwk_text, lambda: public_key_from_jwk(parse_jwk_text(jwk_text))
        )

    def parsed_consent(self, token: str) -> ct.UnverifiedConsent:
        """:func:`~regie_protocol.consent.parse_consent` of ``token`` (a refusal is not kept)."""
        return self._parsed.get_or_make(token, lambda: ct.parse_consent(token))

    def consent_claims(
        self, token: str, holder_jwk: str, *, audience: str, now: int
    ) -> ct.ConsentClaims:
        """The claims of ``token``, signed by ``holder_jwk`` for ``audience`` (raises Refused).

        The first check is :func:`~regie_protocol.consent.verify_consent` in full;
        a cached result skips the signature, so the caller checks the times itself.
        """

        def verify() -> ct.ConsentClaims:
            key = self.holder_key(holder_jwk)
            verified = ct.verify_consent(
                token,
                holder_keys={key.thumbprint_uri(): key},
                audience=audience,
                now=now,
                limits=self._limits,
            )
            return verified.claims

        return self._consents.get_or_make((token, holder_jwk, audience), verify)

    def registry(self, registrar_jwk: str, document: str, *, now: int) -> Registry:
        """The verified registry ``document`` under ``registrar_jwk``, not expired at ``now``."""

        def verify() -> Registry:
            key = public_key_from_jwk(parse_jwk_text(registrar_jwk), registering=True)
            return verify_registry(
                document, registrar_keys=key, now=now, min_version=None, limits=self._limits
            )

        registry = self._registries.get_or_make((registrar_jwk, document), verify)
        if now - self.leeway >= registry.exp:
            raise TimeRefused(
                f"the owner's verifier registry expired at {registry.exp} (now {now})",
                code=Code.EXPIRED,
            )
        return registry


__all__ = ["DEFAULT_MAX_ENTRIES", "CheckCaches", "LruCache"]
