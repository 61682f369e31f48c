"""The wallet host's settings: from the environment or arguments, checked at start.

=============================  =====================================================
environment variable           setting
=============================  =====================================================
``REGIE_HOME``                 ``home``: the wallet directory (SQLite file, host key)
``REGIE_DATABASE_URL``         ``database_url``: PostgreSQL (or SQLite) URL; empty =
                               ``<home>/wallet.sqlite3``
``REGIE_WALLET_HOST_URL``      ``host_url``: the public base URL (consents, DPoP ``htu``)
``REGIE_HOST_KEY_FILE``        ``key_file``: the status-list signing key (0600);
                               default ``<home>/host-key.jwk``, created when missing
``REGIE_HOST_STATUS_TTL``      ``status_ttl``: a status list's ``ttl`` and ``max-age``
``REGIE_HOST_RATE_LIMIT``      ``rate_limit``: unauthenticated writes per minute per
                               client address (``POST /v1/requests``, failed logins)
``REGIE_HOST_PUBLIC_RATE_LIMIT``  ``public_rate_limit``: public reads per minute per address
``REGIE_HOST_MAX_BODY_BYTES``  ``max_body_bytes``: the request body cap
``REGIE_HOST_LOG_KEY_FILE``    ``log_key_file``: the consent log's checkpoint key (0600);
                               default ``<home>/log-key.jwk``, created when missing
``REGIE_HOST_CHECKPOINT_INTERVAL``  ``checkpoint_interval``: seconds between signed
                               checkpoints while the log grows (0: on demand only)
``REGIE_HOST_WITNESSES``       ``witnesses``: ``<url> <vkey>`` pairs, comma-separated:
                               the witnesses asked to cosign each interval's checkpoint
=============================  =====================================================

Every wrong value is named in one line of a :class:`~regie_protocol.errors.Misuse`
(``REGIE_HOST_STATUS_TTL (status_ttl): ...``); a value is never repeated. The
host URL is ``https://``, or ``http://`` to this machine only (127.0.0.1,
localhost, ::1), without query, fragment or trailing slash.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from regie_protocol.errors import Misuse
from regie_protocol.settings_env import settings_errors, settings_values

from ..config import DEFAULT_HOST_URL, default_home

#: settings field -> the environment variable it is read from
ENV_VARS: Mapping[str, str] = {
    "home": "REGIE_HOME",
    "database_url": "REGIE_DATABASE_URL",
    "host_url": "REGIE_WALLET_HOST_URL",
    "key_file": "REGIE_HOST_KEY_FILE",
    "status_ttl": "REGIE_HOST_STATUS_TTL",
    "rate_limit": "REGIE_HOST_RATE_LIMIT",
    "public_rate_limit": "REGIE_HOST_PUBLIC_RATE_LIMIT",
    "max_body_bytes": "REGIE_HOST_MAX_BODY_BYTES",
    "log_key_file": "REGIE_HOST_LOG_KEY_FILE",
    "checkpoint_interval": "REGIE_HOST_CHECKPOINT_INTERVAL",
    "witnesses": "REGIE_HOST_WITNESSES",
}
KEY_FILE_NAME = "host-key.jwk"
LOG_KEY_FILE = "log-key.jwk"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class HostSettings(BaseModel):
    """Settings of one wallet host. Build with arguments, or :meth:`from_env`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the wallet directory: the SQLite database (when no URL) and the default key file
    home: Path
    #: a PostgreSQL or SQLite URL; ``None`` for ``<home>/wallet.sqlite3``
    database_url: str | None = None
    #: the host's public base URL, as written into consents (``status.uri``) and DPoP ``htu``
    host_url: str = DEFAULT_HOST_URL
    #: the status-list signing key (private JWK, 0600); ``None`` for ``<home>/host-key.jwk``
    key_file: Path | None = None
    #: seconds a status list may be cached (``ttl`` claim and ``Cache-Control: max-age``)
    status_ttl: int = Field(default=300, ge=10, le=86400)
    #: unauthenticated writes per minute per client address (burst: a quarter of it, >= 5)
    rate_limit: int = Field(default=60, ge=1, le=100_000)
    #: public reads (status lists, keys) per minute per client address
    public_rate_limit: int = Field(default=6000, ge=1, le=1_000_000)
    #: the request body cap, bytes
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=1 << 20)
    #: contact in the OpenAPI document (NL GOV: name, url and email)
    #: the consent log's checkpoint signing key (one key per purpose: not the host key)
    log_key_file: Path | None = None
    #: seconds between checkpoints the host signs (and has cosigned) while the log grows
    checkpoint_interval: int = Field(default=60, ge=0, le=86400)
    #: witnesses as ``<url> <vkey>``, comma-separated (C2SP tlog-witness)
    witnesses: str = ""
    contact_name: str = "Regie"
    contact_url: str = "https://regie.example"
    contact_email: str = "api@regie.example"

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise Misuse(describe_errors(exc)) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> HostSettings:
        """Settings from ``environ`` (default ``os.environ``); ``overrides`` win."""
        defaults = {"home": lambda _env: default_home()}
        return cls(**settings_values(ENV_VARS, environ, overrides, defaults))

    @property
    def host_key_file(self) -> Path:
        """The key file in use: ``key_file`` or ``<home>/host-key.jwk``."""
        return self.key_file if self.key_file is not None else self.home / KEY_FILE_NAME

    @property
    def log_key_path(self) -> Path:
        """The log key file: ``log_key_file`` or ``<home>/log-key.jwk``."""
        return self.log_key_file if self.log_key_file is not None else self.home / LOG_KEY_FILE

    @property
    def witness_list(self) -> tuple[tuple[str, str], ...]:
        """``(url, vkey)`` of each configured witness."""
        pairs = []
        for entry in self.witnesses.split(","):
            if entry.strip():
                url, _, vkey = entry.strip().partition(" ")
                pairs.append((url, vkey.strip()))
        return tuple(pairs)

    @field_validator("witnesses")
    @classmethod
    def _witnesses(cls, value: str) -> str:
        for entry in value.split(","):
            if not entry.strip():
                continue
            url, _, vkey = entry.strip().partition(" ")
            if not vkey.strip() or "+" not in vkey:
                raise ValueError("each witness is '<url> <vkey>' (a C2SP verifier key)")
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise ValueError("a witness URL is an http(s):// URL")
        return value

    @field_validator("host_url")
    @classmethod
    def _host_url(cls, value: str) -> str:
        check_host_url(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return value or None


def check_host_url(value: str) -> None:
    """Refuse (ValueError) a host URL that is not https (or http to this machine) or has extras."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("the host URL is an https:// URL with a host name")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError("http:// is allowed only to this machine (127.0.0.1, localhost, ::1)")
    if parts.query or parts.fragment or value.endswith("/") or parts.username or parts.password:
        raise ValueError("the host URL has no query, fragment, user or trailing slash")
    if value != value.strip() or any(ch.isspace() for ch in value):
        raise ValueError("the host URL contains white space")


def describe_errors(exc: ValidationError) -> str:
    """One line per wrong value, naming the environment variable; never the value itself."""
    return settings_errors(
        exc, title="the wallet host settings", variable=lambda field: ENV_VARS.get(field, field)
    )


__all__ = ["ENV_VARS", "KEY_FILE_NAME", "HostSettings", "check_host_url", "describe_errors"]
