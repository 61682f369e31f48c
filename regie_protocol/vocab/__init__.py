"""The W3C Data Privacy Vocabulary (DPV 2.3) terms a consent token may name.

* :func:`purposes` — DPV purposes (``https://w3id.org/dpv#ServiceProvision`` …):
  every *class* whose DPV type is ``dpv:Purpose``. The top concept ``dpv:Purpose``
  itself, ``dpv:Sector`` and the properties are not purposes a citizen can
  consent to, so they are left out (121 terms).
* :func:`legal_bases` — the generic DPV legal bases (``dpv:Consent``,
  ``dpv:LegalObligation``, ``dpv:PublicInterest`` …) and the GDPR Art. 6(1)
  ones (``https://w3id.org/dpv/legal/eu/gdpr#A6-1-e`` …): every class whose DPV
  type is ``dpv:LegalBasis`` (15 + 17 terms; the abstract ``dpv:LegalBasis`` is
  left out).
* :class:`ConsentState` — the consent states Regie uses, each mapped to its
  DPV IRI (see the class for ``suspended``, which DPV 2.3 does not name).

IRIs are compared exactly (case, scheme and ``#`` included): a look-alike
spelling is an unknown term. The CSV files are package data under
``data/`` (W3C Software and Document License), read once on first use.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType

from ..errors import ClaimRefused, Code

DPV = "https://w3id.org/dpv#"
GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"
_PURPOSE_TYPE = DPV + "Purpose"
_LEGAL_BASIS_TYPE = DPV + "LegalBasis"
_CONSENT_STATUS_TYPE = DPV + "ConsentStatus"


@dataclass(frozen=True, slots=True)
class Term:
    """One DPV concept: its IRI and the English label and definition DPV gives it."""

    iri: str
    label: str
    definition: str


def _rows(filename: str, dpvtype: str) -> dict[str, Term]:
    text = resources.files(__package__).joinpath("data", filename).read_text(encoding="utf-8")
    return {
        row["iri"]: Term(iri=row["iri"], label=row["label"], definition=row["definition"])
        for row in csv.DictReader(io.StringIO(text, newline=""))
        if row["type"] == "class" and row["dpvtype"] == dpvtype
    }


@cache
def purposes() -> Mapping[str, Term]:
    """DPV purposes by IRI (read-only)."""
    return MappingProxyType(_rows("dpv-purposes.csv", _PURPOSE_TYPE))


@cache
def legal_bases() -> Mapping[str, Term]:
    """DPV and GDPR Art. 6 legal bases by IRI (read-only)."""
    terms = _rows("dpv-legal_basis.csv", _LEGAL_BASIS_TYPE)
    terms.update(_rows("legal-eu-gdpr-legal_basis.csv", _LEGAL_BASIS_TYPE))
    return MappingProxyType(terms)


@cache
def consent_statuses() -> Mapping[str, Term]:
    """DPV consent status concepts by IRI (read-only), for labels and checks."""
    return MappingProxyType(_rows("dpv-consent_status.csv", _CONSENT_STATUS_TYPE))


def is_purpose(iri: object) -> bool:
    return isinstance(iri, str) and iri in purposes()


def is_legal_basis(iri: object) -> bool:
    return isinstance(iri, str) and iri in legal_bases()


def require_purpose(iri: object, *, field: str = "purpose") -> Term:
    """The DPV purpose named by ``iri``; anything else is refused (:class:`ClaimRefused`)."""
    term = purposes().get(iri) if isinstance(iri, str) else None
    if term is None:
        raise ClaimRefused(
            f"{field} {iri!r} is not a W3C DPV 2.3 purpose IRI (https://w3id.org/dpv#...)",
            code=Code.CLAIM_INVALID,
        )
    return term


def require_legal_basis(iri: object, *, field: str = "legal_basis") -> Term:
    """The DPV / GDPR legal basis named by ``iri``; anything else is refused."""
    term = legal_bases().get(iri) if isinstance(iri, str) else None
    if term is None:
        raise ClaimRefused(
            f"{field} {iri!r} is not a W3C DPV 2.3 legal basis IRI "
            "(https://w3id.org/dpv#... or https://w3id.org/dpv/legal/eu/gdpr#A6-1-...)",
            code=Code.CLAIM_INVALID,
        )
    return term


class ConsentState(StrEnum):
    """The life-cycle states of a consent (DESIGN "Consent token fields").

    ``withdrawn`` is ended by the citizen (``dpv:ConsentWithdrawn``), ``revoked``
    by someone else (``dpv:ConsentRevoked``). DPV 2.3 has no term for a
    temporary hold, so ``suspended`` maps to the broader
    ``dpv:ConsentStatusInvalidForProcessing`` ("states of consent that cannot be
    used as valid justifications for processing data"); Regie's own record
    keeps the word ``suspended``.
    """

    REQUESTED = "requested"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUSPENDED = "suspended"

    @property
    def iri(self) -> str:
        return _STATE_IRIS[self]

    @property
    def valid_for_processing(self) -> bool:
        """Only a given consent allows processing."""
        return self is ConsentState.GIVEN

    @classmethod
    def from_iri(cls, iri: str) -> ConsentState:
        """The state for a DPV IRI; an IRI Regie does not use is refused."""
        for state, known in _STATE_IRIS.items():
            if known == iri:
                return state
        raise ClaimRefused(f"{iri!r} is not a consent state Regie uses", code=Code.CLAIM_INVALID)


_STATE_IRIS: Mapping[ConsentState, str] = MappingProxyType(
    {
        ConsentState.REQUESTED: DPV + "ConsentRequested",
        ConsentState.GIVEN: DPV + "ConsentGiven",
        ConsentState.REFUSED: DPV + "ConsentRefused",
        ConsentState.WITHDRAWN: DPV + "ConsentWithdrawn",
        ConsentState.REVOKED: DPV + "ConsentRevoked",
        ConsentState.EXPIRED: DPV + "ConsentExpired",
        ConsentState.SUSPENDED: DPV + "ConsentStatusInvalidForProcessing",
    }
)

__all__ = [
    "DPV",
    "GDPR",
    "ConsentState",
    "Term",
    "consent_statuses",
    "is_legal_basis",
    "is_purpose",
    "legal_bases",
    "purposes",
    "require_legal_basis",
    "require_purpose",
]
