"""IETF Token Status List (draft-ietf-oauth-status-list): lists, signed tokens, checks.

* :class:`StatusList` is the packed bit list and its JSON ``{"bits", "lst"}``
  form (see :mod:`regie_protocol._statuslist_bits` for the encoding rules).
* A Status List Token is a JWT with header ``typ: statuslist+jwt`` and claims
  ``sub`` (the URI it is served from), ``iat``, ``status_list``, optionally
  ``exp`` and ``ttl`` (draft section "Status List Token in JWT Format").
  :func:`sign_status_list` writes one; :func:`verify_status_list` checks the
  signature against the caller's keys, ``sub`` against the URI the caller
  fetched it from, the times against the caller's clock, and decodes the list
  within the caller's limits. Other claims (``iss``, ...) are ignored.
* :func:`check_status` turns an entry into a decision: VALID returns, anything
  else raises :class:`StatusRefused` (``REVOKED``, ``SUSPENDED``, or
  ``STATUS_UNKNOWN`` for values Regie gives no meaning, application-specific
  ones included).
* :func:`newer_than` guards a cache against an older signed list replayed
  in place of a newer one (T19): ``iat`` never goes backwards.

Unknown members: in the ``status_list`` object, ``aggregation_uri`` and any
other member are ignored; in the token, claims other than ``sub``, ``iat``,
``exp``, ``ttl`` and ``status_list`` are ignored; header members other than
``alg``, ``typ`` and ``kid`` are refused (:mod:`regie_protocol.jws`).

Freshness (``ttl``, how long a cached list may be used) is the caching
verifier's policy, built on the ``iat``/``exp``/``ttl`` this module returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import jws
from ._statuslist_bits import Bits, Status, StatusList
from .errors import ClaimRefused, Code, Misuse, StatusRefused
from .keys import Alg, SigningKey
from .limits import DEFAULT_LIMITS, Limits

STATUS_LIST_TYP = "statuslist+jwt"

#: Status List Tokens: signed by an issuer key, no audience, ``exp`` optional.
#: No maximum lifetime: how long a list is used is bounded by ``ttl``/``exp`` in the cache.
STATUS_LIST_PROFILE = jws.TokenProfile(
    name="status list token",
    typ=STATUS_LIST_TYP,
    algs=frozenset({Alg.EDDSA.value, Alg.ED25519.value, Alg.ES256.value}),
    required_claims=frozenset({"sub", "iat", "status_list"}),
    max_lifetime=None,
    required_times=frozenset({"iat"}),
    max_bytes=DEFAULT_LIMITS.max_status_list_token_bytes,
)

_MAX_NUMERIC = 2**53


@dataclass(frozen=True, slots=True)
class VerifiedStatusList:
    """A Status List Token whose signature, ``sub``, times and list were checked.

    ``list`` is frozen (read-only). ``uri`` is the URI the caller fetched the
    token from, equal to its ``sub``.
    """

    uri: str
    iat: int
    exp: int | None
    ttl: int | None
    list: StatusList

    def status(self, idx: int) -> Status:
        """The status at ``idx``; an index outside the list or an unknown value is refused."""
        value = self.list.get(idx)
        try:
            return Status(value)
        except ValueError:
            raise StatusRefused(
                f"status value {value:#04x} at index {idx} of {self.uri} has no meaning "
                "Regie knows (application-specific or reserved)",
                code=Code.STATUS_UNKNOWN,
            ) from None


def sign_status_list(
    lst: StatusList,
    *,
    key: SigningKey,
    uri: str,
    iat: int,
    exp: int | None,
    ttl: int | None,
) -> str:
    """Sign ``lst`` as a Status List Token served at ``uri``."""
    if not isinstance(uri, str) or not uri:
        raise Misuse("a status list token names the URI it is served from")
    if not _is_numeric_date(iat):
        raise Misuse(f"iat is an integer NumericDate, not {iat!r}")
    claims: dict[str, object] = {"sub": uri, "iat": iat}
    if exp is not None:
        if not _is_numeric_date(exp) or exp <= iat:
            raise Misuse(f"exp is an integer NumericDate after iat, not {exp!r}")
        claims["exp"] = exp
    if ttl is not None:
        if not _is_positive_int(ttl):
            raise Misuse(f"ttl is a positive number of seconds, not {ttl!r}")
        claims["ttl"] = ttl
    claims["status_list"] = lst.encode()
    return jws.sign(claims, key=key, typ=STATUS_LIST_TYP)


def verify_status_list(
    token: str | bytes,
    *,
    keys: jws.Keys,
    uri: str,
    now: int,
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedStatusList:
    """Verify a Status List Token fetched from ``uri``. Raises a :class:`Refused` subclass."""
    if not isinstance(uri, str) or not uri:
        raise Misuse("pass the URI the status list token was fetched from")
    profile = STATUS_LIST_PROFILE
    if profile.max_bytes != limits.max_status_list_token_bytes:
        profile = replace(profile, max_bytes=limits.max_status_list_token_bytes)
    verified = jws.verify(token, profile=profile, keys=keys, now=now, audience=None, limits=limits)
    claims = verified.claims
    sub = claims["sub"]
    if not isinstance(sub, str):
        raise ClaimRefused("'sub' of a status list token is a string", code=Code.CLAIM_INVALID)
    if sub != uri:
        raise ClaimRefused(
            f"the status list token is for {sub!r}, but it was fetched from {uri!r}",
            code=Code.CLAIM_INVALID,
        )
    ttl = claims.get("ttl")
    if ttl is not None and not _is_positive_int(ttl):
        raise ClaimRefused(
            f"'ttl' is a positive integer number of seconds, not {ttl!r}", code=Code.CLAIM_INVALID
        )
    status_list = StatusList.decode(claims["status_list"], limits=limits)
    status_list.freeze()
    return VerifiedStatusList(
        uri=uri, iat=claims["iat"], exp=claims.get("exp"), ttl=ttl, list=status_list
    )


def check_status(lst: VerifiedStatusList, idx: int) -> None:
    """Return if entry ``idx`` is VALID; otherwise raise :class:`StatusRefused`."""
    status = lst.status(idx)
    if status is Status.INVALID:
        raise StatusRefused(f"index {idx} of {lst.uri} is revoked", code=Code.REVOKED)
    if status is Status.SUSPENDED:
        raise StatusRefused(f"index {idx} of {lst.uri} is suspended", code=Code.SUSPENDED)


def newer_than(candidate: VerifiedStatusList, cached: VerifiedStatusList | None) -> None:
    """Refuse ``candidate`` when it was issued before the ``cached`` list of the same URI.

    An equal ``iat`` is accepted (the same list fetched again).
    """
    if cached is None:
        return
    if candidate.uri != cached.uri:
        raise Misuse(f"comparing status lists of different URIs ({candidate.uri}, {cached.uri})")
    if candidate.iat < cached.iat:
        raise StatusRefused(
            f"the status list from {candidate.uri} was issued at {candidate.iat}, before the "
            f"cached one ({cached.iat}): an older list was replayed",
            code=Code.STATUS_LIST_INVALID,
        )


def _is_numeric_date(value: object) -> bool:
    return type(value) is int and 0 <= value < _MAX_NUMERIC


def _is_positive_int(value: object) -> bool:
    return type(value) is int and 0 < value < _MAX_NUMERIC


__all__ = [
    "STATUS_LIST_PROFILE",
    "STATUS_LIST_TYP",
    "Bits",
    "Status",
    "StatusList",
    "VerifiedStatusList",
    "check_status",
    "newer_than",
    "sign_status_list",
    "verify_status_list",
]
