"""Verify a consent token under a verifier's policy: raises a typed refusal, never returns False.

Order of checks (cheap and local first, the status list last):

1. :func:`regie_protocol.consent.verify_consent`: ``typ`` (a credential, a KB-JWT
   or a status list is refused as such, T6), the holder key found by ``iss``
   through the policy, the signature, times with the policy's leeway, the single
   ``aud`` equal to the policy's audience (T6, T15), the claims' shapes;
2. the status list the consent points to lies below a trusted wallet host
   (``SignatureRefused`` ``issuer_untrusted``): a token never chooses whom the
   verifier believes about its revocation (T16);
3. every attribute the policy needs is consented for ``present`` (an entry
   naming it, or a whole it is part of: ``address`` covers ``address.locality``)
   and, when the policy names a purpose, for that purpose
   (``ClaimRefused`` ``not_consented``, T14);
4. the status entry through the cache: VALID, or ``StatusRefused``
   (``revoked``, ``suspended``; fail closed when the list cannot be had, T19).

What stays with the caller: reading data (the wallet host checks DPoP, uses and
frequency in its own transaction).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from regie_protocol.consent import AuthorizationDetail, ConsentClaims, verify_consent
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, Misuse, SignatureRefused
from regie_protocol.keys import PublicKey
from regie_protocol.statuslist import check_status

from .policy import ConsentPolicy
from .status_cache import StatusLists


@dataclass(frozen=True, slots=True)
class VerifiedConsentToken:
    """A consent token that passed every check of :func:`verify_consent_token`."""

    token: str
    claims: ConsentClaims
    #: the holder's (pairwise) public key that signed it
    holder_key: PublicKey
    #: the trusted wallet host whose status list the consent is on
    host: str
    #: the attributes the policy asked for (all consented, for its purpose)
    attributes: frozenset[str]

    @property
    def jti(self) -> str:
        return self.claims.jti

    @property
    def consented(self) -> frozenset[str]:
        """Every attribute the consent lets the verifier have presented."""
        return frozenset(
            claim
            for detail in self.claims.authorization_details
            if "present" in detail.actions
            for claim in detail.claims
        )


def _wholes(attribute: str) -> set[str]:
    """``address.locality`` -> ``{"address", "address.locality"}``."""
    parts = attribute.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts) + 1)}


def covers(consented: Iterable[str], attribute: str) -> bool:
    """``attribute`` is consented itself or as part of a consented whole."""
    return not _wholes(attribute).isdisjoint(consented)


def details_for(
    details: Iterable[AuthorizationDetail], attribute: str, *, action: str = "present"
) -> list[AuthorizationDetail]:
    """The entries that consent to ``attribute`` for ``action``."""
    wholes = _wholes(attribute)
    return [d for d in details if action in d.actions and not wholes.isdisjoint(d.claims)]


def check_scope(claims: ConsentClaims, attributes: Collection[str], purpose: str | None) -> None:
    """Every attribute consented for ``present`` (and for ``purpose``), else ClaimRefused."""
    details = claims.authorization_details
    for attribute in sorted(attributes):
        entries = details_for(details, attribute)
        if not entries:
            raise ClaimRefused(
                f"the consent does not cover attribute {attribute!r}: ask the citizen "
                "for a consent that includes it",
                code=Code.NOT_CONSENTED,
            )
        if purpose is not None and all(entry.purpose != purpose for entry in entries):
            raise ClaimRefused(
                f"attribute {attribute!r} is consented for another purpose "
                f"({', '.join(sorted({e.purpose for e in entries}))}), not for {purpose}",
                code=Code.NOT_CONSENTED,
            )
    if purpose is not None and not attributes and all(d.purpose != purpose for d in details):
        raise ClaimRefused(f"the consent is not for purpose {purpose}", code=Code.NOT_CONSENTED)


def verify_consent_token(
    token: str | bytes, policy: ConsentPolicy, *, status: StatusLists
) -> VerifiedConsentToken:
    """Verify ``token`` under ``policy``; the status list comes through ``status``.

    Raises a :class:`~regie_protocol.errors.Refused` subclass (see the module
    docstring for the order), :class:`~regie_protocol.errors.Unavailable` when
    the status list cannot be had, :class:`Misuse` for a wrong call.
    """
    if not isinstance(policy, ConsentPolicy):
        raise Misuse("verify_consent_token takes a ConsentPolicy")
    try:
        text = token.decode("ascii") if isinstance(token, bytes) else token
    except UnicodeDecodeError:
        raise MalformedInput("a consent token is ASCII text") from None
    now = policy.now()
    verified = verify_consent(
        text,
        holder_keys=policy.holder_keys,
        audience=policy.audience,
        now=now,
        limits=policy.limits,
    )
    claims = verified.claims
    host = policy.host_of(claims.status.uri)
    if host is None:
        raise SignatureRefused(
            f"the consent's status list {claims.status.uri} is not served by a wallet host "
            "trusted here: add the host to the trust list if you trust it",
            code=Code.ISSUER_UNTRUSTED,
        )
    check_scope(claims, policy.attributes, policy.purpose)
    check_status(status.get(claims.status.uri), claims.status.idx)
    return VerifiedConsentToken(
        token=text,
        claims=claims,
        holder_key=verified.key,
        host=host,
        attributes=policy.attributes,
    )


__all__ = [
    "VerifiedConsentToken",
    "check_scope",
    "covers",
    "details_for",
    "verify_consent_token",
]
