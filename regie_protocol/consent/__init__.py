"""Consent tokens: what a citizen agreed to share with one verifier, signed by the holder.

::

    claims = ConsentClaims(jti=new_consent_id(), iss=pairwise.public_key.thumbprint_uri(),
                           aud=VERIFIER, iat=now, nbf=now, exp=now + 90 * 86400, ...)
    token = sign_consent(claims, holder_key=pairwise)
    consent = verify_consent(token, holder_keys=registered, audience=VERIFIER, now=now)
    consent.claims.authorization_details[0].claims   # ("age_over_18",)

The token is a JWT with ``typ: regie-consent+jwt`` (see :mod:`._token` for why
and for the order of checks); its claims follow DESIGN "Consent token fields"
and are read into frozen dataclasses that refuse unknown members at every
level (see :mod:`._model`). Purposes and legal bases are W3C DPV IRIs
(:mod:`regie_protocol.vocab`).
"""

from ._fields import Duration
from ._model import (
    ACTIONS,
    AUTHORIZATION_DETAILS_TYPE,
    CONSENT_VERSION,
    Actor,
    AuthorizationDetail,
    ConsentClaims,
    DataRange,
    LocalizedText,
    NoticeRef,
    RequestRef,
    StatusRef,
    claims_from_json,
)
from ._token import (
    CONSENT_PROFILE,
    CONSENT_TYP,
    MAX_LIFETIME,
    HolderKeys,
    UnverifiedConsent,
    VerifiedConsent,
    consent_request_hash,
    new_consent_id,
    notice_hash,
    parse_consent,
    sign_consent,
    verify_consent,
)

__all__ = [
    "ACTIONS",
    "AUTHORIZATION_DETAILS_TYPE",
    "CONSENT_PROFILE",
    "CONSENT_TYP",
    "CONSENT_VERSION",
    "MAX_LIFETIME",
    "Actor",
    "AuthorizationDetail",
    "ConsentClaims",
    "DataRange",
    "Duration",
    "HolderKeys",
    "LocalizedText",
    "NoticeRef",
    "RequestRef",
    "StatusRef",
    "UnverifiedConsent",
    "VerifiedConsent",
    "claims_from_json",
    "consent_request_hash",
    "new_consent_id",
    "notice_hash",
    "parse_consent",
    "sign_consent",
    "verify_consent",
]
