"""The c_nonce store of the OpenID4VCI nonce endpoint: short-lived, single use, hashed.

Nonces live in the memory of the service process, by SHA-256, with their
expiry: the nonce endpoint is open to anyone, so it must not write to disk.
At most ``capacity`` nonces are outstanding; past that the oldest is dropped
(a flood can only make wallets fetch a new nonce, which they do on
``invalid_nonce``). A restart forgets every outstanding nonce, for the same
harmless reason. Run one service process per state file.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict

from regie_protocol.errors import ClaimRefused, Code, Misuse


def _digest(nonce: str) -> bytes:
    return hashlib.sha256(nonce.encode("utf-8")).digest()


class NonceStore:
    """Issues nonces and consumes each at most once, before it expires."""

    def __init__(self, *, lifetime: int, capacity: int = 10_000) -> None:
        if lifetime <= 0 or capacity <= 0:
            raise Misuse("a nonce store needs a positive lifetime and capacity")
        self.lifetime = lifetime
        self.capacity = capacity
        self._expiry: OrderedDict[bytes, int] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, *, now: int) -> str:
        nonce = secrets.token_urlsafe(32)
        with self._lock:
            self._prune(now)
            while len(self._expiry) >= self.capacity:
                self._expiry.popitem(last=False)
            self._expiry[_digest(nonce)] = now + self.lifetime
        return nonce

    def consume(self, nonce: str, *, now: int) -> None:
        """Accept ``nonce`` once; unknown, used or expired nonces are refused."""
        with self._lock:
            expires_at = self._expiry.pop(_digest(nonce), None)
        if expires_at is None:
            raise ClaimRefused(
                "the nonce was not issued here, was used, or was dropped",
                code=Code.NONCE_MISMATCH,
            )
        if now >= expires_at:
            raise ClaimRefused(f"the nonce expired at {expires_at}", code=Code.NONCE_MISMATCH)

    def __len__(self) -> int:
        return len(self._expiry)

    def _prune(self, now: int) -> None:
        # entries are in issue order and share one lifetime: expired ones are at the front
        while self._expiry:
            digest, expires_at = next(iter(self._expiry.items()))
            if expires_at > now:
                break
            del self._expiry[digest]


__all__ = ["NonceStore"]
