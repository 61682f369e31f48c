"""OpenID4VCI 1.0, pre-authorised code flow: the token and nonce endpoints.

* ``POST /v1/token`` (form): ``grant_type=urn:ietf:params:oauth:grant-type:pre-authorized_code``
  and ``pre-authorized_code`` -> a Bearer access token. A code works once; the
  state keeps the hashes of codes and tokens only (:mod:`issuer.offers`).
* ``POST /v1/nonce`` -> a fresh ``c_nonce`` (single use, see :mod:`issuer.nonces`).

Errors follow RFC 6749 §5.2 (:mod:`issuer.oauth_errors`): ``invalid_request``,
``unsupported_grant_type``, ``invalid_grant`` (400), each with our stable
problem ``type`` as well. Unknown, used and expired codes get the same answer.
"""

from __future__ import annotations

import secrets
from typing import Literal
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from regie_protocol.errors import ClaimRefused, Code
from regie_protocol.http import ProblemCode, api_router

from .metadata import NONCE_PATH, PRE_AUTHORIZED_GRANT, TOKEN_PATH
from .oauth_errors import OAuthError, oauth_error_content, request_media_type
from .offers import redeem_code
from .service import IssuerService, NowDep, ServiceDep

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

router = api_router(tags=["openid4vci"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class NonceResponse(BaseModel):
    c_nonce: str


# -- token ------------------------------------------------------------------


def _form(request: Request, body: bytes) -> dict[str, str]:
    if request_media_type(request) != FORM_MEDIA_TYPE:
        raise OAuthError("invalid_request", "The body is not form-encoded.", code=Code.MALFORMED)
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=32,
        )
    except ValueError:
        raise OAuthError(
            "invalid_request", "The form is not well-formed.", code=Code.MALFORMED
        ) from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise OAuthError("invalid_request", "A parameter is repeated.", code=Code.DUPLICATE_MEMBER)
    return form


def _token(service: IssuerService, form: dict[str, str], now: int) -> TokenResponse:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is missing.", code=Code.CLAIM_MISSING)
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise OAuthError(
            "unsupported_grant_type", "Only the pre-authorized code grant.", code=Code.CLAIM_INVALID
        )
    code = form.get("pre-authorized_code")
    if not code:
        raise OAuthError(
            "invalid_request", "pre-authorized_code is missing.", code=Code.CLAIM_MISSING
        )
    if "tx_code" in form:
        raise OAuthError(
            "invalid_request", "This offer has no transaction code.", code=Code.CLAIM_INVALID
        )
    access_token = secrets.token_urlsafe(32)
    lifetime = service.settings.access_token_lifetime
    try:
        with service.transaction() as issuer:
            redeem_code(issuer.state, code, access_token=access_token, now=now, lifetime=lifetime)
    except ClaimRefused as exc:
        raise OAuthError(
            "invalid_grant",
            "The pre-authorized code is unknown, used or expired.",
            code=ProblemCode.GRANT_REFUSED,
            log=exc.message,
        ) from None
    return TokenResponse(access_token=access_token, token_type="Bearer", expires_in=lifetime)  # noqa: S106


@router.post(
    TOKEN_PATH,
    summary="Token endpoint: exchange a pre-authorised code for an access token",
    operation_id="createToken",
    responses={
        400: oauth_error_content("invalid_request, unsupported_grant_type or invalid_grant.")
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                FORM_MEDIA_TYPE: {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type", "pre-authorized_code"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": [PRE_AUTHORIZED_GRANT]},
                            "pre-authorized_code": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def token(request: Request, service: ServiceDep, now: NowDep) -> TokenResponse:
    form = _form(request, await request.body())
    return await run_in_threadpool(_token, service, form, now)


# -- nonce ------------------------------------------------------------------


@router.post(
    NONCE_PATH,
    summary="Nonce endpoint: a fresh c_nonce for a key proof",
    operation_id="createNonce",
)
def nonce(service: ServiceDep, now: NowDep) -> NonceResponse:
    return NonceResponse(c_nonce=service.nonces.issue(now=now))


__all__ = ["NonceResponse", "TokenResponse", "router"]
