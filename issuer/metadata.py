"""The issuer's published metadata documents (pure builders, no I/O).

* OpenID4VCI 1.0 credential issuer metadata (``/.well-known/openid-credential-issuer``);
* OAuth 2.0 authorization server metadata, RFC 8414 (``/.well-known/oauth-authorization-server``):
  the issuer is its own authorization server and takes the pre-authorised code
  grant without client authentication;
* the credential offer object and its ``openid-credential-offer://`` URI.

JWT VC issuer metadata (``/.well-known/jwt-vc-issuer``) is :meth:`issuer.issuer.Issuer.metadata`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from regie_protocol.errors import Misuse

from .proofs import PROOF_ALGS
from .schemas import CredentialType

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CREDENTIAL_FORMAT = "dc+sd-jwt"
OFFER_URI_SCHEME = "openid-credential-offer://"

TOKEN_PATH = "/v1/token"  # noqa: S105 - a path, not a secret
NONCE_PATH = "/v1/nonce"
CREDENTIAL_PATH = "/v1/credential"


def configuration_id(ctype: CredentialType) -> str:
    """The credential configuration id of a type: the last segment of its ``vct``."""
    return ctype.vct.rstrip("/").rsplit("/", 1)[-1]


def configurations(types: Mapping[str, CredentialType]) -> dict[str, CredentialType]:
    """Configuration id -> type; two types with one id are a set-up error."""
    result: dict[str, CredentialType] = {}
    for ctype in types.values():
        cid = configuration_id(ctype)
        if cid in result:
            raise Misuse(f"two credential types share the configuration id {cid!r}")
        result[cid] = ctype
    return result


def _configuration(ctype: CredentialType, signing_alg: str) -> dict[str, Any]:
    return {
        "format": CREDENTIAL_FORMAT,
        "vct": ctype.vct,
        "scope": configuration_id(ctype),
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [signing_alg],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGS)}},
        "credential_metadata": {
            "display": [
                {"name": ctype.name_nl, "locale": "nl-NL"},
                {"name": ctype.name_en, "locale": "en-US"},
            ],
            "claims": [
                {
                    "path": [spec.name],
                    "mandatory": spec.required,
                    "display": [
                        {"name": spec.label_nl or spec.name, "locale": "nl-NL"},
                        {"name": spec.label_en or spec.name, "locale": "en-US"},
                    ],
                }
                for spec in ctype.claims
            ],
        },
    }


def credential_issuer_metadata(
    issuer_id: str,
    types: Mapping[str, CredentialType],
    *,
    signing_alg: str,
    display_name: str | None = None,
) -> dict[str, Any]:
    """OpenID4VCI 1.0 credential issuer metadata (``token_endpoint`` too, for older wallets)."""
    metadata: dict[str, Any] = {
        "credential_issuer": issuer_id,
        "credential_endpoint": issuer_id + CREDENTIAL_PATH,
        "nonce_endpoint": issuer_id + NONCE_PATH,
        "token_endpoint": issuer_id + TOKEN_PATH,
        "credential_configurations_supported": {
            cid: _configuration(ctype, signing_alg)
            for cid, ctype in sorted(configurations(types).items())
        },
    }
    if display_name:
        metadata["display"] = [
            {"name": display_name, "locale": "nl-NL"},
            {"name": display_name, "locale": "en-US"},
        ]
    return metadata


def authorization_server_metadata(issuer_id: str) -> dict[str, Any]:
    """RFC 8414 metadata of the issuer acting as its own authorization server."""
    return {
        "issuer": issuer_id,
        "token_endpoint": issuer_id + TOKEN_PATH,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def credential_offer(issuer_id: str, config_id: str, code: str) -> dict[str, Any]:
    """The OpenID4VCI credential offer object (pre-authorised code grant, no tx_code)."""
    return {
        "credential_issuer": issuer_id,
        "credential_configuration_ids": [config_id],
        "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": code}},
    }


def credential_offer_uri(offer: Mapping[str, Any]) -> str:
    """``openid-credential-offer://?credential_offer=<the offer, URL-encoded JSON>``."""
    text = json.dumps(offer, separators=(",", ":"), ensure_ascii=False)
    return OFFER_URI_SCHEME + "?credential_offer=" + quote(text, safe="")


__all__ = [
    "CREDENTIAL_FORMAT",
    "CREDENTIAL_PATH",
    "NONCE_PATH",
    "PRE_AUTHORIZED_GRANT",
    "TOKEN_PATH",
    "authorization_server_metadata",
    "configuration_id",
    "configurations",
    "credential_issuer_metadata",
    "credential_offer",
    "credential_offer_uri",
]
