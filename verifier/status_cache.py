"""A cache of verified Token Status Lists: honours ``ttl``, refuses rollback, fails closed (T19).

:meth:`StatusListCache.get` gives the verified list at a URI:

* within the list's freshness window it is served from memory, no fetch;
* the window is the list's ``ttl`` (``default_ttl`` when it names none)
  bounded to ``[min_ttl, max_ttl]``, and never past the list's ``exp``: a host
  cannot make a verifier trust one list for a year, nor hammer it every second;
* after the window the list is fetched again and verified with the keys the
  caller trusts for that URI (``keys_for``); a list issued before the cached
  one (:func:`regie_protocol.statuslist.newer_than`) is refused, so an old
  signed list replayed by an attacker cannot un-revoke a consent;
* when the refetch fails (unreachable, bad signature, rollback) the call
  raises: a stale list is never used past its window (fail closed). The
  stale entry stays, so a later rollback is still caught.

One lock per URI: concurrent callers of one URI wait for one fetch instead of
fetching in parallel; other URIs are not held up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from regie_protocol import jws
from regie_protocol.errors import Code, Misuse, SignatureRefused
from regie_protocol.limits import DEFAULT_LIMITS, Limits
from regie_protocol.sdjwt import StatusResolver
from regie_protocol.statuslist import VerifiedStatusList, newer_than, verify_status_list

#: seconds a list is used at least / at most / when it names no ttl
MIN_TTL = 10
MAX_TTL = 3600
DEFAULT_TTL = 300
#: URIs kept at most; the least recently fetched is dropped first
MAX_ENTRIES = 1024

Fetch = Callable[[str], bytes]
KeysFor = Callable[[str], jws.Keys | None]


class StatusLists(Protocol):
    """Something that gives the verified, fresh status list at a URI, or raises."""

    def get(self, uri: str) -> VerifiedStatusList: ...


@dataclass(frozen=True, slots=True)
class CachedList:
    """A verified list and the window in which it is used without fetching."""

    list: VerifiedStatusList
    fetched_at: int
    fresh_until: int


class StatusListCache:
    """Verified status lists by URI; see the module docstring."""

    def __init__(
        self,
        *,
        fetch: Fetch,
        keys_for: KeysFor,
        clock: Callable[[], int],
        min_ttl: int = MIN_TTL,
        max_ttl: int = MAX_TTL,
        default_ttl: int = DEFAULT_TTL,
        limits: Limits = DEFAULT_LIMITS,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        for name, value in (("min_ttl", min_ttl), ("max_ttl", max_ttl), ("default", default_ttl)):
            if type(value) is not int or value <= 0:
                raise Misuse(f"{name} is a positive number of seconds")
        if not min_ttl <= default_ttl <= max_ttl:
            raise Misuse("the ttl bounds are min_ttl <= default_ttl <= max_ttl")
        if type(max_entries) is not int or max_entries < 1:
            raise Misuse("max_entries is a positive integer")
        self._fetch = fetch
        self._keys_for = keys_for
        self._clock = clock
        self.min_ttl, self.max_ttl, self.default_ttl = min_ttl, max_ttl, default_ttl
        self._limits = limits
        self._max_entries = max_entries
        self._entries: dict[str, CachedList] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cached(self, uri: str) -> CachedList | None:
        """What the cache holds for ``uri`` (fresh or stale), without fetching."""
        return self._entries.get(uri)

    def get(self, uri: str) -> VerifiedStatusList:
        """The verified list at ``uri``, fresh by this cache's rules; raises when there is none."""
        now = self._now()
        entry = self._entries.get(uri)
        if entry is not None and now < entry.fresh_until:
            return entry.list
        with self._lock(uri):
            now = self._now()
            entry = self._entries.get(uri)
            if entry is not None and now < entry.fresh_until:
                return entry.list  # another caller refreshed it while we waited
            return self._refresh(uri, now, entry).list

    def status(self, uri: str, idx: int) -> int:
        """The raw status value at ``idx`` (0 VALID, 1 INVALID, 2 SUSPENDED, ...)."""
        return self.get(uri).list.get(idx)

    def resolver(self, allowed: Callable[[str], bool]) -> StatusResolver:
        """A ``status=`` resolver for :func:`regie_protocol.sdjwt.verify` that only looks at
        URIs ``allowed`` says yes to (a credential's list lies below its own issuer)."""

        def resolve(uri: str, idx: int) -> int:
            if not allowed(uri):
                raise SignatureRefused(
                    f"the status list {uri} is not served by the credential's issuer",
                    code=Code.ISSUER_UNTRUSTED,
                )
            return self.status(uri, idx)

        return resolve

    def _now(self) -> int:
        now = self._clock()
        if type(now) is not int:
            raise Misuse("the cache's clock returns integer seconds")
        return now

    def _lock(self, uri: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(uri)
            if lock is None:
                lock = self._locks[uri] = threading.Lock()
            return lock

    def _refresh(self, uri: str, now: int, entry: CachedList | None) -> CachedList:
        keys = self._keys_for(uri)
        if not keys:
            raise SignatureRefused(
                f"no trusted party signs the status list at {uri}", code=Code.ISSUER_UNTRUSTED
            )
        body = self._fetch(uri)
        verified = verify_status_list(body, keys=keys, uri=uri, now=now, limits=self._limits)
        newer_than(verified, entry.list if entry is not None else None)
        ttl = min(max(verified.ttl or self.default_ttl, self.min_ttl), self.max_ttl)
        fresh_until = now + ttl
        if verified.exp is not None:
            fresh_until = min(fresh_until, verified.exp)
        fresh = CachedList(list=verified, fetched_at=now, fresh_until=fresh_until)
        with self._guard:
            self._entries[uri] = fresh
            if len(self._entries) > self._max_entries:
                oldest = min(self._entries, key=lambda u: self._entries[u].fetched_at)
                del self._entries[oldest]
                lock = self._locks.get(oldest)
                if lock is not None and not lock.locked():
                    del self._locks[oldest]
        return fresh


__all__ = [
    "DEFAULT_TTL",
    "MAX_ENTRIES",
    "MAX_TTL",
    "MIN_TTL",
    "CachedList",
    "Fetch",
    "KeysFor",
    "StatusListCache",
    "StatusLists",
]
