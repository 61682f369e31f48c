"""Strict base64url and strict JSON: round trips, canonical spelling only, typed refusals.

Property tests (Hypothesis) check that every byte string survives a round trip,
that every other spelling of the same bytes is refused, and that arbitrary
input only ever raises :class:`MalformedInput`.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from regie_protocol._encoding import b64url_decode, b64url_encode, dumps_compact, loads_strict
from regie_protocol.errors import Code, MalformedInput

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
DEPTH = 16
FAST = settings(max_examples=300, deadline=None)


def attempt(call: Callable[..., Any], *args: Any) -> tuple[Any, MalformedInput | None]:
    """Call; return (result, None) or (None, the MalformedInput). Any other exception escapes."""
    try:
        return call(*args), None
    except MalformedInput as error:
        return None, error


# --- base64url --------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=300))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert set(text) <= set(ALPHABET)
    assert b64url_decode(text) == data
    assert b64url_decode(text.encode("ascii")) == data
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")


@FAST
@given(st.binary(min_size=1, max_size=100), st.data())
def test_b64url_other_spellings_of_the_same_bytes_refused(data: bytes, draw: st.DataObject) -> None:
    """Padding, the standard alphabet and set trailing bits all decode leniently elsewhere."""
    text = b64url_encode(data)
    variants = [text + "=" * (-len(text) % 4 or 4), text + "=", " " + text, text + "\n"]
    standard = text.replace("-", "+").replace("_", "/")
    if standard != text:
        variants.append(standard)
    if len(text) % 4 in (2, 3):
        mask = 0x0F if len(text) % 4 == 2 else 0x03
        bits = draw.draw(st.integers(1, mask))
        last = ALPHABET[ALPHABET.index(text[-1]) | bits]
        assert base64.urlsafe_b64decode(text[:-1] + last + "==") == data  # lenient decoders agree
        variants.append(text[:-1] + last)
    for variant in variants:
        with pytest.raises(MalformedInput) as caught:
            b64url_decode(variant)
        assert caught.value.code is Code.MALFORMED


@FAST
@given(st.text(max_size=60))
@example("A")
@example("AAAAA")
@example("é")
@example("\x00")
def test_b64url_decode_text_only_malformed(text: str) -> None:
    result, error = attempt(b64url_decode, text)
    if error is not None:
        assert error.code is Code.MALFORMED
    else:
        assert b64url_encode(result) == text  # anything accepted is the canonical spelling


@FAST
@given(st.binary(max_size=60))
def test_b64url_decode_bytes_only_malformed(raw: bytes) -> None:
    result, error = attempt(b64url_decode, raw)
    if error is not None:
        assert error.code is Code.MALFORMED
    else:
        assert b64url_encode(result).encode("ascii") == raw


@pytest.mark.parametrize(
    "text",
    ["A", "AAAAA", "AB", "AAB", "AA==", "AA=", "A===", "+/8", "AA AA", "AA\tA", "AÁ", "Zm9v\n"],
)
def test_b64url_refusals(text: str) -> None:
    with pytest.raises(MalformedInput):
        b64url_decode(text)


def test_b64url_accepts_canonical_edges() -> None:
    assert b64url_decode("") == b""
    assert b64url_decode("AA") == b"\x00"
    assert b64url_decode("AAA") == b"\x00\x00"
    assert b64url_decode("-_8") == b"\xfb\xff"


# --- strict JSON ------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


@FAST
@given(json_values)
def test_json_round_trip(value: Any) -> None:
    raw = dumps_compact(value)
    if _depth(value) > DEPTH:
        return
    assert _same(loads_strict(raw, max_depth=DEPTH), value)
    assert loads_strict(json.dumps(value, indent=1).encode(), max_depth=DEPTH) == value


def _with_duplicate(value: Any, path: list[int]) -> str:
    """JSON text of ``value`` wrapped so that one object, ``len(path)`` deep, repeats a name."""
    text = '{"dup":1,"dup":' + json.dumps(value) + "}"
    for step in path:
        text = '{"k":' + text + "}" if step % 2 else "[" + text + "]"
    return text


@FAST
@given(json_values, st.lists(st.integers(0, 1), max_size=8))
def test_duplicates_refused_at_any_depth(value: Any, path: list[int]) -> None:
    text = _with_duplicate(value, path)
    if _depth(json.loads(text)) + 1 > DEPTH:
        return
    with pytest.raises(MalformedInput) as caught:
        loads_strict(text.encode(), max_depth=DEPTH)
    assert caught.value.code is Code.DUPLICATE_MEMBER


@FAST
@given(st.binary(max_size=200))
@example(b'{"a":NaN}')
@example(b"[Infinity]")
@example(b'"\\ud800"')
@example(b"\xef\xbb\xbf{}")
@example(b"[" * 40 + b"]" * 40)
@example(b'{"a":1,"a":1}')
@example(b"[1e400]")
@example(b"9" * 5000)
def test_arbitrary_bytes_only_malformed(raw: bytes) -> None:
    _, error = attempt(lambda: loads_strict(raw, max_depth=DEPTH))
    if error is not None:
        assert error.code in {Code.MALFORMED, Code.DEPTH_EXCEEDED, Code.DUPLICATE_MEMBER}


@FAST
@given(st.text(max_size=200))
def test_arbitrary_text_only_malformed(text: str) -> None:
    attempt(lambda: loads_strict(text.encode("utf-8", "surrogatepass"), max_depth=DEPTH))


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param(b'{"a":NaN}', Code.MALFORMED, id="NaN"),
        pytest.param(b'{"a":-Infinity}', Code.MALFORMED, id="-Infinity"),
        pytest.param(b'{"a":"\\ud800"}', Code.MALFORMED, id="lone-surrogate"),
        pytest.param(b'{"\\udfff":1}', Code.MALFORMED, id="lone-surrogate-in-name"),
        pytest.param(b'["\\uD83D"]', Code.MALFORMED, id="uppercase-escape-surrogate"),
        pytest.param(b'{"a":"\xed\xa0\x80"}', Code.MALFORMED, id="surrogate-in-utf8"),
        pytest.param(b"\xef\xbb\xbf{}", Code.MALFORMED, id="bom"),
        pytest.param('{"a":1}'.encode("utf-16"), Code.MALFORMED, id="utf-16"),
        pytest.param(b'{"a":1,"a":1}', Code.DUPLICATE_MEMBER, id="duplicate-same-value"),
        pytest.param(b'[{"b":{"c":1,"c":2}}]', Code.DUPLICATE_MEMBER, id="duplicate-nested"),
        pytest.param(b"[" * 17 + b"]" * 17, Code.DEPTH_EXCEEDED, id="depth-17"),
        pytest.param(b"[" * 100_000, Code.DEPTH_EXCEEDED, id="depth-100k-unclosed"),
        pytest.param(b"{}{}", Code.MALFORMED, id="two-values"),
        pytest.param(b'{"a":1e400}', Code.MALFORMED, id="float-overflow-to-infinity"),
        pytest.param(b"[-1e999]", Code.MALFORMED, id="float-overflow-to-minus-infinity"),
        pytest.param(
            b"[1" + b"9" * 250 + b"e99]", Code.MALFORMED, id="float-overflow-long-mantissa"
        ),
        pytest.param(b'{"a":1,"\\u0061":2}', Code.DUPLICATE_MEMBER, id="duplicate-via-escape"),
        pytest.param(b"[" + b"9" * 4301 + b"]", Code.MALFORMED, id="integer-over-4300-digits"),
        pytest.param(b"", Code.MALFORMED, id="empty"),
    ],
)
def test_json_refusals(raw: bytes, code: Code) -> None:
    with pytest.raises(MalformedInput) as caught:
        loads_strict(raw, max_depth=DEPTH)
    assert caught.value.code is code


def test_json_accepts_edges() -> None:
    assert loads_strict(b"[" * 16 + b"]" * 16, max_depth=DEPTH) is not None
    assert loads_strict(b'{"a":"[[[[[[[[[[[[[[[[[[[[[["}', max_depth=DEPTH) == {"a": "[" * 22}
    assert loads_strict(b'["\\ud83d\\ude00"]', max_depth=DEPTH) == ["\U0001f600"]
    assert loads_strict(b'{"a":"\\\\ud800"}', max_depth=DEPTH) == {"a": "\\ud800"}
    assert loads_strict(b"[1.5e308, 1e-400, -0.0]", max_depth=DEPTH) == [1.5e308, 0.0, -0.0]
    assert loads_strict(b"[" + b"9" * 4300 + b"]", max_depth=DEPTH) == [int("9" * 4300)]


def test_dumps_compact_refuses_non_finite() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        dumps_compact({"a": math.nan})
    assert dumps_compact({"a": "é", "b": [1]}) == '{"a":"é","b":[1]}'.encode()
