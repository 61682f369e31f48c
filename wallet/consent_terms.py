"""What a citizen may grant: durations, DPV terms, held attributes, and the built-in notice.

Everything here is checked before a grant writes anything:

* durations (:func:`parse_duration`): ``30d``, ``12h``, ``2w`` or a strict ISO 8601
  duration (``P30D``, ``PT12H``); ``--valid`` must be a fixed length (no years or
  months) of at most :data:`regie_protocol.consent.MAX_LIFETIME`;
* purposes and legal bases (:func:`purpose_iri`, :func:`legal_basis_iri`): W3C DPV
  IRIs, or their short names (``ServiceProvision``, ``A6-1-a``);
* attributes (:func:`locate_attributes`): each must be held, i.e. present in the
  ``claims`` of a stored, unexpired credential (dotted paths for nested members).

The notice a CLI grant refers to is :data:`CLI_NOTICE_NL`, the wallet's own
plain-language (B1) text in Dutch: a grant from the command line has no
verifier notice, so ``notice.sha256`` is the hash of this text and
``notice.uri`` names it (:data:`CLI_NOTICE_URI`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from regie_protocol import vocab
from regie_protocol.consent import MAX_LIFETIME, Duration, LocalizedText, notice_hash
from regie_protocol.errors import ClaimRefused, Code, Misuse

#: the default legal basis of a grant: GDPR Art. 6(1)(a), consent
GDPR_CONSENT = vocab.GDPR + "A6-1-a"
NO_RETENTION = "P0D"
_SHORT = re.compile(r"([0-9]{1,5})([wdh])")
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600}
_ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]{0,63}(?:\.[a-z][a-z0-9_]{0,63}){0,3}")

CLI_NOTICE_URI = "urn:regie:notice:wallet-cli:nl:1"
CLI_NOTICE_NL = (
    "Je geeft toestemming. De organisatie die je kiest, mag de gegevens die je "
    "kiest zien, alleen voor het doel dat je kiest en alleen zo lang als je "
    "kiest. Je kunt je toestemming altijd weer intrekken, net zo makkelijk als "
    "je hem gaf. Daarna mag de organisatie je gegevens niet meer opvragen. Alles "
    "wat met je toestemming gebeurt, zie je terug in je geschiedenis.\n"
)
CLI_NOTICE_SHA256 = notice_hash(CLI_NOTICE_NL.encode("utf-8"))

#: Dutch wording for common DPV purposes (DPV itself is English only)
_PURPOSE_NL = {
    "ServiceProvision": "Een dienst leveren",
    "AgeVerification": "Leeftijd controleren",
    "IdentityVerification": "Identiteit controleren",
    "IdentityAuthentication": "Identiteit vaststellen",
    "EnforceSecurity": "Beveiliging",
    "FraudPreventionAndDetection": "Fraude voorkomen en opsporen",
    "CommunicationManagement": "Contact met u",
    "AccountManagement": "Een account beheren",
    "ResearchAndDevelopment": "Onderzoek en ontwikkeling",
    "ServicePersonalisation": "Een dienst op u afstemmen",
}


@dataclass(frozen=True, slots=True)
class ParsedDuration:
    """A duration as written into a token (``iso``) and, when fixed, its length in seconds."""

    iso: str
    seconds: int | None


def parse_duration(text: str, *, what: str) -> ParsedDuration:
    """``30d`` / ``12h`` / ``2w`` or an ISO 8601 duration; anything else is :class:`Misuse`."""
    value = text.strip()
    short = _SHORT.fullmatch(value)
    if short:
        amount, unit = int(short.group(1)), short.group(2)
        iso = f"P{amount}W" if unit == "w" else f"P{amount}D" if unit == "d" else f"PT{amount}H"
        return ParsedDuration(iso, amount * _SECONDS[unit])
    try:
        duration = Duration.parse(value, what)
    except ClaimRefused:
        raise Misuse(
            f"{what} {text!r} is not a duration: write e.g. 30d, 12h, 2w or ISO 8601 P30D, PT12H"
        ) from None
    seconds = None
    if not duration.years and not duration.months:
        seconds = (
            ((duration.weeks * 7 + duration.days) * 24 + duration.hours) * 60 + duration.minutes
        ) * 60 + duration.seconds
    return ParsedDuration(duration.text, seconds)


def validity_seconds(text: str) -> int:
    """The length of ``--valid``: fixed, more than zero and at most the consent maximum."""
    parsed = parse_duration(text, what="--valid")
    if parsed.seconds is None:
        raise Misuse(f"--valid {text!r}: years and months vary in length; give days, e.g. 365d")
    if not 0 < parsed.seconds <= MAX_LIFETIME:
        raise Misuse(f"--valid {text!r}: a consent runs more than 0 s and at most 400 days")
    return parsed.seconds


def retention_iso(text: str | None) -> str:
    """``--retention`` as the token's ISO 8601 ``retention`` (``P0D`` when not given)."""
    return NO_RETENTION if text is None else parse_duration(text, what="--retention").iso


