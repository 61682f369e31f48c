"""The issuer's HTTP service: ``create_app(settings)`` builds it; nothing is built at import.

Routes (OpenID4VCI 1.0 pre-authorised code flow, Token Status List, SD-JWT VC
issuer metadata):

=====================================================  ======  ===================================
path                                                   who     what
=====================================================  ======  ===================================
``GET /.well-known/jwt-vc-issuer``                     anyone  the issuer's keys (retired too)
``GET /.well-known/openid-credential-issuer``          anyone  credential issuer metadata
``GET /.well-known/oauth-authorization-server``        anyone  token endpoint metadata
``GET /v1/status-lists/1``                             anyone  the signed status list
``POST /v1/credential-offers``                         admin   offer a credential
``POST /v1/token``                                     wallet  pre-authorised code -> token
``POST /v1/nonce``                                     wallet  a fresh c_nonce
``POST /v1/credential``                                wallet  key proof -> SD-JWT VC
``POST /v1/credentials/{index}/revocation`` (and       admin   revoke, suspend, reinstate
``/suspension``, ``/reinstatement``)
``GET /v1/openapi.json``                               anyone  the OpenAPI 3.1 document
=====================================================  ======  ===================================

Admin routes take ``Authorization: Bearer <REGIE_ISSUER_ADMIN_TOKEN>``.
Run it: ``uvicorn --factory issuer.app:create_app_from_env`` with the
``REGIE_ISSUER_*`` environment, or ``regie issuer serve``.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from regie_protocol.http import Contact, ServiceInfo, create_service_app

from . import (
    routes_credential,
    routes_metadata,
    routes_offers,
    routes_oid4vci,
    routes_status,
)
from .oauth_errors import install_oauth_errors
from .schemas import CredentialType
from .service import Clock, IssuerService, system_clock
from .settings import IssuerSettings
from .sources import CREDENTIAL_TYPES

#: the semantic version of this HTTP API (its major is the /v1 in the paths)
API_VERSION = "1.0.0"


def service_info(settings: IssuerSettings) -> ServiceInfo:
    return ServiceInfo(
        title="Regie issuer",
        api_version=API_VERSION,
        description=(
            "An authoritative source issuing SD-JWT VC credentials (OpenID4VCI 1.0, "
            "pre-authorised code flow) and publishing their status (IETF Token Status List)."
        ),
        contact=Contact(
            name=settings.contact_name, url=settings.contact_url, email=settings.contact_email
        ),
        base_url=settings.issuer_id,
        max_body_bytes=settings.max_body_bytes,
    )


def create_app(
    settings: IssuerSettings,
    *,
    clock: Clock | None = None,
    types: Mapping[str, CredentialType] = CREDENTIAL_TYPES,
) -> FastAPI:
    """The issuer service for ``settings``: loads the key and state now, refuses a mismatch.

    ``clock`` (integer seconds) defaults to the system clock; it is kept in
    ``app.state.clock``, where a test may replace it.
    """
    service = IssuerService.start(settings, types)
    app = create_service_app(service_info(settings))
    install_oauth_errors(app)
    app.state.issuer = service
    app.state.clock = clock or system_clock
    for module in (
        routes_metadata,
        routes_status,
        routes_offers,
        routes_oid4vci,
        routes_credential,
    ):
        app.include_router(module.router)
    return app


def create_app_from_env() -> FastAPI:
    """``create_app`` with settings from the ``REGIE_ISSUER_*`` environment (uvicorn --factory)."""
    return create_app(IssuerSettings())


__all__ = ["API_VERSION", "create_app", "create_app_from_env", "service_info"]
