"""What the issuer's routes share: the loaded key and state file, the clock, admin auth.

One :class:`IssuerService` lives in ``app.state.issuer``; the clock in
``app.state.clock`` (a zero-argument callable returning integer seconds), so
a test sets the time by assigning ``app.state.clock`` — no patching.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from regie_protocol.errors import Misuse
from regie_protocol.http import AuthenticationRefused
from regie_protocol.keys import SigningKey, parse_jwk_text

from .issuer import Issuer, new_state
from .metadata import configurations
from .nonces import NonceStore
from .schemas import CredentialType
from .settings import IssuerSettings
from .state import StateFile, check_private_file

Clock = Callable[[], int]


def system_clock() -> int:
    return int(time.time())


def load_signing_key(settings: IssuerSettings) -> SigningKey:
    """The issuer's private key from its (owner-only) key file."""
    check_private_file(settings.key_file)
    text = settings.key_file.read_text(encoding="utf-8")
    if text.count(".") == 4 and not text.lstrip().startswith("{"):
        if settings.key_passphrase is None:
            raise Misuse(f"{settings.key_file} is encrypted: set REGIE_ISSUER_KEY_PASSPHRASE")
        return SigningKey.from_private_jwk_text(
            text, passphrase=settings.key_passphrase.get_secret_value()
        )
    return SigningKey.from_private_jwk(parse_jwk_text(text))


@dataclass
class IssuerService:
    settings: IssuerSettings
    key: SigningKey
    store: StateFile
    types: Mapping[str, CredentialType]
    nonces: NonceStore

    @classmethod
    def start(cls, settings: IssuerSettings, types: Mapping[str, CredentialType]) -> IssuerService:
        """Load the key, open (or create) the state, check they belong to this issuer."""
        configurations(types)
        key = load_signing_key(settings)
        store = StateFile(settings.state_file)
        if not store.exists():
            store.create(new_state(settings.issuer_id, allow_http_localhost=settings.dev))
        state = store.load()
        if state.issuer_id != settings.issuer_id:
            raise Misuse(
                f"the state file {settings.state_file} belongs to {state.issuer_id}, "
                f"not to {settings.issuer_id}"
            )
        nonces = NonceStore(lifetime=settings.nonce_lifetime)
        return cls(settings=settings, key=key, store=store, types=types, nonces=nonces)

    @property
    def issuer_id(self) -> str:
        return self.settings.issuer_id

    def read(self) -> Issuer:
        """An issuer over the current state, for reading (changes are not saved)."""
        return Issuer(self.store.load(), self.key, self.types)

    @contextmanager
    def transaction(self) -> Iterator[Issuer]:
        """An issuer over the locked state; its changes are saved atomically on success."""
        with self.store.transaction() as state:
            yield Issuer(state, self.key, self.types)

    def is_admin(self, token: str) -> bool:
        """Constant-time comparison (of SHA-256 digests, so the length does not leak either)."""
        expected = self.settings.admin_token.get_secret_value().encode("utf-8")
        given = hashlib.sha256(token.encode("utf-8")).digest()
        return hmac.compare_digest(given, hashlib.sha256(expected).digest())


def get_service(request: Request) -> IssuerService:
    service: IssuerService = request.app.state.issuer
    return service


def get_now(request: Request) -> int:
    clock: Clock = request.app.state.clock
    return int(clock())


_admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="adminToken", description="The issuer's admin token."
)
_access_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="accessToken",
    description="An access token from the token endpoint.",
)


def require_admin(
    service: Annotated[IssuerService, Depends(get_service)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> None:
    if credentials is None or not service.is_admin(credentials.credentials):
        raise AuthenticationRefused()


def access_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_access_bearer)],
) -> str | None:
    """The bearer access token of the request, if any (checked by the credential route)."""
    return None if credentials is None else credentials.credentials


ServiceDep = Annotated[IssuerService, Depends(get_service)]
NowDep = Annotated[int, Depends(get_now)]
AdminDep = Depends(require_admin)
AccessTokenDep = Annotated[str | None, Depends(access_token)]

__all__ = [
    "AccessTokenDep",
    "AdminDep",
    "Clock",
    "IssuerService",
    "NowDep",
    "ServiceDep",
    "get_now",
    "get_service",
    "load_signing_key",
    "require_admin",
    "system_clock",
]
