"""The issuer: signs a citizen's attributes as SD-JWT VC bound to the holder's key.

An :class:`Issuer` is built from its :class:`~issuer.state.IssuerState` and the
credential types it offers. It issues, revokes, suspends and reinstates
through its status list (2 bits per credential: VALID, INVALID, SUSPENDED),
publishes its keys, and rotates its signing key while the retired key keeps
verifying what it signed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from regie_protocol import sdjwt
from regie_protocol.errors import ClaimRefused, Misuse
from regie_protocol.keys import PublicKey, SigningKey, public_key_from_jwk
from regie_protocol.statuslist import Status, StatusList, sign_status_list

from .schemas import CredentialType, mark_disclosable, validate_claims
from .state import IssuerState
from .status import STATUS_BITS, STATUS_LIST_SIZE, StatusRegistry

STATUS_LIST_PATH = "/v1/status-lists/1"
STATUS_TTL = 300


def check_issuer_id(issuer_id: str, *, allow_http_localhost: bool) -> str:
    """An issuer is named by an HTTPS URL (plain http only for a local service)."""
    parts = urlsplit(issuer_id)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    secure = parts.scheme == "https" and bool(parts.hostname)
    if not (secure or (parts.scheme == "http" and local and allow_http_localhost)):
        raise Misuse(f"an issuer identifier is an https:// URL, not {issuer_id!r}")
    if parts.query or parts.fragment or issuer_id.endswith("/"):
        raise Misuse("an issuer identifier has no query, fragment or trailing slash")
    return issuer_id


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    token: str
    vct: str
    status_index: int
    expires_at: int


def new_state(issuer_id: str, *, allow_http_localhost: bool = False) -> IssuerState:
    check_issuer_id(issuer_id, allow_http_localhost=allow_http_localhost)
    return IssuerState(
        issuer_id=issuer_id,
        status_list=StatusList(STATUS_BITS, STATUS_LIST_SIZE).encode(),
        status_list_size=STATUS_LIST_SIZE,
        allocated=StatusList(1, STATUS_LIST_SIZE).encode(),
    )


class Issuer:
    """An authoritative source that signs credentials. Operates on a loaded state."""

    def __init__(
        self, state: IssuerState, key: SigningKey, types: Mapping[str, CredentialType]
    ) -> None:
        self.state = state
        self.types = types
        self._key = key
        self.statuses = StatusRegistry(state)

    # -- identity and keys -------------------------------------------------

    @property
    def issuer_id(self) -> str:
        return self.state.issuer_id

    @property
    def signing_key(self) -> SigningKey:
        return self._key

    @property
    def status_list_uri(self) -> str:
        return self.issuer_id + STATUS_LIST_PATH

    def public_keys(self) -> dict[str, PublicKey]:
        """kid -> key for every key that may have signed a live credential."""
        keys: dict[str, PublicKey] = {self._key.kid: self._key.public_key}
        for jwk in self.state.retired_keys:
            public = public_key_from_jwk(jwk)
            keys[public.thumbprint()] = public
        return keys

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.to_jwk() for key in self.public_keys().values()]}

    def metadata(self) -> dict[str, Any]:
        """The JWT VC issuer metadata (``/.well-known/jwt-vc-issuer``)."""
        return {"issuer": self.issuer_id, "jwks": self.jwks()}

    def rotate_key(self, new_key: SigningKey) -> None:
        """Start signing with ``new_key``; the old key keeps verifying what it signed.

        Changes the state (the old public key is recorded as retired): the caller saves it.
        """
        if new_key.kid == self._key.kid:
            raise Misuse("the new key is the key already in use")
        old = self._key.public_key.to_jwk()
        if all(jwk.get("kid") != old["kid"] for jwk in self.state.retired_keys):
            self.state.retired_keys = [*self.state.retired_keys, old]
        self._key = new_key

    # -- issuance ----------------------------------------------------------

    def credential_type(self, vct: str) -> CredentialType:
        ctype = self.types.get(vct)
        if ctype is None:
            offered = ", ".join(sorted(self.types))
            raise ClaimRefused(f"this issuer does not issue {vct!r}; it issues: {offered}")
        return ctype

    def issue(
        self,
        *,
        vct: str,
        claims: Mapping[str, Any],
        holder: PublicKey,
        now: int,
        disclosable: Sequence[str] | None = None,
    ) -> IssuedCredential:
        """Sign ``claims`` as an SD-JWT VC bound to ``holder``.

        ``disclosable`` names the top-level claims a holder may leave out
        (``None``: every claim the schema allows). Changes the state (a status
        index is used): the caller saves it.
        """
        ctype = self.credential_type(vct)
        validate_claims(ctype, claims)
        index = self.statuses.allocate()
        exp = now + ctype.validity
        payload: dict[str, Any] = {
            "iss": self.issuer_id,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "vct": vct,
            "cnf": {"jwk": holder.required_members()},
            "status": {"status_list": {"idx": index, "uri": self.status_list_uri}},
            **mark_disclosable(ctype, claims, disclosable),
        }
        token = sdjwt.issue(payload, issuer_key=self._key)
        return IssuedCredential(token=token, vct=vct, status_index=index, expires_at=exp)

    # -- status ------------------------------------------------------------

    def set_status(self, index: int, status: Status) -> None:
        self.statuses.set_status(index, status)

    def status_list_token(self, *, now: int, ttl: int = STATUS_TTL) -> str:
        return sign_status_list(
            self.statuses.list,
            key=self._key,
            uri=self.status_list_uri,
            iat=now,
            exp=now + 24 * 3600,
            ttl=ttl,
        )


__all__ = [
    "STATUS_LIST_PATH",
    "IssuedCredential",
    "Issuer",
    "check_issuer_id",
    "new_state",
]
