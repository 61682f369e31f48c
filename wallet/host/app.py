"""The wallet host's HTTP service: ``create_app(settings)`` builds it; nothing is built at import.

=====================================  ========  =========================================
path                                   who       what
=====================================  ========  =========================================
``POST /v1/requests``                  anyone    a verifier's signed consent request
``GET /v1/requests/{id}``              verifier  its answer (DPoP by the request's key)
``POST /v1/data``                      verifier  read under a consent (token + DPoP)
``POST /v1/purge-reports``             verifier  it deleted what it read (token + DPoP)
``GET /v1/status-lists/{id}``          anyone    a signed Token Status List of consents
``GET /v1/keys``                       anyone    the host's public keys
``GET /v1/log/...``                    see       the consent log: checkpoints, proofs (anyone);
                                       below     events, receipts (auditors, the citizen, the
                                                 verifier of a read); :mod:`.routes_log`
``GET /v1/openapi.json``               anyone    the OpenAPI 3.1 document
=====================================  ========  =========================================

The host shares the wallet database with the citizen's CLI (requests in,
approvals and revocations out) and never needs a passphrase: it serves what
the citizen prepared (signed consents, sealed releases). Run it with
``regie wallet serve`` or ``uvicorn --factory wallet.host.app:create_app_from_env``
(environment: :mod:`wallet.host.settings`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from regie_protocol.http import Contact, ServiceInfo, create_service_app

from ..storage import open_database
from . import routes_data, routes_log, routes_purge, routes_requests, routes_status
from .host_key import load_or_create_host_key
from .service import Clock, HostService, system_clock
from .settings import HostSettings

#: the semantic version of this HTTP API (its major is the /v1 in the paths)
API_VERSION = "1.0.0"


def service_info(settings: HostSettings) -> ServiceInfo:
    return ServiceInfo(
        title="Regie wallet host",
        api_version=API_VERSION,
        description=(
            "The citizen's wallet host: takes verifiers' signed consent requests, and "
            "releases sealed data under a valid consent with a DPoP proof, checking and "
            "recording every read in one transaction. Publishes the consents' status lists."
        ),
        contact=Contact(
            name=settings.contact_name, url=settings.contact_url, email=settings.contact_email
        ),
        base_url=settings.host_url,
        max_body_bytes=settings.max_body_bytes,
    )


async def _checkpoints(service: HostService, interval: int, clock: Clock) -> None:
    """Every ``interval`` seconds: a checkpoint (and its cosignatures) if the log grew."""
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(service.log.tick, now=clock())


def create_app(settings: HostSettings, *, clock: Clock | None = None) -> FastAPI:
    """The wallet host for ``settings``: opens (and migrates) the database, loads the key.

    The host key is created (0600) when its file does not exist yet. ``clock``
    (integer seconds) defaults to the system clock; it is kept in
    ``app.state.clock``, where a test may replace it. The database is closed
    when the app shuts down.
    """
    key, _ = load_or_create_host_key(settings.host_key_file)
    db = open_database(settings.database_url, home=settings.home)
    clock = clock or system_clock
    service = HostService.start(settings, db, key, now=clock())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ticker = None
        if settings.checkpoint_interval:
            ticker = asyncio.create_task(
                _checkpoints(service, settings.checkpoint_interval, lambda: app.state.clock())
            )
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with suppress(asyncio.CancelledError):
                    await ticker
            service.close()

    app = create_service_app(service_info(settings), lifespan=lifespan)
    app.state.host = service
    app.state.clock = clock
    for module in (routes_requests, routes_data, routes_purge, routes_status, routes_log):
        app.include_router(module.router)
    return app


def create_app_from_env() -> FastAPI:
    """``create_app`` with settings from the environment (``uvicorn --factory``)."""
    return create_app(HostSettings.from_env())


__all__ = ["API_VERSION", "create_app", "create_app_from_env", "service_info"]