def purpose_iri(value: str) -> str:
    """A DPV purpose IRI from an IRI or a short name; unknown ones are ``ClaimRefused``."""
    iri = value if ":" in value else vocab.DPV + value
    vocab.require_purpose(iri, field="purpose")
    return iri


def legal_basis_iri(value: str) -> str:
    """A DPV / GDPR legal basis IRI from an IRI or a short name (``Consent``, ``A6-1-e``)."""
    if ":" not in value:
        for namespace in (vocab.DPV, vocab.GDPR):
            if vocab.is_legal_basis(namespace + value):
                return namespace + value
    vocab.require_legal_basis(value, field="legal basis")
    return value


def purpose_text(purpose: str) -> LocalizedText:
    """The purpose in Dutch and English, from DPV's label (and a Dutch wording when known)."""
    term = vocab.require_purpose(purpose)
    short = purpose.removeprefix(vocab.DPV)
    nl = _PURPOSE_NL.get(short, f"{term.label} (doel volgens W3C DPV)")
    return LocalizedText(nl=nl, en=term.label)


def split_attributes(value: str | Iterable[str]) -> tuple[str, ...]:
    """Attribute ids from ``A,B`` (or a list): canonical, at least one, none twice."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(item.strip() for item in items if item.strip())
    if not names:
        raise Misuse("name at least one attribute, e.g. --attributes age_over_18")
    for name in names:
        if not _ATTRIBUTE.fullmatch(name):
            raise ClaimRefused(
                f"{name!r} is not an attribute id ([a-z][a-z0-9_]*, dotted paths "
                "like address.locality)",
                code=Code.CLAIM_INVALID,
            )
    if len(set(names)) != len(names):
        raise Misuse("an attribute is named twice")
    return names


def holds(claims: Mapping[str, Any], attribute: str) -> bool:
    """Whether ``claims`` has ``attribute`` (``address.locality`` walks into objects)."""
    value: Any = claims
    for part in attribute.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return True


def locate_attributes(
    attributes: Sequence[str], credentials: Iterable[Mapping[str, Any]], *, now: int
) -> dict[str, tuple[str, ...]]:
    """Group ``attributes`` by the credential type (``vct``) that holds them.

    ``credentials`` are credential record payloads; expired ones do not count.
    An attribute held in several types goes to the type holding most of the
    requested attributes (then the first ``vct`` in order), so a grant names as
    few sources as it can. An attribute held nowhere is ``ClaimRefused``
    (``ATTRIBUTE_NOT_HELD``).
    """
    holders: dict[str, set[str]] = {}
    for payload in credentials:
        expires = payload.get("expires_at")
        claims = payload.get("claims")
        vct = payload.get("vct")
        if not isinstance(claims, Mapping) or not isinstance(vct, str):
            continue
        if isinstance(expires, int) and expires <= now:
            continue
        for attribute in attributes:
            if holds(claims, attribute):
                holders.setdefault(attribute, set()).add(vct)
    missing = [a for a in attributes if a not in holders]
    if missing:
        raise ClaimRefused(
            f"this wallet holds no credential with attribute(s) {', '.join(missing)}",
            code=Code.ATTRIBUTE_NOT_HELD,
        )
    coverage: dict[str, int] = {}
    for vcts in holders.values():
        for vct in vcts:
            coverage[vct] = coverage.get(vct, 0) + 1
    grouped: dict[str, list[str]] = {}
    for attribute in attributes:
        best = min(holders[attribute], key=lambda vct: (-coverage[vct], vct))
        grouped.setdefault(best, []).append(attribute)
    return {vct: tuple(names) for vct, names in sorted(grouped.items())}


__all__ = [
    "CLI_NOTICE_NL",
    "CLI_NOTICE_SHA256",
    "CLI_NOTICE_URI",
    "GDPR_CONSENT",
    "NO_RETENTION",
    "ParsedDuration",
    "holds",
    "legal_basis_iri",
    "locate_attributes",
    "parse_duration",
    "purpose_iri",
    "purpose_text",
    "retention_iso",
    "split_attributes",
    "validity_seconds",
]
