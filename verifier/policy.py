"""The verifier's policy for consent tokens and presentations, stated by the caller.

A :class:`ConsentPolicy` says who the verifier is (``audience``), what an
endpoint needs (``attributes``, ``purpose``), whom it trusts (wallet hosts for
consent status lists, issuers for credentials), how it finds a consent's
holder key, its clock and its leeway. Nothing about trust has a default
(STYLE habit 6): a policy that trusts nobody refuses everything.

::

    policy = ConsentPolicy(
        audience=identity.id, attributes=frozenset({"address"}), purpose=DPV + "ServiceProvision",
        trusted_hosts=trust.wallet_hosts, trusted_issuers=trust.issuers,
        holder_keys=store.holder_key, clock=lambda: int(time.time()), leeway=30)
    endpoint_policy = policy.requiring({"age_over_18"}, purpose=DPV + "AgeVerification")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import urlsplit

from regie_protocol.consent import HolderKeys
from regie_protocol.errors import Misuse
from regie_protocol.keys import PublicKey
from regie_protocol.limits import DEFAULT_LIMITS, Limits

from .trust import KeySet, check_base_url

#: the largest clock leeway a policy may allow (Limits caps it at 60 s too)
MAX_LEEWAY = 60
_CLAIM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}(?:\.[a-z][a-z0-9_]{0,63}){0,3}")

Clock = Callable[[], int]


def check_attribute(name: str) -> str:
    """A canonical attribute id (``address``, ``address.locality``), else Misuse."""
    if not isinstance(name, str) or not _CLAIM_NAME.fullmatch(name):
        raise Misuse(f"{name!r} is not a canonical attribute id ([a-z][a-z0-9_]*, dotted paths)")
    return name


def is_under(uri: str, base: str) -> bool:
    """Whether ``uri`` is a plain URL below ``base`` (``base`` + ``/`` + path, nothing else).

    A query, fragment, user information, ``.``/``..`` segments or percent-encoding
    make the answer no: a status list URI is a plain path on its server.
    """
    if not isinstance(uri, str) or not uri.startswith(base + "/") or "%" in uri:
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.query or parts.fragment or parts.username or parts.password or "\\" in uri:
        return False
    return not any(segment in (".", "..") for segment in parts.path.split("/"))


@lru_cache(maxsize=MAX_LEEWAY + 1)
def _limits_with(leeway: int) -> Limits:
    return replace(DEFAULT_LIMITS, leeway_seconds=leeway)


def _longest_base(uri: str, bases: Collection[str]) -> str | None:
    found = None
    for base in bases:
        if (found is None or len(base) > len(found)) and is_under(uri, base):
            found = base
    return found


@dataclass(frozen=True, slots=True)
class ConsentPolicy:
    """What a verifier accepts; see the module docstring. Immutable."""

    #: the verifier's own identifier: a consent's single ``aud`` must equal it
    audience: str
    #: attributes the endpoint needs (each consented, for ``purpose``)
    attributes: frozenset[str]
    #: the DPV purpose IRI the attributes are used for; None accepts any (say so on purpose)
    purpose: str | None
    #: wallet host base URL -> the keys that sign its consent status lists
    trusted_hosts: Mapping[str, KeySet]
    #: issuer id -> the keys that sign its credentials and their status lists
    trusted_issuers: Mapping[str, KeySet]
    #: a consent's ``iss`` (holder key thumbprint URI) -> the holder's public key
    holder_keys: HolderKeys
    #: the time now, integer seconds
    clock: Clock
    #: seconds of clock skew accepted on every time check (0..60)
    leeway: int

    def __post_init__(self) -> None:
        if not isinstance(self.audience, str) or not self.audience:
            raise Misuse("a policy names the verifier's own identifier as audience")
        if isinstance(self.attributes, str):
            raise Misuse("attributes is a collection of attribute ids, not one string")
        attributes = frozenset(check_attribute(a) for a in self.attributes)
        object.__setattr__(self, "attributes", attributes)
        if self.purpose is not None and (not isinstance(self.purpose, str) or not self.purpose):
            raise Misuse("purpose is a DPV purpose IRI, or None to accept any purpose")
        for url in self.trusted_hosts:
            check_base_url(url, what="a trusted wallet host")
        for url in self.trusted_issuers:
            check_base_url(url, what="a trusted issuer")
        object.__setattr__(self, "trusted_hosts", MappingProxyType(dict(self.trusted_hosts)))
        object.__setattr__(self, "trusted_issuers", MappingProxyType(dict(self.trusted_issuers)))
        if not callable(self.clock):
            raise Misuse("clock is a callable returning integer seconds")
        if type(self.leeway) is not int or not 0 <= self.leeway <= MAX_LEEWAY:
            raise Misuse(f"leeway is 0 to {MAX_LEEWAY} seconds")

    def requiring(self, attributes: Collection[str], purpose: str | None) -> ConsentPolicy:
        """This policy for an endpoint that needs ``attributes`` for ``purpose``."""
        if isinstance(attributes, str):
            raise Misuse("attributes is a collection of attribute ids, not one string")
        return replace(self, attributes=frozenset(attributes), purpose=purpose)

    @property
    def limits(self) -> Limits:
        """The protocol limits with this policy's leeway (one immutable value per leeway)."""
        return _limits_with(self.leeway)

    def now(self) -> int:
        value = self.clock()
        if type(value) is not int:
            raise Misuse("the policy's clock returns integer seconds")
        return value

    def host_of(self, uri: str) -> str | None:
        """The trusted wallet host serving ``uri``, or None."""
        return _longest_base(uri, self.trusted_hosts.keys())

    def issuer_serves(self, issuer: str, uri: str) -> bool:
        """Whether ``uri`` lies below the trusted ``issuer``'s own URL."""
        return issuer in self.trusted_issuers and is_under(uri, issuer)

    def status_list_keys(self, uri: str) -> KeySet | None:
        """The keys that must sign the status list at ``uri``: its host's, or its issuer's."""
        host = self.host_of(uri)
        if host is not None:
            return self.trusted_hosts[host]
        issuer = _longest_base(uri, self.trusted_issuers.keys())
        return None if issuer is None else self.trusted_issuers[issuer]

    def trusted_bases(self) -> tuple[str, ...]:
        """Every URL status lists may be fetched below (hosts and issuers)."""
        return (*self.trusted_hosts.keys(), *self.trusted_issuers.keys())

    def holder_key(self, iss: str) -> PublicKey | None:
        keys = self.holder_keys
        return keys.get(iss) if isinstance(keys, Mapping) else keys(iss)


__all__ = ["MAX_LEEWAY", "Clock", "ConsentPolicy", "check_attribute", "is_under"]
