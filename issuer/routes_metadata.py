"""Well-known metadata: JWT VC issuer keys, OpenID4VCI issuer and OAuth server metadata.

Their paths are fixed by their specifications (RFC 8615 well-known URIs), so
they sit outside the versioned ``/v1`` API. They change only when a key is
rotated or a credential type is added: caches may keep them five minutes.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response

from regie_protocol.http import api_router

from .metadata import authorization_server_metadata, credential_issuer_metadata
from .service import ServiceDep

METADATA_MAX_AGE = 300

router = api_router(tags=["metadata"])


def _cacheable(response: Response) -> None:
    response.headers["Cache-Control"] = f"public, max-age={METADATA_MAX_AGE}"


@router.get(
    "/.well-known/jwt-vc-issuer",
    summary="JWT VC issuer metadata: the issuer's keys",
    operation_id="getJwtVcIssuerMetadata",
)
def jwt_vc_issuer(service: ServiceDep, response: Response) -> dict[str, Any]:
    """Every key that may have signed a live credential, retired keys included."""
    _cacheable(response)
    return service.read().metadata()


@router.get(
    "/.well-known/openid-credential-issuer",
    summary="OpenID4VCI credential issuer metadata",
    operation_id="getCredentialIssuerMetadata",
)
def openid_credential_issuer(service: ServiceDep, response: Response) -> dict[str, Any]:
    _cacheable(response)
    return credential_issuer_metadata(
        service.issuer_id,
        service.types,
        signing_alg=service.key.alg.value,
        display_name=service.settings.display_name,
    )


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="OAuth 2.0 authorization server metadata (RFC 8414)",
    operation_id="getAuthorizationServerMetadata",
)
def oauth_authorization_server(service: ServiceDep, response: Response) -> dict[str, Any]:
    _cacheable(response)
    return authorization_server_metadata(service.issuer_id)


__all__ = ["router"]
