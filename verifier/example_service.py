"""An example verifier service: a municipality's parking-permit desk.

It needs the citizen's address and nothing else. ``POST /v1/parking-permits``
is guarded by :func:`~verifier.dependency.require_consent` (attribute
``address``, purpose DPV ``ServiceProvision``); once the consent passes, the
desk reads the address from the citizen's wallet host
(:meth:`~verifier.client.WalletHostClient.read`: DPoP, the release decrypted,
the presentation verified) and answers with the permit. It keeps the address
only when the consent allows ``store`` (until its retention ends; ``regie
verifier purge`` deletes it after that).

Run it: ``regie verifier serve`` (uvicorn on 127.0.0.1:8003), or
``uvicorn --factory verifier.example_service:create_app_from_env``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from regie_protocol import vocab
from regie_protocol.errors import Code, Refused, Unavailable
from regie_protocol.http import Contact, HttpProblem, ServiceInfo, api_router, create_service_app

from .context import VerifierContext
from .dependency import REFUSED_DETAIL, UNAVAILABLE_DETAIL, require_consent
from .policy import ConsentPolicy
from .settings import VerifierSettings
from .status_cache import StatusLists
from .verify import VerifiedConsentToken, details_for

API_VERSION = "1.0.0"
PURPOSE = vocab.DPV + "ServiceProvision"
ATTRIBUTES = frozenset({"address"})
#: a parking permit runs a year
PERMIT_DAYS = 365


def _context(request: Request) -> VerifierContext:
    context: VerifierContext = request.app.state.verifier
    return context


def _policy(request: Request) -> ConsentPolicy:
    return _context(request).policy()


def _status(request: Request) -> StatusLists:
    return _context(request).status


AddressConsent = Annotated[
    VerifiedConsentToken,
    Depends(
        require_consent(
            attributes=ATTRIBUTES,
            purpose=PURPOSE,
            policy_provider=_policy,
            status_provider=_status,
        )
    ),
]
ContextDep = Annotated[VerifierContext, Depends(_context)]


class PermitRequest(BaseModel):
    """The car the permit is for."""

    model_config = ConfigDict(extra="forbid")

    licensePlate: str = Field(
        min_length=1, max_length=12, pattern=r"^[A-Z0-9]{1,3}(-[A-Z0-9]{1,3}){1,3}$"
    )


class Permit(BaseModel):
    """A parking permit for the address the citizen's wallet released."""

    permitId: str
    licensePlate: str
    address: dict[str, Any]
    consent: str
    validUntil: int
    addressKept: bool


router = api_router(tags=["parking permits"])


@router.post(
    "/v1/parking-permits",
    status_code=201,
    summary="Apply for a parking permit with a consent to read your address",
    operation_id="createParkingPermit",
    responses={
        403: {"description": "The consent is missing something, has ended, or was refused."},
        503: {"description": "The consent's status or the wallet host cannot be reached."},
    },
)
def create_parking_permit(
    body: PermitRequest, consent: AddressConsent, context: ContextDep
) -> Permit:
    policy = context.policy(ATTRIBUTES, PURPOSE)
    try:
        result = context.client(consent.host).read(consent.token, sorted(ATTRIBUTES), policy=policy)
    except Refused as exc:
        raise HttpProblem(403, exc.code, REFUSED_DETAIL, log=exc.message) from None
    except Unavailable as exc:
        raise HttpProblem(503, exc.code, UNAVAILABLE_DETAIL, log=exc.message) from None
    address = result.attributes.get("address")
    if not isinstance(address, dict):
        raise HttpProblem(403, Code.RELEASE_INVALID, REFUSED_DETAIL, log="no address released")
    now = context.now()
    kept = bool(details_for(consent.claims.authorization_details, "address", action="store"))
    if kept:
        context.store.keep(consent.jti, {"address": address}, now=now)
    return Permit(
        permitId=secrets.token_urlsafe(12),
        licensePlate=body.licensePlate,
        address=address,
        consent=consent.jti,
        validUntil=now + PERMIT_DAYS * 86400,
        addressKept=kept,
    )


def service_info(settings: VerifierSettings) -> ServiceInfo:
    return ServiceInfo(
        title="Regie parking-permit desk (example verifier)",
        api_version=API_VERSION,
        description=(
            "A municipality's parking-permit desk: it reads your address from your wallet "
            "host under the consent you give it, and nothing else."
        ),
        contact=Contact(
            name=settings.contact_name, url=settings.contact_url, email=settings.contact_email
        ),
        base_url=settings.base_url,
        max_body_bytes=settings.max_body_bytes,
    )


def create_app(
    settings: VerifierSettings,
    *,
    clock: Callable[[], int] | None = None,
    http: httpx.Client | None = None,
    context: VerifierContext | None = None,
) -> FastAPI:
    """The parking desk for ``settings`` (identity, trust and store loaded now)."""
    app = create_service_app(service_info(settings))
    app.state.verifier = context or VerifierContext.open(settings, clock=clock, http=http)
    app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """``create_app`` with settings from the ``REGIE_VERIFIER_*`` environment (uvicorn)."""
    return create_app(VerifierSettings.from_env())


__all__ = ["API_VERSION", "ATTRIBUTES", "PURPOSE", "create_app", "create_app_from_env"]
