"""The issuer service's settings: environment ``REGIE_ISSUER_*`` or arguments, checked at start.

Every wrong value is named in one line of a :class:`~regie_protocol.errors.Misuse`
(``REGIE_ISSUER_ADMIN_TOKEN: ...``); a secret's value is never repeated.
Outside development (``dev=False``) the issuer is an ``https://`` URL and the
admin token has at least 32 characters; a placeholder token ("changeme",
"secret", ...) is refused always. The key file must be readable by its owner
only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from regie_protocol.errors import Misuse, RegieError
from regie_protocol.settings_env import settings_errors

from .issuer import check_issuer_id
from .state import check_private_file

ENV_PREFIX = "REGIE_ISSUER_"
MIN_ADMIN_TOKEN_CHARS = 32
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "changethis", "secret", "password", "admin")


class IssuerSettings(BaseSettings):
    """Settings of one issuer service. Build with arguments, or from the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    #: development mode: allows http://localhost issuers and short admin tokens
    dev: bool = False
    #: the issuer's identifier: an https:// URL without path, query or trailing slash
    issuer_id: str
    #: the private JWK (mode 0600), optionally encrypted under ``key_passphrase``
    key_file: Path
    key_passphrase: SecretStr | None = None
    #: the issuer's state file (created on first start when missing)
    state_file: Path
    #: the bearer token of the admin routes (offers, revocation)
    admin_token: SecretStr
    #: seconds a credential offer (its pre-authorised code) stays redeemable
    offer_lifetime: int = Field(default=600, ge=60, le=7 * 86400)
    #: seconds an access token from the token endpoint stays valid
    access_token_lifetime: int = Field(default=300, ge=30, le=3600)
    #: seconds a c_nonce stays valid; also the longest age of a key proof's iat
    nonce_lifetime: int = Field(default=300, ge=30, le=3600)
    #: the status list's ``ttl`` and ``Cache-Control: max-age``
    status_ttl: int = Field(default=300, ge=30, le=86400)
    #: the request body cap, bytes
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=1 << 20)
    #: the issuer's display name in its metadata (none: no display object)
    display_name: str | None = Field(default=None, max_length=200)
    #: contact in the OpenAPI document (NL GOV: name, url and email)
    contact_name: str = "Regie"
    contact_url: str = "https://regie.example"
    contact_email: str = "api@regie.example"

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise Misuse(describe_errors(exc)) from None

    @field_validator("issuer_id")
    @classmethod
    def _issuer_id(cls, value: str, info: ValidationInfo) -> str:
        dev = bool(info.data.get("dev", False))
        try:
            check_issuer_id(value, allow_http_localhost=dev)
        except RegieError as exc:
            hint = "" if dev else " (http://127.0.0.1 or localhost only with dev=true)"
            raise ValueError(exc.message + hint) from None
        if urlsplit(value).path:
            raise ValueError("an issuer identifier with a path is not supported by this service")
        return value

    @field_validator("key_file")
    @classmethod
    def _key_file(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"{value} does not exist or is not a file")
        try:
            check_private_file(value)
        except RegieError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("state_file")
    @classmethod
    def _state_file(cls, value: Path) -> Path:
        if value.exists():
            if not value.is_file():
                raise ValueError(f"{value} is not a file")
            try:
                check_private_file(value)
            except RegieError as exc:
                raise ValueError(exc.message) from None
        elif not value.parent.is_dir():
            raise ValueError(f"the directory {value.parent} does not exist")
        return value

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        secret = value.get_secret_value()
        if not secret.strip():
            raise ValueError("the admin token is empty")
        lowered = secret.lower()
        if any(word in lowered for word in _PLACEHOLDERS) and len(set(lowered)) < 20:
            raise ValueError("the admin token is a placeholder; make one with a password tool")
        if not info.data.get("dev", False):
            if len(secret) < MIN_ADMIN_TOKEN_CHARS:
                raise ValueError(
                    f"the admin token has fewer than {MIN_ADMIN_TOKEN_CHARS} characters"
                )
            if len(set(secret)) < 10:
                raise ValueError("the admin token repeats too few characters to be random")
        return value


def describe_errors(exc: ValidationError) -> str:
    """One line per wrong value, naming the environment variable; never the value itself."""
    return settings_errors(
        exc, title="the issuer settings", variable=lambda field: f"{ENV_PREFIX}{field.upper()}"
    )


__all__ = ["ENV_PREFIX", "MIN_ADMIN_TOKEN_CHARS", "IssuerSettings", "describe_errors"]
