"""StatusList and the status list token API: bit layout, misuse, policy edges."""

from __future__ import annotations

import os
import types
import zlib

import pytest

from regie_protocol import statuslist
from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol._statuslist_bits import _CHUNK
from regie_protocol.errors import Code, MalformedInput, Misuse, StatusRefused
from regie_protocol.keys import SigningKey
from regie_protocol.limits import Limits
from regie_protocol.statuslist import (
    Status,
    StatusList,
    check_status,
    newer_than,
    sign_status_list,
    verify_status_list,
)

URI = "https://issuer.example/statuslists/1"


@pytest.mark.parametrize(
    ("bits", "entries", "expected"),
    [
        (1, {0: 1, 3: 1, 9: 1}, bytes([0b0000_1001, 0b0000_0010])),
        (2, {0: 1, 1: 2, 3: 3, 5: 3}, bytes([0b1100_1001, 0b0000_1100])),
        (4, {0: 0x1, 1: 0xA, 2: 0xF}, bytes([0xA1, 0x0F])),
        (8, {0: 0x42, 1: 0xFF}, bytes([0x42, 0xFF])),
    ],
    ids=["1-bit", "2-bit", "4-bit", "8-bit"],
)
def test_entries_are_packed_least_significant_bit_first(
    bits: statuslist.Bits, entries: dict[int, int], expected: bytes
) -> None:
    lst = StatusList(bits, len(expected) * 8 // bits)
    for idx, value in entries.items():
        lst.set(idx, value)
    assert lst.to_bytes() == expected
    assert all(lst.get(idx) == value for idx, value in entries.items())
    assert StatusList.from_bytes(bits, expected) == lst


def test_set_overwrites_only_its_own_bits() -> None:
    lst = StatusList(2, 8)
    for idx in range(8):
        lst.set(idx, 3)
    lst.set(5, 0)
    lst.set(2, 1)
    assert [lst.get(i) for i in range(8)] == [3, 3, 1, 3, 3, 0, 3, 3]


def test_size_rounds_up_to_whole_bytes_and_decodes_to_every_slot() -> None:
    lst = StatusList(1, 9)
    assert lst.size == 9
    assert len(lst.to_bytes()) == 2
    assert StatusList.decode(lst.encode()).size == 16


def test_encode_uses_zlib_at_the_highest_level() -> None:
    encoded = StatusList(1, 1024).encode()
    assert set(encoded) == {"bits", "lst"}
    assert b64url_decode(encoded["lst"])[:2] == b"\x78\xda"


def test_status_enum_values_are_written() -> None:
    lst = StatusList(2, 4)
    lst.set(1, Status.SUSPENDED)
    assert lst.get(1) == 2


@pytest.mark.parametrize("bits", [0, 3, 16, True, "1", 1.0])
def test_constructor_refuses_bits(bits: object) -> None:
    with pytest.raises(Misuse):
        StatusList(bits, 8)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -1, 1.5, True])
