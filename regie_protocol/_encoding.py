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
import re
from typing import Any

from .errors import Code, MalformedInput

_TO_STD = bytes.maketrans(b"-_", b"+/")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {byte: index for index, byte in enumerate(_ALPHABET)}
_PAD = {0: b"", 2: b"==", 3: b"="}
_PAD_STR = {0: "", 2: "==", 3: "="}
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


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


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedInput(
                    f"duplicate JSON member name {key!r}", code=Code.DUPLICATE_MEMBER
                )
            seen.add(key)
    return result


def _refuse_constant(name: str) -> Any:
    raise MalformedInput(f"JSON contains the non-finite number {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to inf without passing parse_constant
        raise MalformedInput(f"JSON contains the number {text[:20]!r}, which overflows a double")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant, parse_float=_finite_float
)


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


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads_strict(raw: bytes, *, max_depth: int, what: str = "JSON") -> Any:
    """Parse UTF-8 JSON strictly. Raises :class:`MalformedInput` on anything odd."""
    if raw.count(b"[") + raw.count(b"{") > max_depth and _structural_depth(raw) > max_depth:
        raise MalformedInput(
            f"{what} nests deeper than {max_depth} levels", code=Code.DEPTH_EXCEEDED
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput(f"{what} is not UTF-8") from exc
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"{what} is not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:  # pragma: no cover - depth is checked above
        raise MalformedInput(f"{what} nests too deep", code=Code.DEPTH_EXCEEDED) from exc
    except ValueError as exc:  # an integer over Python's 4300-digit conversion limit
        raise MalformedInput(f"{what} contains a number too long to read") from exc
    if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise MalformedInput(f"{what} contains a lone UTF-16 surrogate")
    return value


def dumps_compact(value: Any) -> bytes:
    """Compact UTF-8 JSON as Regie writes it (not canonical; see RFC 8785 for the log)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )
