"""Property tests: status list parsers refuse with typed errors only; set, encode, decode agree."""

from __future__ import annotations

import zlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie_protocol._encoding import b64url_encode
from regie_protocol.errors import Refused, StatusRefused
from regie_protocol.keys import SigningKey
from regie_protocol.limits import Limits
from regie_protocol.statuslist import StatusList, sign_status_list, verify_status_list
from tests.conftest import NOW

URI = "https://issuer.example/statuslists/1"
LIMITS = Limits(max_status_list_bytes=4096)
KEY = SigningKey.generate()
_good = StatusList(2, 256)
_good.set(3, 1)
GOOD_TOKEN = sign_status_list(_good, key=KEY, uri=URI, iat=NOW - 60, exp=NOW + 600, ttl=60)
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
lst_values = st.one_of(
    json_values,
    st.text(max_size=200),
    st.text(alphabet=TOKEN_ALPHABET, max_size=200),
    st.binary(max_size=300).map(b64url_encode),
    st.binary(max_size=5000).map(lambda b: b64url_encode(zlib.compress(b))),
    st.binary(max_size=300).map(lambda b: b64url_encode(b"\x78\xda" + b)),
)
status_list_objects = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"bits": st.one_of(st.sampled_from([1, 2, 4, 8]), json_values), "lst": lst_values},
        optional={"aggregation_uri": json_values},
    ),
)


@settings(max_examples=400, deadline=None)
@given(obj=status_list_objects, idx=st.integers(min_value=-(2**70), max_value=2**70))
def test_decode_refuses_only_with_typed_errors(obj: Any, idx: int) -> None:
    try:
        lst = StatusList.decode(obj, limits=LIMITS)
    except Refused:
        return
    assert 1 <= lst.size <= LIMITS.max_status_list_bytes * 8
    try:
        value = lst.get(idx)
    except StatusRefused:
        assert not 0 <= idx < lst.size
    else:
        assert 0 <= value < 2**lst.bits


def _mutate(token: str, position: int, replacement: str, mode: int) -> str:
    position %= len(token) + 1
    if mode == 0:
        return token[:position] + replacement + token[position + 1 :]
    if mode == 1:
        return token[:position] + replacement + token[position:]
    if mode == 2:
        return token[:position]
    return token[:position] + token[position + 1 :]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400),
        st.text(alphabet=TOKEN_ALPHABET, max_size=400),
        st.builds(
            _mutate,
            st.just(GOOD_TOKEN),
            st.integers(min_value=0),
            st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=3),
            st.integers(min_value=0, max_value=3),
        ),
    ),
    uri=st.sampled_from([URI, URI + "/2"]),
    now=st.sampled_from([NOW, NOW + 10**6]),
)
def test_verify_refuses_only_with_typed_errors(token: str | bytes, uri: str, now: int) -> None:
    try:
        verified = verify_status_list(token, keys=KEY.public_key, uri=uri, now=now, limits=LIMITS)
    except Refused:
        return
    # only the good token itself (or an equivalent spelling) may pass
    assert verified.list == _good
    assert verified.uri == URI


@settings(max_examples=200, deadline=None)
@given(data=st.data(), bits=st.sampled_from([1, 2, 4, 8]), size=st.integers(1, 4096))
def test_set_encode_decode_round_trips(data: st.DataObject, bits: int, size: int) -> None:
    entries = data.draw(
        st.dictionaries(
            st.integers(0, size - 1), st.integers(0, (1 << bits) - 1), max_size=min(size, 64)
        )
    )
    lst = StatusList(bits, size)  # type: ignore[arg-type]
    for idx, value in entries.items():
        lst.set(idx, value)
    decoded = StatusList.decode(lst.encode())
    assert decoded.bits == bits
    assert size <= decoded.size < size + 8 // bits
    assert [decoded.get(i) for i in range(size)] == [entries.get(i, 0) for i in range(size)]
    assert all(decoded.get(i) == 0 for i in range(size, decoded.size))
    assert decoded.to_bytes() == lst.to_bytes()
