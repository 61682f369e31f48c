"""What the host's routes share: settings, database, host key, caches, limiters and the clock.

One :class:`HostService` lives in ``app.state.host``; the clock (a
zero-argument callable returning integer seconds) in ``app.state.clock``, so a
test sets the time by assigning it: no patching. Routes take them through the
``Annotated`` dependencies below (STYLE habit 14), or, on the read path that
FastAPI does not resolve (:mod:`wallet.host.routes_data`), through
:func:`service_of`, :func:`now_of` and :func:`client_of`. The dependencies are
``async def``: they only look things up, and FastAPI would run a plain ``def``
dependency in its thread pool, a thread hop per dependency per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from regie_protocol.dpop import VerifiedProof
from regie_protocol.keys import SigningKey
from regie_protocol.tlog.event import TraceParent

from ..storage import Database
from ..storage.group_commit import GroupCommitter
from .caches import CheckCaches
from .log_service import STATE_FILE_NAME, HostLog
from .rate_limit import RateLimiter
from .read_batches import ReadBatches
from .reads import LEEWAY
from .refusals import purge_expired, record_refusal
from .settings import HostSettings
from .status_tokens import StatusTokens

Clock = Callable[[], int]
#: seconds between purges of closed DPoP windows and old idempotency answers
PURGE_EVERY = 60


def system_clock() -> int:
    return int(time.time())


@dataclass
class HostService:
    settings: HostSettings
    db: Database
    key: SigningKey
    caches: CheckCaches
    status_tokens: StatusTokens
    #: unauthenticated writes and failed authentications, per client address
    write_limiter: RateLimiter
    #: public reads (status lists, keys), per client address
    public_limiter: RateLimiter
    #: reads share transactions and commits (see :mod:`wallet.storage.group_commit`)
    committer: GroupCommitter
    #: reads started in one turn of the event loop, handed to the committer together
    reads: ReadBatches
    #: the consent log: checkpoints, receipts, witnesses
    log: HostLog
    _next_purge: int = 0
    _purge_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(
        cls, settings: HostSettings, db: Database, key: SigningKey, *, now: int
    ) -> HostService:
        caches = CheckCaches(leeway=LEEWAY)
        committer = GroupCommitter(db)
        log = HostLog.open(
            db,
            key_file=settings.log_key_path,
            state_file=settings.log_key_path.with_name(STATE_FILE_NAME),
            now=now,
            witnesses=settings.witness_list,
        )
        return cls(
            settings=settings,
            db=db,
            key=key,
            caches=caches,
            status_tokens=StatusTokens(
                db, key, host_url=settings.host_url, ttl=settings.status_ttl
            ),
            write_limiter=RateLimiter(per_minute=settings.rate_limit),
            public_limiter=RateLimiter(per_minute=settings.public_rate_limit),
            committer=committer,
            reads=ReadBatches(committer, caches, receipts=log.receipts),
            log=log,
        )

    def close(self) -> None:
        """Finish the reads in flight, then close the database."""
        self.committer.close()
        self.db.dispose()

    @property
    def host_url(self) -> str:
        return self.settings.host_url

    def record_refusal(
        self,
        *,
        route: str,
        now: int,
        code: str,
        detail: str,
        consent_id: str | None = None,
        proof: VerifiedProof | None = None,
        trace: TraceParent | None = None,
    ) -> None:
        """Keep a refusal's detail in ``read_refusal`` (see :mod:`wallet.host.refusals`)."""
        record_refusal(
            self.db,
            route=route,
            now=now,
            code=code,
            detail=detail,
            consent_id=consent_id,
            proof=proof,
            trace=trace,
        )

    def purge_due(self, now: int) -> bool:
        """Whether :meth:`purge_if_due` would purge now (a cheap check without the lock)."""
        return now >= self._next_purge

    def purge_if_due(self, now: int) -> None:
        """Purge closed replay windows and old answers, at most once per :data:`PURGE_EVERY`."""
        with self._purge_lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY
        purge_expired(self.db, now=now)


def service_of(request: Request) -> HostService:
    """The app's :class:`HostService` (``app.state.host``)."""
    service: HostService = request.app.state.host
    return service


def now_of(request: Request) -> int:
    """The app's clock, now (``app.state.clock``: a test may replace it)."""
    clock: Clock = request.app.state.clock
    return int(clock())


def client_of(request: Request) -> str:
    """The TCP peer's address (see :mod:`wallet.host.rate_limit` about proxies)."""
    return request.client.host if request.client is not None else "unknown"


async def get_service(request: Request) -> HostService:
    return service_of(request)


async def get_now(request: Request) -> int:
    return now_of(request)


async def client_address(request: Request) -> str:
    """The TCP peer's address (see :mod:`wallet.host.rate_limit` about proxies)."""
    return client_of(request)


ServiceDep = Annotated[HostService, Depends(get_service)]
NowDep = Annotated[int, Depends(get_now)]
ClientDep = Annotated[str, Depends(client_address)]

__all__ = [
    "PURGE_EVERY",
    "ClientDep",
    "Clock",
    "HostService",
    "NowDep",
    "ServiceDep",
    "client_address",
    "client_of",
    "get_now",
    "get_service",
    "now_of",
    "service_of",
    "system_clock",
]
