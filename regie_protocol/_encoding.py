"""Strict decoding of untrusted bytes: base64url and JSON.

Everything here runs *before* any data reaches a JOSE library or business code,
so parser differentials (T5) cannot arise: base64url without padding and with
canonical trailing bits only, UTF-8 only, no duplicate member names, no
NaN/Infinity, no lone surrogates, bounded nesting.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

import jiter

from .errors import Code, MalformedInput

_TO_STD = bytes.maketrans(b"-_", b"+/")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {byte: index for index, byte in enumerate(_ALPHABET)}
_PAD = {0: b"", 2: b"==", 3: b"="}
_PAD_STR = {0: "", 2: "==", 3: "="}
#: One pass folds what the cheap pre-checks look for. Nesting: "{" is mapped to "[", so
#: one count bounds the depth. Overflow: a number that overflows a double has a 3-digit
#: exponent after a digit (JSON allows nothing else before the e) or, with a 2-digit
#: one, 200+ digits; with every digit mapped to 0, E to e and "+" deleted, a plain
#: substring search finds both. Strings may match too (base64 text now and then; also
#: where a deleted "+" joins two runs), which only costs a walk over the parsed value.
_FOLD = bytes.maketrans(b"123456789E{", b"000000000e[")
_MANY_DIGITS = b"0" * 200


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes, *, what: str = "value") -> bytes:
    """Decode base64url without padding; refuse every non-canonical spelling."""
    tail = len(text) % 4
    # '+', '/' and '=' would pass the strict standard-alphabet decoder below
    if isinstance(text, str):
        if tail == 1 or "+" in text or "/" in text or "=" in text or not text.isascii():
            raise MalformedInput(f"{what} is not base64url without padding")
        standard: str | bytes = text.replace("-", "+").replace("_", "/") + _PAD_STR[tail]
        last = ord(text[-1]) if text else 0
    else:
        if tail == 1 or b"+" in text or b"/" in text or b"=" in text:
            raise MalformedInput(f"{what} is not base64url without padding")
        standard = text.translate(_TO_STD) + _PAD[tail]
        last = text[-1] if text else 0
    try:
        data = binascii.a2b_base64(standard, strict_mode=True)
    except binascii.Error:
        raise MalformedInput(f"{what} is not base64url without padding") from None
    # the unused low bits of the last character must be zero (RFC 4648 §3.5)
    if tail and _VALUE[last] & (0x0F if tail == 2 else 0x03):
        raise MalformedInput(f"{what} is not canonical base64url (trailing bits set)")
    return data


def _structural_depth(raw: bytes) -> int:
    """Maximum nesting of [ and { outside strings (slow path, rare inputs only)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is float:
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads_strict(raw: bytes, *, max_depth: int, what: str = "JSON") -> Any:
    """Parse UTF-8 JSON strictly. Raises :class:`MalformedInput` on anything odd.

    jiter (the pydantic team's Rust JSON parser) refuses duplicate member
    names (also when spelled with escapes), NaN/Infinity, lone surrogates and
    invalid UTF-8; Regie adds the depth limit and refuses numbers that
    overflow a double (jiter reads ``1e400`` as infinity).
    """
    folded = raw.translate(_FOLD, b"+")
    if folded.count(b"[") > max_depth and _structural_depth(raw) > max_depth:
        raise MalformedInput(
            f"{what} nests deeper than {max_depth} levels", code=Code.DEPTH_EXCEEDED
        )
    try:
        value = jiter.from_json(
            raw, allow_inf_nan=False, catch_duplicate_keys=True, cache_mode="keys"
        )
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith("Detected duplicate key"):
            raise MalformedInput(
                f"{what} has a duplicate member name ({reason})", code=Code.DUPLICATE_MEMBER
            ) from None
        raise MalformedInput(f"{what} is not valid JSON ({reason})") from None
    # find(), not ``in``: ``in`` on bytes first tries the needle as an int and raises inside
    if (
        folded.find(b"0e000") >= 0 or (len(folded) >= 200 and folded.find(_MANY_DIGITS) >= 0)
    ) and _has_non_finite(value):
        raise MalformedInput(f"{what} contains a number that overflows a double")
    return value


def dumps_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON as Regie writes it (not canonical; see RFC 8785 for the log)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )
