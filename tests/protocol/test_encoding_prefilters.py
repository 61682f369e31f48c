"""The cheap pre-checks of ``loads_strict`` (one folded copy: depth count, overflow search).

Every spelling of a number that overflows a double is refused, wherever the
number sits and however its exponent is written; text that only looks like such
a number (base64 digests, ``+`` between digits in a string) is accepted. Mixed
braces and brackets count together towards the depth limit.
"""

from __future__ import annotations

import pytest

from regie_protocol._encoding import loads_strict
from regie_protocol.errors import Code, MalformedInput

DEPTH = 16
#: a payload shaped like an SD-JWT's: digests whose base64 text contains "9e123"
GOOD = b'{"_sd":["x9e123Yq","Z1E+456w"],"n":[1e308,2,{"m":1.5E-400}],"s":"1+e000"}'


def test_positive_control() -> None:
    value = loads_strict(GOOD, max_depth=DEPTH)
    assert value["_sd"] == ["x9e123Yq", "Z1E+456w"]
    assert value["n"] == [1e308, 2, {"m": 0.0}]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(b"1e308", b"1e309", id="exponent-one-past-the-limit"),
        pytest.param(b"1e308", b"1E+400", id="capital-e-with-plus"),
        pytest.param(b"1e308", b"1.5e0400", id="fraction-and-leading-zero-exponent"),
        pytest.param(b"1e308", b"-12e00400", id="negative-two-leading-zeros"),
        pytest.param(b"1e308", b"1" + b"0" * 320 + b".0", id="320-integer-digits"),
        pytest.param(b"1e308", b"1" + b"0" * 210 + b".5e99", id="long-mantissa-2-digit-exp"),
        pytest.param(b"1.5E-400", b"1.5E+400", id="nested-in-object-in-array"),
    ],
)
def test_overflow_refused(old: bytes, new: bytes) -> None:
    assert old in GOOD
    raw = GOOD.replace(old, new, 1)
    with pytest.raises(MalformedInput) as caught:
        loads_strict(raw, max_depth=DEPTH)
    assert caught.value.code is Code.MALFORMED
    assert "overflows" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        pytest.param(b'{"a":[' * 8 + b"]}" * 8, True, id="16-mixed-levels"),
        pytest.param(b'{"a":[' * 8 + b"[]" + b"]}" * 8, False, id="17-mixed-levels"),
        pytest.param(b'{"a":"' + b"{[" * 20 + b'"}', True, id="brackets-in-a-string"),
    ],
)
def test_depth_counts_braces_and_brackets(raw: bytes, accepted: bool) -> None:
    if accepted:
        assert loads_strict(raw, max_depth=DEPTH) is not None
        return
    with pytest.raises(MalformedInput) as caught:
        loads_strict(raw, max_depth=DEPTH)
    assert caught.value.code is Code.DEPTH_EXCEEDED
