"""Master key, passphrase and KDF header: unlock, the same refusal for every failure, the floor.

T25 / VA-11..16. Argon2id runs at libsodium's minimum cost here (``unsafe_fast_for_tests``
with ``KdfFloor.unsafe_accept_test_params``); one test runs the real default once.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie_protocol.errors import ClaimRefused, Code, KeyRefused, Misuse, RegieError
from wallet.vault import (
    UNLOCK_REFUSED,
    KdfFloor,
    KdfParams,
    MasterKey,
    VaultPassphrase,
    WrappedMasterKey,
    generate_master_key,
    rewrap_master_key,
    unlock,
    wrap_master_key,
)
from wallet.vault._kdf import HEADER_BYTES

NEW_PASSPHRASE = "fiets huis boom kat"
TEST_FLOOR = KdfFloor.unsafe_accept_test_params()


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes((data[index] ^ 0x01,)) + data[index + 1 :]


def _set_header(stored: bytes, opslimit: int, memlimit: int) -> bytes:
    return stored[:5] + struct.pack(">IQ", opslimit, memlimit) + stored[17:]


def test_unlock_round_trip(
    master: MasterKey, passphrase: VaultPassphrase, stored_master: bytes
) -> None:
    assert len(stored_master) == 113
    assert unlock(stored_master, passphrase, floor=TEST_FLOOR) == master
    parsed = WrappedMasterKey.from_bytes(stored_master, floor=TEST_FLOOR)
    assert parsed.to_bytes() == stored_master
    assert unlock(parsed, passphrase, floor=TEST_FLOOR) == master


# every way to fail unlocking gives one class, one code, one message (VA-11..13)
SAME_REFUSAL_CASES = [
    pytest.param(lambda b: b, "kat boom huis fietz", id="VA-11-wrong-passphrase"),
    pytest.param(lambda b: b, "", id="VA-11-empty-passphrase"),
    pytest.param(lambda b: _flip(b, HEADER_BYTES - 1), None, id="VA-12-flipped-bit-salt"),
    pytest.param(lambda b: _flip(b, HEADER_BYTES + 2), None, id="VA-12-flipped-bit-key-id"),
    pytest.param(lambda b: _flip(b, HEADER_BYTES + 10), None, id="VA-12-flipped-bit-nonce"),
    pytest.param(lambda b: _flip(b, len(b) - 20), None, id="VA-12-flipped-bit-wrapped-key"),
    pytest.param(lambda b: _flip(b, len(b) - 1), None, id="VA-12-flipped-bit-tag"),
    pytest.param(lambda b: _flip(b, 0), None, id="VA-13-corrupt-header-magic"),
    pytest.param(lambda b: b[:4] + b"\x02" + b[5:], None, id="VA-13-unknown-header-version"),
    pytest.param(lambda b: _set_header(b, 2, 8192), None, id="VA-13-header-raised-opslimit"),
    pytest.param(lambda b: _set_header(b, 1, 16384), None, id="VA-13-header-raised-memlimit"),
    pytest.param(lambda b: _set_header(b, 17, 8192), None, id="VA-13-header-above-ceiling-ops"),
    pytest.param(lambda b: _set_header(b, 1, 1 << 40), None, id="VA-13-header-above-ceiling-mem"),
    pytest.param(lambda b: b[:-1], None, id="VA-13-truncated"),
    pytest.param(lambda b: b + b"\x00", None, id="VA-13-extended"),
    pytest.param(lambda b: b"", None, id="VA-13-empty"),
]


@pytest.mark.parametrize(("mutate", "other_passphrase"), SAME_REFUSAL_CASES)
def test_every_unlock_failure_is_the_same_refusal(
    passphrase: VaultPassphrase,
    stored_master: bytes,
    mutate: Callable[[bytes], bytes],
    other_passphrase: str | None,
) -> None:
    unlock(stored_master, passphrase, floor=TEST_FLOOR)  # positive control
    used = passphrase if other_passphrase is None else VaultPassphrase(other_passphrase)
    with pytest.raises(KeyRefused) as caught:
        unlock(mutate(stored_master), used, floor=TEST_FLOOR)
    assert type(caught.value) is KeyRefused
    assert caught.value.code is Code.KEY_INVALID
    assert caught.value.message == UNLOCK_REFUSED


def test_wrong_passphrase_and_corrupt_data_are_indistinguishable(
    passphrase: VaultPassphrase, stored_master: bytes
) -> None:
    errors = []
    for stored, used in [
        (stored_master, VaultPassphrase("not the passphrase")),
        (_flip(stored_master, len(stored_master) - 1), passphrase),
        (_flip(stored_master, 0), passphrase),
    ]:
        with pytest.raises(RegieError) as caught:
            unlock(stored, used, floor=TEST_FLOOR)
        errors.append((type(caught.value), caught.value.code, str(caught.value)))
    assert len(set(errors)) == 1


# VA-14..16: a header below the floor is refused before any Argon2 work (key_weak)
DOWNGRADE_CASES = [
    pytest.param(KdfFloor.production(), lambda b: b, id="VA-14-test-params-under-production-floor"),
    pytest.param(TEST_FLOOR, lambda b: _set_header(b, 0, 8192), id="VA-15-opslimit-zero"),
    pytest.param(
        TEST_FLOOR, lambda b: _set_header(b, 1, 1024), id="VA-15-memlimit-below-libsodium"
    ),
    pytest.param(KdfFloor(3, 8192), lambda b: b, id="VA-16-opslimit-below-floor"),
    pytest.param(KdfFloor(1, 1 << 20), lambda b: b, id="VA-16-memlimit-below-floor"),
]


@pytest.mark.parametrize(("floor", "mutate"), DOWNGRADE_CASES)
def test_downgraded_header_refused(
    passphrase: VaultPassphrase,
    stored_master: bytes,
    floor: KdfFloor,
    mutate: Callable[[bytes], bytes],
) -> None:
    unlock(stored_master, passphrase, floor=TEST_FLOOR)  # positive control
    with pytest.raises(KeyRefused) as caught:
        unlock(mutate(stored_master), passphrase, floor=floor)
    assert caught.value.code is Code.KEY_WEAK


def test_floor_is_checked_on_a_parsed_object_too(
    passphrase: VaultPassphrase, stored_master: bytes
) -> None:
    parsed = WrappedMasterKey.from_bytes(stored_master, floor=TEST_FLOOR)
    with pytest.raises(KeyRefused) as caught:
        unlock(parsed, passphrase, floor=KdfFloor.production())
    assert caught.value.code is Code.KEY_WEAK


def test_change_passphrase_rewraps_the_same_master_key(
    master: MasterKey, passphrase: VaultPassphrase, stored_master: bytes
) -> None:
    new = VaultPassphrase(NEW_PASSPHRASE)
    rewrapped = rewrap_master_key(
        stored_master, passphrase, new, floor=TEST_FLOOR, kdf=KdfParams.unsafe_fast_for_tests()
    ).to_bytes()
    assert unlock(rewrapped, new, floor=TEST_FLOOR) == master
    assert (
        rewrapped[HEADER_BYTES - 16 : HEADER_BYTES]
        != stored_master[HEADER_BYTES - 16 : HEADER_BYTES]
    )
    with pytest.raises(KeyRefused) as caught:
        unlock(rewrapped, passphrase, floor=TEST_FLOOR)
    assert caught.value.code is Code.KEY_INVALID


def test_change_passphrase_needs_old_passphrase_fresh_salt_and_strong_new(
    passphrase: VaultPassphrase, stored_master: bytes
) -> None:
    new = VaultPassphrase(NEW_PASSPHRASE)
    fresh = KdfParams.unsafe_fast_for_tests()
    with pytest.raises(KeyRefused):
        rewrap_master_key(stored_master, new, new, floor=TEST_FLOOR, kdf=fresh)
    old_kdf = WrappedMasterKey.from_bytes(stored_master, floor=TEST_FLOOR).kdf
    with pytest.raises(Misuse):
        rewrap_master_key(stored_master, passphrase, new, floor=TEST_FLOOR, kdf=old_kdf)
    with pytest.raises(ClaimRefused) as caught:
        rewrap_master_key(
            stored_master, passphrase, VaultPassphrase("short"), floor=TEST_FLOOR, kdf=fresh
        )
    assert caught.value.code is Code.KEY_WEAK


def test_wrapping_refuses_a_weak_passphrase(master: MasterKey) -> None:
    with pytest.raises(ClaimRefused) as caught:
        wrap_master_key(master, VaultPassphrase("password1234"), KdfParams.unsafe_fast_for_tests())
    assert caught.value.code is Code.KEY_WEAK


def test_defaults_are_strong_and_at_or_above_the_floor() -> None:
    params = KdfParams.new()
    assert (params.opslimit, params.memlimit) == (3, 256 << 20)
    params.check_floor(KdfFloor.production())
    assert KdfParams.new().salt != params.salt
    with pytest.raises(KeyRefused) as caught:
        KdfParams.new(opslimit=1)
    assert caught.value.code is Code.KEY_WEAK


def test_real_cost_unlock_once(master: MasterKey, passphrase: VaultPassphrase) -> None:
    """The production path end to end: INTERACTIVE cost (the floor), production floor."""
    kdf = KdfParams.new(
        opslimit=KdfFloor.PRODUCTION_OPSLIMIT, memlimit=KdfFloor.PRODUCTION_MEMLIMIT
    )
    stored = wrap_master_key(master, passphrase, kdf).to_bytes()
    assert unlock(stored, passphrase, floor=KdfFloor.production()) == master


def test_header_round_trip() -> None:
    params = KdfParams.new()
    assert KdfParams.from_bytes(params.to_bytes(), floor=KdfFloor.production()) == params


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_arbitrary_stored_bytes_give_only_typed_errors(data: bytes) -> None:
    with pytest.raises(KeyRefused):
        unlock(data, VaultPassphrase("kat boom huis fiets"), floor=TEST_FLOOR)


def test_master_keys_are_random_and_named() -> None:
    a, b = generate_master_key(), generate_master_key()
    assert a != b
    assert a.key_id != b.key_id
    assert len(a.key_id) == 16
    assert MasterKey(bytes(32)).key_id == MasterKey(bytes(32)).key_id
