"""OpenID4VCI 1.0 credential endpoint: a key proof in, one SD-JWT VC bound to that key out.

``POST /v1/credential`` (Bearer access token from ``/v1/token``) with
``credential_configuration_id`` and exactly one ``jwt`` key proof
(:mod:`issuer.proofs`) whose ``nonce`` came from ``/v1/nonce``. The credential
is issued inside ``StateFile.transaction()``; the access token works once (one
offer, one credential).

Errors use the formats OpenID4VCI mandates (:mod:`issuer.oauth_errors`):
``invalid_token`` (401, RFC 6750) for a missing, unknown, used or expired
access token; ``invalid_credential_request``, ``unknown_credential_configuration``,
``invalid_proof`` (with the proof's refusal code as ``type``) and
``invalid_nonce`` (400).
"""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, Refused, StatusRefused
from regie_protocol.http import HttpProblem, ProblemCode, api_router
from regie_protocol.limits import DEFAULT_LIMITS

from .metadata import CREDENTIAL_PATH, configuration_id
from .oauth_errors import OAuthError, oauth_error_content, request_media_type
from .offers import consume_token, offer_for_token
from .proofs import verify_key_proof
from .service import AccessTokenDep, IssuerService, NowDep, ServiceDep

router = api_router(tags=["openid4vci"])


class IssuedCredentialOut(BaseModel):
    credential: str


class CredentialResponse(BaseModel):
    credentials: list[IssuedCredentialOut]


class _CredentialRequest(BaseModel):
    # OpenID4VCI: the issuer MUST ignore unrecognised parameters
    model_config = ConfigDict(extra="ignore")

    credential_configuration_id: str
    proofs: dict[str, list[str]] | None = None
    credential_identifier: str | None = None


def _refused_token(log: str) -> OAuthError:
    return OAuthError(
        "invalid_token",
        "The access token is missing, unknown, used or expired.",
        code=ProblemCode.UNAUTHENTICATED,
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        log=log,
    )


def _bad_request(description: str, log: str = "") -> OAuthError:
    return OAuthError(
        "invalid_credential_request", description, code=Code.MALFORMED, log=log or description
    )


def _parse_request(request: Request, body: bytes) -> _CredentialRequest:
    if request_media_type(request) != "application/json":
        raise _bad_request("The body is not application/json.")
    try:
        value = loads_strict(body, max_depth=DEFAULT_LIMITS.max_json_depth, what="request body")
        parsed = _CredentialRequest.model_validate(value)
    except MalformedInput as exc:
        raise _bad_request("The body is not well-formed JSON.", exc.message) from None
    except ValidationError as exc:
        raise _bad_request(
            "A parameter is missing or has the wrong type.", str(exc.errors(include_input=False))
        ) from None
    if parsed.credential_identifier is not None:
        raise _bad_request("credential_identifier is not used by this issuer.")
    return parsed


def _proof(parsed: _CredentialRequest) -> str:
    proofs = parsed.proofs or {}
    if len(proofs) > 1:
        raise _bad_request("proofs names more than one proof type.")
    jwts = proofs.get("jwt")
    if not jwts:
        raise OAuthError("invalid_proof", "A jwt key proof is required.", code=Code.CLAIM_MISSING)
    if len(jwts) != 1:
        raise _bad_request("This issuer issues one credential per request.")
    return jwts[0]


def _credential(
    service: IssuerService, access_token: str, request: Request, body: bytes, now: int
) -> CredentialResponse:
    try:
        offer = offer_for_token(service.store.load(), access_token, now=now)
    except ClaimRefused as exc:
        raise _refused_token(exc.message) from None
    parsed = _parse_request(request, body)
    ctype = service.types.get(offer.vct)
    if ctype is None or parsed.credential_configuration_id != configuration_id(ctype):
        raise OAuthError(
            "unknown_credential_configuration",
            "This access token grants no such credential configuration.",
            code=Code.CLAIM_INVALID,
        )
    try:
        proof = verify_key_proof(
            _proof(parsed),
            audience=service.issuer_id,
            now=now,
            max_age=service.settings.nonce_lifetime,
        )
    except Refused as exc:
        raise OAuthError(
            "invalid_proof", "The key proof was not accepted.", code=exc.code, log=exc.message
        ) from None
    try:
        service.nonces.consume(proof.nonce, now=now)
    except ClaimRefused as exc:
        raise OAuthError(
            "invalid_nonce", "The c_nonce is unknown, used or expired.", code=exc.code
        ) from None
    with service.transaction() as issuer:
        try:
            granted = offer_for_token(issuer.state, access_token, now=now)
        except ClaimRefused as exc:
            raise _refused_token(exc.message) from None
        try:
            issued = issuer.issue(
                vct=granted.vct, claims=granted.claims, holder=proof.holder_key, now=now
            )
        except StatusRefused as exc:
            raise HttpProblem(503, exc.code, "The issuer cannot issue credentials now.") from None
        consume_token(issuer.state, access_token)
    return CredentialResponse(credentials=[IssuedCredentialOut(credential=issued.token)])


@router.post(
    CREDENTIAL_PATH,
    summary="Credential endpoint: one SD-JWT VC bound to the proven key",
    operation_id="createCredential",
    responses={
        400: oauth_error_content("The credential request, its key proof or its nonce was refused."),
        401: oauth_error_content("invalid_token: the access token is missing or refused."),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["credential_configuration_id", "proofs"],
                        "properties": {
                            "credential_configuration_id": {"type": "string"},
                            "proofs": {
                                "type": "object",
                                "required": ["jwt"],
                                "properties": {
                                    "jwt": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "minItems": 1,
                                        "maxItems": 1,
                                    }
                                },
                            },
                        },
                    }
                }
            },
        },
    },
)
async def credential(
    request: Request, service: ServiceDep, now: NowDep, access_token: AccessTokenDep
) -> CredentialResponse:
    if access_token is None:
        raise _refused_token("no bearer access token")
    body = await request.body()
    return await run_in_threadpool(_credential, service, access_token, request, body, now)


__all__ = ["CredentialResponse", "IssuedCredentialOut", "router"]
