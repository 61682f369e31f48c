"""``POST /v1/credential-offers`` (admin): offer one credential with checked claims.

The claims are checked against the type's schema now, not at issuance: a bad
offer is refused while the admin is still there. The answer holds the
pre-authorised code once (the state keeps its SHA-256 only), inside the
OpenID4VCI credential offer object and its ``openid-credential-offer://`` URI.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from regie_protocol.errors import ClaimRefused, Code
from regie_protocol.http import HttpProblem, ProblemCode, api_router

from .metadata import configuration_id, configurations, credential_offer, credential_offer_uri
from .offers import create_offer
from .schemas import CredentialType, validate_claims
from .service import AdminDep, IssuerService, NowDep, ServiceDep
from .sources import with_derived_claims

router = api_router(tags=["offers"])


class OfferRequest(BaseModel):
    """The credential to offer: its configuration id or its ``vct`` (one of them), and claims."""

    model_config = ConfigDict(extra="forbid")

    credentialConfigurationId: str | None = Field(default=None, max_length=200)
    vct: str | None = Field(default=None, max_length=500)
    claims: dict[str, Any]


class OfferCreated(BaseModel):
    """The offer to hand to the citizen's wallet (e.g. as a QR code of the URI)."""

    credentialOffer: dict[str, Any]
    credentialOfferUri: str
    expiresIn: int


def _credential_type(service: IssuerService, request: OfferRequest) -> CredentialType:
    if (request.credentialConfigurationId is None) == (request.vct is None):
        raise HttpProblem(
            400,
            ProblemCode.INVALID_PARAMS,
            "Name the credential by credentialConfigurationId or by vct, not both.",
            extensions={
                "invalidParams": [
                    {
                        "name": "credentialConfigurationId",
                        "code": "one_of",
                        "reason": "give exactly one of credentialConfigurationId and vct",
                    }
                ]
            },
        )
    if request.vct is not None:
        ctype = service.types.get(request.vct)
    else:
        ctype = configurations(service.types).get(request.credentialConfigurationId or "")
    if ctype is None:
        raise ClaimRefused("this issuer does not offer that credential", code=Code.CLAIM_INVALID)
    return ctype


@router.post(
    "/v1/credential-offers",
    status_code=201,
    summary="Offer a credential (pre-authorised code flow)",
    operation_id="createCredentialOffer",
    dependencies=[AdminDep],
)
def create_credential_offer(body: OfferRequest, service: ServiceDep, now: NowDep) -> OfferCreated:
    ctype = _credential_type(service, body)
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    try:
        claims = with_derived_claims(ctype.vct, body.claims, today)
    except ValueError:  # a source derives from a value that is not what the schema says
        raise ClaimRefused("a claim a derived claim is computed from is invalid") from None
    validate_claims(ctype, claims)
    code = secrets.token_urlsafe(32)
    lifetime = service.settings.offer_lifetime
    with service.transaction() as issuer:
        create_offer(
            issuer.state, vct=ctype.vct, claims=claims, code=code, now=now, lifetime=lifetime
        )
    offer = credential_offer(service.issuer_id, configuration_id(ctype), code)
    return OfferCreated(
        credentialOffer=offer, credentialOfferUri=credential_offer_uri(offer), expiresIn=lifetime
    )


__all__ = ["OfferCreated", "OfferRequest", "router"]
