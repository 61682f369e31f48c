"""A FastAPI dependency: an endpoint states the attributes and purpose it needs, and gets a
verified consent, or the caller gets a problem.

Adopting it (a complete service; ``policy`` and ``cache`` as in :mod:`verifier.policy`
and :mod:`verifier.status_cache`)::

    from typing import Annotated
    from fastapi import Depends, FastAPI
    from verifier.dependency import require_consent
    from verifier.verify import VerifiedConsentToken

    app = FastAPI()
    AgeConsent = Annotated[
        VerifiedConsentToken,
        Depends(require_consent(
            attributes={"age_over_18"},
            purpose="https://w3id.org/dpv#AgeVerification",
            policy_provider=lambda: policy,
            status_provider=lambda: cache,
        )),
    ]

    @app.post("/v1/orders")
    def order(consent: AgeConsent) -> dict[str, str]:
        return {"consent": consent.jti}

Answers (RFC 9457 ``application/problem+json``):

* no ``Authorization: Bearer <consent token>``: **401**, ``unauthenticated``,
  with ``WWW-Authenticate: Bearer``;
* a token that is refused: **403**, ``type`` naming the reason (``revoked``,
  ``audience_mismatch``, ``not_consented``, ``expired``, ``typ_mismatch`` ...);
  the detail says little, the server log says which check failed;
* the status list cannot be had: **503** ``unavailable`` (fail closed).

The providers are FastAPI dependencies themselves (they may take ``Request``),
so a test swaps them through ``app.dependency_overrides``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from regie_protocol.errors import Code, Refused, Unavailable
from regie_protocol.http import AuthenticationRefused, HttpProblem

from .policy import ConsentPolicy, check_attribute
from .status_cache import StatusLists
from .verify import VerifiedConsentToken, verify_consent_token

logger = logging.getLogger("regie.verifier")

PolicyProvider = Callable[..., ConsentPolicy]
StatusProvider = Callable[..., StatusLists]

REFUSED_DETAIL = "The consent does not allow this request."
UNAVAILABLE_DETAIL = "The consent's status cannot be checked now. Try again later."

consent_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="consentToken",
    description="A consent token (regie-consent+jwt) the citizen gave this service.",
)


def require_consent(
    *,
    attributes: Collection[str],
    purpose: str | None,
    policy_provider: PolicyProvider,
    status_provider: StatusProvider,
) -> Callable[..., VerifiedConsentToken]:
    """A dependency giving the verified consent for ``attributes`` and ``purpose``."""
    if isinstance(attributes, str):
        raise TypeError("attributes is a collection of attribute ids, not one string")
    needed = frozenset(check_attribute(name) for name in attributes)

    # defaults, not Annotated: with postponed annotations a closure's names cannot be resolved
    def consent_dependency(
        policy: ConsentPolicy = Depends(policy_provider),
        status: StatusLists = Depends(status_provider),
        credentials: HTTPAuthorizationCredentials | None = Depends(consent_bearer),
    ) -> VerifiedConsentToken:
        if credentials is None or not credentials.credentials:
            raise AuthenticationRefused(scheme="Bearer", error="invalid_request")
        try:
            return verify_consent_token(
                credentials.credentials, policy.requiring(needed, purpose), status=status
            )
        except Refused as exc:
            raise HttpProblem(403, exc.code, REFUSED_DETAIL, log=exc.message) from None
        except Unavailable as exc:
            raise HttpProblem(503, Code.UNAVAILABLE, UNAVAILABLE_DETAIL, log=exc.message) from None

    return consent_dependency


__all__ = [
    "REFUSED_DETAIL",
    "PolicyProvider",
    "StatusProvider",
    "consent_bearer",
    "require_consent",
]
