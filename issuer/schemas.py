"""Credential types (``vct``) and their claim schemas.

A schema says which claims exist, what shape each has, and which are
selectively disclosable — for objects, member by member; for arrays, element
by element. Claims handed to the issuer are checked against it before
anything is signed: an unknown claim, a wrong type or a missing required claim
is refused with the claim's name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from regie_protocol.errors import ClaimRefused, Code
from regie_protocol.sdjwt import SD

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Kind(StrEnum):
    STRING = "string"
    DATE = "date"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    name: str
    kind: Kind
    required: bool = True
    #: the claim itself can be left out of a presentation
    disclosable: bool = True
    #: members of an object claim
    members: tuple[ClaimSpec, ...] = ()
    #: objects whose member names are data (e.g. years): the kind of every value
    values: Kind | None = None
    #: arrays: the kind of each element and whether each element is disclosable on its own
    items: Kind | None = None
    items_disclosable: bool = False
    label_nl: str = ""
    label_en: str = ""


@dataclass(frozen=True, slots=True)
class CredentialType:
    vct: str
    name_nl: str
    name_en: str
    claims: tuple[ClaimSpec, ...]
    #: seconds a credential of this type stays valid
    validity: int = 365 * 86400
    display: Mapping[str, str] = field(default_factory=dict)

    def claim(self, name: str) -> ClaimSpec:
        for spec in self.claims:
            if spec.name == name:
                return spec
        raise ClaimRefused(f"{self.vct} has no claim {name!r}")

    def metadata(self) -> dict[str, Any]:
        """SD-JWT VC type metadata (display names and claim paths)."""
        return {
            "vct": self.vct,
            "name": self.name_en,
            "display": [
                {"lang": "nl-NL", "name": self.name_nl},
                {"lang": "en-US", "name": self.name_en},
            ],
            "claims": [
                {
                    "path": [spec.name],
                    "display": [
                        {"lang": "nl-NL", "label": spec.label_nl or spec.name},
                        {"lang": "en-US", "label": spec.label_en or spec.name},
                    ],
                    "sd": "allowed" if spec.disclosable else "never",
                }
                for spec in self.claims
            ],
        }


def _check_value(path: str, spec_kind: Kind, value: Any) -> None:
    ok: bool
    if spec_kind is Kind.STRING:
        ok = isinstance(value, str) and 0 < len(value) <= 1000
    elif spec_kind is Kind.DATE:
        ok = isinstance(value, str) and _DATE.fullmatch(value) is not None and _valid_date(value)
    elif spec_kind is Kind.INTEGER:
        ok = type(value) is int
    elif spec_kind is Kind.BOOLEAN:
        ok = type(value) is bool
    elif spec_kind is Kind.OBJECT:
        ok = isinstance(value, dict)
    else:
        ok = isinstance(value, list)
    if not ok:
        raise ClaimRefused(f"claim {path!r} must be a {spec_kind.value}", code=Code.CLAIM_INVALID)


def _valid_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_object(path: str, specs: Sequence[ClaimSpec], claims: Mapping[str, Any]) -> None:
    known = {spec.name for spec in specs}
    unknown = sorted(set(claims) - known)
    if unknown:
        raise ClaimRefused(f"unknown claim(s) {', '.join(path + u for u in unknown)}")
    for spec in specs:
        if spec.name not in claims:
            if spec.required:
                raise ClaimRefused(
                    f"claim {path + spec.name!r} is missing", code=Code.CLAIM_MISSING
                )
            continue
        _check_claim(path + spec.name, spec, claims[spec.name])


def _check_claim(path: str, spec: ClaimSpec, value: Any) -> None:
    _check_value(path, spec.kind, value)
    if spec.kind is Kind.OBJECT and spec.members:
        _check_object(path + ".", spec.members, value)
    elif spec.kind is Kind.OBJECT and spec.values is not None:
        for key, item in value.items():
            _check_value(f"{path}.{key}", spec.values, item)
    elif spec.kind is Kind.ARRAY and spec.items is not None:
        for index, item in enumerate(value):
            _check_value(f"{path}[{index}]", spec.items, item)


def validate_claims(ctype: CredentialType, claims: Mapping[str, Any]) -> None:
    """Refuse claims that do not fit the type's schema (unknown, missing, wrong type)."""
    _check_object("", ctype.claims, claims)


def mark_disclosable(
    ctype: CredentialType, claims: Mapping[str, Any], top_level: Sequence[str] | None
) -> dict[str, Any]:
    """Wrap claims in :class:`SD` as the schema allows.

    ``top_level`` names the top-level claims to make disclosable (``None``: all
    the schema allows). Nested members and array elements follow the schema.
    """
    chosen = (
        {s.name for s in ctype.claims if s.disclosable} if top_level is None else set(top_level)
    )
    for name in chosen:
        spec = ctype.claim(name)
        if not spec.disclosable:
            raise ClaimRefused(f"claim {name!r} of {ctype.vct} is never selectively disclosable")
    result: dict[str, Any] = {}
    for name, value in claims.items():
        spec = ctype.claim(name)
        inner = _mark_inner(spec, value)
        result[name] = SD(inner) if name in chosen else inner
    return result


def _mark_inner(spec: ClaimSpec, value: Any) -> Any:
    if spec.kind is Kind.OBJECT and spec.members:
        by_name = {m.name: m for m in spec.members}
        return {
            k: SD(_mark_inner(by_name[k], v)) if by_name[k].disclosable else v
            for k, v in value.items()
        }
    if spec.kind is Kind.OBJECT and spec.values is not None and spec.disclosable:
        return {k: SD(v) for k, v in value.items()}
    if spec.kind is Kind.ARRAY and spec.items_disclosable:
        return [SD(v) for v in value]
    return value


__all__ = [
    "ClaimSpec",
    "CredentialType",
    "Kind",
    "mark_disclosable",
    "validate_claims",
]