def test_constructor_refuses_size(size: object) -> None:
    with pytest.raises(Misuse):
        StatusList(1, size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("idx", "value"),
    [(8, 0), (-1, 0), (0, 4), (0, -1), (0, True), (True, 1), ("0", 1)],
    ids=["idx-too-big", "idx-negative", "value-too-big", "value-negative", "value-bool",
         "idx-bool", "idx-string"],
)  # fmt: skip
def test_set_refuses_with_misuse(idx: object, value: object) -> None:
    with pytest.raises(Misuse):
        StatusList(2, 8).set(idx, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("idx", ["0", 0.0, True, None])
def test_get_refuses_a_non_integer_index_as_misuse(idx: object) -> None:
    with pytest.raises(Misuse):
        StatusList(1, 8).get(idx)  # type: ignore[arg-type]


@pytest.mark.parametrize("idx", [8, -1, 2**64])
def test_get_refuses_an_index_outside_the_list(idx: int) -> None:
    with pytest.raises(StatusRefused) as raised:
        StatusList(1, 8).get(idx)
    assert raised.value.code == Code.STATUS_INDEX_OUT_OF_RANGE


def test_frozen_list_refuses_writes_and_copy_is_writable() -> None:
    lst = StatusList(1, 8)
    lst.freeze()
    assert lst.frozen
    with pytest.raises(Misuse):
        lst.set(0, 1)
    writable = lst.copy()
    writable.set(0, 1)
    assert writable.get(0) == 1
    assert lst.get(0) == 0


def test_from_bytes_refuses_empty_data() -> None:
    with pytest.raises(Misuse):
        StatusList.from_bytes(1, b"")


def test_decode_ignores_aggregation_uri_and_unknown_members() -> None:
    good = StatusList(1, 8).encode()
    for extra in ({"aggregation_uri": "https://issuer.example/agg"}, {"aggregation_uri": 7},
                  {"x-unknown": [1, 2]}):  # fmt: skip
        assert StatusList.decode({**good, **extra}) == StatusList(1, 8)


def test_decode_accepts_any_mapping() -> None:
    good = StatusList(4, 8).encode()
    assert StatusList.decode(types.MappingProxyType(good)) == StatusList(4, 8)


def test_decode_refuses_lst_longer_than_a_token_before_decoding_it() -> None:
    limits = Limits(max_status_list_token_bytes=64)
    good = StatusList(1, 8).encode()
    assert StatusList.decode(good, limits=limits) == StatusList(1, 8)
    with pytest.raises(MalformedInput) as raised:
        StatusList.decode({"bits": 1, "lst": "A" * 65}, limits=limits)
    assert raised.value.code == Code.SIZE_EXCEEDED


@pytest.mark.parametrize("offset", [-1, 0, 1])
@pytest.mark.parametrize("chunks", [1, 2])
def test_decode_across_inflate_chunk_boundaries(chunks: int, offset: int) -> None:
    data = os.urandom(chunks * _CHUNK + offset)
    obj = {"bits": 8, "lst": b64url_encode(zlib.compress(data, 9))}
    assert StatusList.decode(obj).to_bytes() == data
    with pytest.raises(MalformedInput) as raised:
        StatusList.decode(obj, limits=Limits(max_status_list_bytes=len(data) - 1))
    assert raised.value.code == Code.SIZE_EXCEEDED


def test_verified_list_is_read_only_and_reports_statuses(now: int) -> None:
    key = SigningKey.generate()
    lst = StatusList(2, 8)
    lst.set(1, 1)
    lst.set(2, 2)
    token = sign_status_list(lst, key=key, uri=URI, iat=now, exp=None, ttl=None)
    verified = verify_status_list(token.encode("ascii"), keys=key.public_key, uri=URI, now=now)
    assert (verified.exp, verified.ttl) == (None, None)
    assert verified.list.frozen
    assert [verified.status(i) for i in range(3)] == [
        Status.VALID, Status.INVALID, Status.SUSPENDED
    ]  # fmt: skip
    check_status(verified, 0)  # VALID: returns
    with pytest.raises(Misuse):
        verified.list.set(0, 1)


def test_token_without_exp_or_ttl_carries_neither(now: int) -> None:
    key = SigningKey.generate()
    token = sign_status_list(StatusList(1, 8), key=key, uri=URI, iat=now, exp=None, ttl=None)
    payload = token.split(".")[1]
    assert b'"exp"' not in b64url_decode(payload)
    assert b'"ttl"' not in b64url_decode(payload)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"uri": ""},
        {"iat": -1},
        {"iat": True},
        {"exp": 0},
        {"exp": 1_790_000_000},
        {"ttl": 0},
        {"ttl": 1.5},
    ],
    ids=["empty-uri", "negative-iat", "bool-iat", "exp-before-iat", "exp-equals-iat", "ttl-0",
         "ttl-float"],
)  # fmt: skip
def test_sign_refuses_misuse(kwargs: dict[str, object], now: int) -> None:
    arguments: dict[str, object] = {"uri": URI, "iat": now, "exp": now + 60, "ttl": 60}
    arguments.update(kwargs)
    with pytest.raises(Misuse):
        sign_status_list(StatusList(1, 8), key=SigningKey.generate(), **arguments)  # type: ignore[arg-type]


def test_verify_refuses_an_empty_uri_as_misuse(now: int) -> None:
    key = SigningKey.generate()
    token = sign_status_list(StatusList(1, 8), key=key, uri=URI, iat=now, exp=None, ttl=None)
    with pytest.raises(Misuse):
        verify_status_list(token, keys=key.public_key, uri="", now=now)


def test_newer_than(now: int) -> None:
    key = SigningKey.generate()

    def fetch(iat: int, uri: str = URI) -> statuslist.VerifiedStatusList:
        token = sign_status_list(StatusList(1, 8), key=key, uri=uri, iat=iat, exp=None, ttl=None)
        return verify_status_list(token, keys=key.public_key, uri=uri, now=now)

    newer_than(fetch(now), None)
    newer_than(fetch(now), fetch(now))  # the same list fetched again
    newer_than(fetch(now), fetch(now - 1))
    with pytest.raises(StatusRefused) as raised:
        newer_than(fetch(now - 1), fetch(now))
    assert raised.value.code == Code.STATUS_LIST_INVALID
    with pytest.raises(Misuse):
        newer_than(fetch(now), fetch(now, URI + "-other"))


def test_token_size_limit_follows_the_callers_limits(now: int) -> None:
    """A list that compresses badly: its token is over a small limit, under the default one."""
    key = SigningKey.generate()
    noisy = StatusList.from_bytes(8, os.urandom(4096))
    token = sign_status_list(noisy, key=key, uri=URI, iat=now, exp=None, ttl=None)
    assert verify_status_list(token, keys=key.public_key, uri=URI, now=now).list == noisy
    with pytest.raises(MalformedInput) as raised:
        verify_status_list(
            token,
            keys=key.public_key,
            uri=URI,
            now=now,
            limits=Limits(max_status_list_token_bytes=len(token) - 1),
        )
    assert raised.value.code == Code.SIZE_EXCEEDED


def test_public_surface() -> None:
    assert set(statuslist.__all__) == {
        "STATUS_LIST_PROFILE",
        "STATUS_LIST_TYP",
        "Bits",
        "Status",
        "StatusList",
        "VerifiedStatusList",
        "check_status",
        "newer_than",
        "sign_status_list",
        "verify_status_list",
    }
    assert statuslist.STATUS_LIST_TYP == "statuslist+jwt"
    assert statuslist.STATUS_LIST_PROFILE.required_claims == {"sub", "iat", "status_list"}
