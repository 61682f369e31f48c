"""A token bucket per client address, in this process, for the host's unauthenticated routes.

Each address has a bucket of ``burst`` tokens refilled at ``per_minute / 60``
tokens a second; a call takes one token, and an empty bucket answers
``429 rate_limited`` with ``Retry-After`` (whole seconds until a token is back).
At most ``max_clients`` addresses are tracked (the least recently seen is
forgotten first), so a flood of addresses costs bounded memory.

Limits of this design, to know before deploying:

* **Several instances need a shared store.** Each process counts on its own, so
  N workers or N hosts allow N times the rate; behind a load balancer use a
  shared limiter (Redis, the proxy's own rate limiting) instead.
* The address is the TCP peer (``request.client.host``). Behind a reverse proxy
  every client is the proxy: limit at the proxy, or run the host with
  uvicorn's ``--proxy-headers`` and ``--forwarded-allow-ips`` set to that proxy only.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from regie_protocol.errors import Misuse
from regie_protocol.http import HttpProblem, ProblemCode

#: a monotonic clock in seconds (``time.monotonic`` unless a test passes another)
Monotonic = Callable[[], float]
DEFAULT_MAX_CLIENTS = 10_000


class RateLimiter:
    """Token buckets keyed by client address. Thread-safe."""

    def __init__(
        self,
        *,
        per_minute: int,
        burst: int | None = None,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Monotonic = time.monotonic,
    ) -> None:
        if per_minute < 1 or max_clients < 1:
            raise Misuse("a rate limit allows at least one call a minute for one client")
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(5, per_minute // 4))
        if self.burst < 1:
            raise Misuse("a burst is at least one call")
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def try_take(self, client: str) -> float:
        """Take one token for ``client``: 0.0 when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, seen = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    def check(self, client: str) -> None:
        """Take one token for ``client`` or raise the ``429`` problem."""
        wait = self.try_take(client)
        if wait > 0:
            raise rate_limited(wait)


def rate_limited(wait: float) -> HttpProblem:
    """The ``429 rate_limited`` problem with ``Retry-After`` in whole seconds (at least 1)."""
    return HttpProblem(
        429,
        ProblemCode.RATE_LIMITED,
        "Too many requests from this address. Wait for the time in Retry-After.",
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


__all__ = ["DEFAULT_MAX_CLIENTS", "Monotonic", "RateLimiter", "rate_limited"]
