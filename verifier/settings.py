"""A verifier's settings: its home directory and what lives there, from arguments or environment.

=================================  ================================================
environment variable               setting
=================================  ================================================
``REGIE_VERIFIER_HOME``            ``home``: identity, trust file, database (default
                                   ``<REGIE_HOME>/verifier``)
``REGIE_VERIFIER_DATABASE_URL``    ``database_url``: a SQLAlchemy URL; empty =
                                   ``<home>/verifier.sqlite3``
``REGIE_VERIFIER_URL``             ``base_url``: the service's public base URL
``REGIE_VERIFIER_STATUS_MAX_TTL``  ``status_max_ttl``: the longest a status list is used
=================================  ================================================

Files in ``home``: ``identity.json`` (0600, ``regie verifier keygen``),
``trust.json`` (wallet hosts and issuers, ``regie verifier trust ...``) and
the SQLite database.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from regie_protocol.errors import Misuse, RegieError
from regie_protocol.settings_env import settings_errors, settings_values

from .trust import check_base_url

ENV_VARS: Mapping[str, str] = {
    "home": "REGIE_VERIFIER_HOME",
    "database_url": "REGIE_VERIFIER_DATABASE_URL",
    "base_url": "REGIE_VERIFIER_URL",
    "status_max_ttl": "REGIE_VERIFIER_STATUS_MAX_TTL",
}
IDENTITY_FILE = "identity.json"
TRUST_FILE = "trust.json"
DATABASE_FILE = "verifier.sqlite3"
DEFAULT_BASE_URL = "http://127.0.0.1:8003"


class VerifierSettings(BaseModel):
    """Where a verifier keeps its identity, trust and store, and how its service answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path
    database_url: str | None = None
    base_url: str = DEFAULT_BASE_URL
    #: seconds of clock skew accepted on every time check
    leeway: int = Field(default=30, ge=0, le=60)
    status_min_ttl: int = Field(default=10, ge=1, le=3600)
    status_max_ttl: int = Field(default=3600, ge=10, le=86400)
    status_default_ttl: int = Field(default=300, ge=1, le=86400)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1 << 20)
    contact_name: str = "Regie"
    contact_url: str = "https://regie.example"
    contact_email: str = "api@regie.example"

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise Misuse(describe_errors(exc)) from None

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> VerifierSettings:
        """Settings from ``environ`` (default ``os.environ``); ``overrides`` win."""
        return cls(**settings_values(ENV_VARS, environ, overrides, {"home": _default_home}))

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        try:
            check_base_url(value, what="the service URL")
        except RegieError as exc:
            raise ValueError(exc.message) from None
        return value

    @property
    def identity_file(self) -> Path:
        return self.home / IDENTITY_FILE

    @property
    def trust_file(self) -> Path:
        return self.home / TRUST_FILE

    @property
    def database(self) -> str | Path:
        return self.database_url or self.home / DATABASE_FILE


def _default_home(env: Mapping[str, str]) -> Path:
    regie_home = env.get("REGIE_HOME")
    if regie_home:
        return Path(regie_home) / "verifier"
    import platformdirs

    return Path(platformdirs.user_data_dir("regie", appauthor=False)) / "verifier"


def describe_errors(exc: ValidationError) -> str:
    """One line per wrong value, naming the environment variable; never the value itself."""
    return settings_errors(
        exc, title="the verifier settings", variable=lambda field: ENV_VARS.get(field, field)
    )


__all__ = [
    "DATABASE_FILE",
    "DEFAULT_BASE_URL",
    "ENV_VARS",
    "IDENTITY_FILE",
    "TRUST_FILE",
    "VerifierSettings",
    "describe_errors",
]
