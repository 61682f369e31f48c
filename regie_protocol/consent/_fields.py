"""Strict readers for the members of a consent token, each naming the field it refuses.

Every reader takes a JSON value (already parsed by the strict decoder) and the
dotted path of the field, and returns a Python value or raises
:class:`ClaimRefused`: ``CLAIM_MISSING`` for an absent required member,
``CLAIM_INVALID`` for everything else. No coercion: ``true`` is not an
integer, ``"5"`` is not a number, a list is not a tuple of strings unless
every element is one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import ClaimRefused, Code

#: a canonical attribute id: ASCII lower-case segments joined by dots (T14)
_CLAIM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}(?:\.[a-z][a-z0-9_]{0,63}){0,3}")
#: an absolute URI: a scheme and printable ASCII without spaces, quotes or angle brackets
_URI = re.compile(r"[a-z][a-z0-9+.\-]*:[!#-;=?-\[\]_a-z~]+")
_B64URL_SHA256 = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
#: ids Regie writes (consent ids, request ids): URL-safe, short
_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")
_LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")
_DURATION = re.compile(
    r"P(?:([0-9]{1,5})Y)?(?:([0-9]{1,5})M)?(?:([0-9]{1,5})W)?(?:([0-9]{1,5})D)?"
    r"(?:T(?:([0-9]{1,5})H)?(?:([0-9]{1,5})M)?(?:([0-9]{1,5})S)?)?"
)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: longest free text (purpose wording) in characters
MAX_TEXT = 2000
MAX_URI = 512
MAX_ITEMS = 64
_MAX_INDEX = 2**31


def refuse(path: str, reason: str, *, code: Code = Code.CLAIM_INVALID) -> ClaimRefused:
    return ClaimRefused(f"consent token field {path!r}: {reason}", code=code)


def members(
    value: Any, path: str, *, required: frozenset[str], optional: frozenset[str] = frozenset()
) -> Mapping[str, Any]:
    """A JSON object with exactly the known members: unknown ones are refused."""
    if not isinstance(value, dict):
        raise refuse(path, "is not a JSON object")
    missing = required - value.keys()
    if missing:
        raise refuse(f"{path}.{sorted(missing)[0]}", "is missing", code=Code.CLAIM_MISSING)
    unknown = value.keys() - required - optional
    if unknown:
        raise refuse(path, f"has unknown member(s) {sorted(unknown)}")
    return value


def text(value: Any, path: str, *, max_len: int = MAX_TEXT) -> str:
    """Non-empty text without control characters other than a line feed."""
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise refuse(path, f"is not a non-empty string of at most {max_len} characters")
    if _CONTROL.search(value):
        raise refuse(path, "contains control characters")
    return value


def uri(value: Any, path: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_URI or not _URI.fullmatch(value):
        raise refuse(path, f"is not an absolute URI of at most {MAX_URI} ASCII characters")
    return value


def identifier(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise refuse(path, "is not an id of 1-128 characters from A-Z a-z 0-9 . _ ~ -")
    return value


def sha256_b64url(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _B64URL_SHA256.fullmatch(value):
        raise refuse(path, "is not a base64url SHA-256 digest (43 characters)")
    return value


def language(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _LANG.fullmatch(value):
        raise refuse(path, "is not a BCP 47 language tag such as 'nl' or 'en'")
    return value


def integer(value: Any, path: str, *, minimum: int, maximum: int = _MAX_INDEX) -> int:
    """An integer (``true``/``false`` and ``1.0`` are refused) within the bounds."""
    if type(value) is not int or not minimum <= value < maximum:
        raise refuse(path, f"is not an integer from {minimum} to {maximum - 1}")
    return value


def string_list(value: Any, path: str, *, item: Any, allow_empty: bool = False) -> tuple[str, ...]:
    """A JSON array of unique strings, each checked by ``item(value, path)``."""
    if not isinstance(value, list) or len(value) > MAX_ITEMS or (not value and not allow_empty):
        least = 0 if allow_empty else 1
        raise refuse(path, f"is not an array of {least} to {MAX_ITEMS} strings")
    items = tuple(item(element, f"{path}[{i}]") for i, element in enumerate(value))
    if len(set(items)) != len(items):
        raise refuse(path, "lists an element twice")
    return items


def claim_name(value: Any, path: str) -> str:
    """A canonical attribute id: ``[a-z][a-z0-9_]*`` segments, dotted paths like
    ``address.locality``. Wildcards, upper case, non-ASCII (NFD accents,
    Cyrillic look-alikes) are refused rather than normalised (T14)."""
    if not isinstance(value, str) or not _CLAIM_NAME.fullmatch(value):
        raise refuse(
            path, f"{value!r} is not a canonical attribute id ([a-z][a-z0-9_]*, dotted paths)"
        )
    return value


@dataclass(frozen=True, slots=True)
class Duration:
    """An ISO 8601 duration in Regie's strict subset ``PnYnMnWnD`` / ``PTnHnMnS``.

    Components are non-negative integers of at most 5 digits, in that order,
    each at most once; at least one is present, and ``T`` is followed by at
    least one time component. Fractions, signs, ``,`` and the alternative
    format (``P0001-02-03``) are refused. The original spelling is kept in
    ``text`` so a token round-trips byte for byte.
    """

    text: str
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def is_zero(self) -> bool:
        return not any(
            (self.years, self.months, self.weeks, self.days, self.hours, self.minutes, self.seconds)
        )

    @property
    def approx_seconds(self) -> int:
        """The length in seconds, counting a year as 365 days and a month as 30 days.

        For limits such as a read ``frequency``, where a calendar-exact length
        would make the allowed window depend on the date it starts.
        """
        days = self.years * 365 + self.months * 30 + self.weeks * 7 + self.days
        return ((days * 24 + self.hours) * 60 + self.minutes) * 60 + self.seconds

    @classmethod
    def parse(cls, value: Any, path: str = "duration") -> Duration:
        match = _DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None or value.endswith("T") or all(group is None for group in match.groups()):
            raise refuse(path, f"{value!r} is not an ISO 8601 duration like P30D, P1Y or PT12H")
        y, mo, w, d, h, mi, s = (int(group or 0) for group in match.groups())
        return cls(value, y, mo, w, d, h, mi, s)


def iso_date(value: Any, path: str) -> str:
    """A calendar date ``YYYY-MM-DD`` (the extended format only)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise refuse(path, "is not a date YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise refuse(path, f"{value!r} is not a calendar date") from None
    return value


__all__ = [
    "MAX_ITEMS",
    "MAX_TEXT",
    "MAX_URI",
    "Duration",
    "claim_name",
    "identifier",
    "integer",
    "iso_date",
    "language",
    "members",
    "refuse",
    "sha256_b64url",
    "string_list",
    "text",
    "uri",
]
