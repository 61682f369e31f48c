"""Three example authoritative sources with realistic claim schemas.

* the municipality's BRP (Basisregistratie Personen): name, birth date,
  address, nationality and the derived ``age_over_18`` / ``age_over_65``
  (computed by the source, so a verifier need not see a birth date);
* the tax office (Belastingdienst): income by year;
* the education registry (DUO): a diploma.

Identifiers use the reserved ``.example`` domain. The sample citizen is
fictitious.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .schemas import ClaimSpec, CredentialType, Kind

BRP_VCT = "https://credentials.regie.example/vct/brp-persoonsgegevens"
INCOME_VCT = "https://credentials.regie.example/vct/belastingdienst-inkomen"
DIPLOMA_VCT = "https://credentials.regie.example/vct/duo-diploma"

_S, _D, _I, _B, _O, _A = Kind.STRING, Kind.DATE, Kind.INTEGER, Kind.BOOLEAN, Kind.OBJECT, Kind.ARRAY

BRP_PERSON = CredentialType(
    vct=BRP_VCT,
    name_nl="Persoonsgegevens uit de BRP",
    name_en="Personal data from the BRP",
    claims=(
        ClaimSpec("given_name", _S, label_nl="Voornamen", label_en="Given names"),
        ClaimSpec("family_name", _S, label_nl="Achternaam", label_en="Family name"),
        ClaimSpec("birthdate", _D, label_nl="Geboortedatum", label_en="Date of birth"),
        ClaimSpec(
            "address",
            _O,
            label_nl="Adres",
            label_en="Address",
            members=(
                ClaimSpec("street_address", _S, label_nl="Straat en huisnummer"),
                ClaimSpec("postal_code", _S, label_nl="Postcode"),
                ClaimSpec("locality", _S, label_nl="Woonplaats"),
                ClaimSpec("country", _S, disclosable=False, label_nl="Land"),
            ),
        ),
        ClaimSpec(
            "nationalities",
            _A,
            items=_S,
            items_disclosable=True,
            label_nl="Nationaliteiten",
            label_en="Nationalities",
        ),
        ClaimSpec("age_over_18", _B, label_nl="18 jaar of ouder", label_en="Aged 18 or over"),
        ClaimSpec("age_over_65", _B, label_nl="65 jaar of ouder", label_en="Aged 65 or over"),
    ),
    validity=365 * 86400,
)

INCOME = CredentialType(
    vct=INCOME_VCT,
    name_nl="Inkomen per jaar (Belastingdienst)",
    name_en="Income by year (tax office)",
    claims=(
        ClaimSpec("given_name", _S, label_nl="Voornamen", label_en="Given names"),
        ClaimSpec("family_name", _S, label_nl="Achternaam", label_en="Family name"),
        ClaimSpec(
            "income_by_year",
            _O,
            values=_I,
            label_nl="Verzamelinkomen per jaar (euro)",
            label_en="Aggregate income by year (euro)",
        ),
    ),
    validity=180 * 86400,
)

DIPLOMA = CredentialType(
    vct=DIPLOMA_VCT,
    name_nl="Diploma (DUO)",
    name_en="Diploma (education registry)",
    claims=(
        ClaimSpec("given_name", _S, label_nl="Voornamen", label_en="Given names"),
        ClaimSpec("family_name", _S, label_nl="Achternaam", label_en="Family name"),
        ClaimSpec("birthdate", _D, label_nl="Geboortedatum", label_en="Date of birth"),
        ClaimSpec("diploma_name", _S, label_nl="Opleiding", label_en="Programme"),
        ClaimSpec("institution", _S, label_nl="Onderwijsinstelling", label_en="Institution"),
        ClaimSpec("nlqf_level", _I, label_nl="NLQF-niveau", label_en="NLQF level"),
        ClaimSpec("date_awarded", _D, label_nl="Datum diploma", label_en="Date awarded"),
    ),
    validity=10 * 365 * 86400,
)


@dataclass(frozen=True, slots=True)
class Source:
    """An authoritative source: its HTTPS identifier, its credential type, a sample record."""

    key: str
    issuer_id: str
    name: str
    ctype: CredentialType
    sample: Mapping[str, Any]


def _age_on(birthdate: str, today: dt.date) -> int:
    born = dt.date.fromisoformat(birthdate)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def with_derived_claims(vct: str, claims: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """Add the claims a source derives itself (BRP: age_over_18/65 from the birth date)."""
    result = dict(claims)
    if vct == BRP_VCT and "birthdate" in result:
        try:
            age = _age_on(str(result["birthdate"]), today)
        except ValueError:
            return result  # not a date: validate_claims refuses it with the claim's name
        result["age_over_18"] = age >= 18
        result["age_over_65"] = age >= 65
    return result


SOURCES: Mapping[str, Source] = {
    "brp": Source(
        key="brp",
        issuer_id="https://brp.gemeente-utrecht.example",
        name="Gemeente Utrecht — Basisregistratie Personen",
        ctype=BRP_PERSON,
        sample={
            "given_name": "Anna Maria",
            "family_name": "de Vries",
            "birthdate": "1958-04-12",
            "address": {
                "street_address": "Oudegracht 231",
                "postal_code": "3511 NK",
                "locality": "Utrecht",
                "country": "NL",
            },
            "nationalities": ["NL"],
        },
    ),
    "income": Source(
        key="income",
        issuer_id="https://belastingdienst.example",
        name="Belastingdienst",
        ctype=INCOME,
        sample={
            "given_name": "Anna Maria",
            "family_name": "de Vries",
            "income_by_year": {"2023": 38120, "2024": 39875, "2025": 41250},
        },
    ),
    "diploma": Source(
        key="diploma",
        issuer_id="https://duo.example",
        name="DUO — Dienst Uitvoering Onderwijs",
        ctype=DIPLOMA,
        sample={
            "given_name": "Anna Maria",
            "family_name": "de Vries",
            "birthdate": "1958-04-12",
            "diploma_name": "Verpleegkunde (hbo-bachelor)",
            "institution": "Hogeschool Utrecht",
            "nlqf_level": 6,
            "date_awarded": "1981-06-26",
        },
    ),
}

CREDENTIAL_TYPES: Mapping[str, CredentialType] = {s.ctype.vct: s.ctype for s in SOURCES.values()}

__all__ = [
    "BRP_PERSON",
    "BRP_VCT",
    "CREDENTIAL_TYPES",
    "DIPLOMA",
    "DIPLOMA_VCT",
    "INCOME",
    "INCOME_VCT",
    "SOURCES",
    "Source",
    "with_derived_claims",
]
