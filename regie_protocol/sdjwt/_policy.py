"""The verifier's policy for an SD-JWT, stated by the caller (STYLE habit 6).

Whether a Key Binding JWT is required is decided before the token is looked at
(RFC 9901 §7.3 step 1), so it is an argument with no default:
:class:`KeyBindingRequired` (a verifier: audience, nonce, freshness) or
:class:`NoKeyBinding` (a wallet receiving from its issuer: a KB-JWT there is
refused, §7.2). Status checking is on unless the caller passes the explicit
:data:`UNSAFE_SKIP_STATUS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, final

from ..errors import Misuse
from ..keys import PublicKey


@dataclass(frozen=True, slots=True)
class KeyBindingRequired:
    """The presentation must end with a KB-JWT for this verifier and transaction."""

    audience: str
    nonce: str
    #: how old the KB-JWT's ``iat`` may be, in seconds (plus the clock leeway)
    max_age: int = 300

    def __post_init__(self) -> None:
        if not isinstance(self.audience, str) or not self.audience:
            raise Misuse("KeyBindingRequired needs the verifier's audience string")
        if not isinstance(self.nonce, str) or not self.nonce:
            raise Misuse("KeyBindingRequired needs the transaction's nonce string")
        if type(self.max_age) is not int or self.max_age <= 0:
            raise Misuse("max_age is a positive number of seconds")


@dataclass(frozen=True, slots=True)
class NoKeyBinding:
    """The token must carry NO KB-JWT (a holder receiving a credential from its issuer)."""


KeyBindingPolicy = KeyBindingRequired | NoKeyBinding


@final
class UnsafeSkipStatus:
    """Type of :data:`UNSAFE_SKIP_STATUS`: a named choice, never a default."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSAFE_SKIP_STATUS"


#: pass as ``status=`` to accept a credential without checking whether it was revoked
UNSAFE_SKIP_STATUS: Final = UnsafeSkipStatus()

#: ``(uri, idx) -> status value`` of the credential's Token Status List entry:
#: 0 VALID, 1 INVALID, 2 SUSPENDED (:class:`regie_protocol.statuslist.Status`).
#: Fetching and verifying the list is the resolver's job; it raises
#: :class:`~regie_protocol.errors.Unavailable` when it cannot tell.
StatusResolver = Callable[[str, int], int]

#: the issuer's verification keys by ``kid``, looked up by the (unverified) ``iss``
#: from the caller's trust list or the issuer's metadata, never from the token:
#: a mapping ``iss -> {kid: key}`` or a callable ``iss -> {kid: key} | None``
IssuerKeys = Callable[[str], Mapping[str, PublicKey] | None] | Mapping[str, Mapping[str, PublicKey]]

__all__ = [
    "UNSAFE_SKIP_STATUS",
    "IssuerKeys",
    "KeyBindingPolicy",
    "KeyBindingRequired",
    "NoKeyBinding",
    "StatusResolver",
    "UnsafeSkipStatus",
]
