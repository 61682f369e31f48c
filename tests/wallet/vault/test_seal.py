"""Sealed records: round trips, the tamper table (T24, VA-01..10), strict parsing."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie_protocol.errors import Code, KeyRefused, MalformedInput, Misuse, RegieError
from wallet.vault import (
    MAX_SEALED_BYTES,
    RECORD_REFUSED,
    MasterKey,
    SealedRecord,
    generate_master_key,
    open_record,
    reseal,
    seal,
)

WHERE: dict[str, Any] = {
    "table": "credentials",
    "record_id": "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
    "owner": "user-42",
    "schema_version": 2,
}
PLAINTEXT = b'{"vct":"https://credentials.regie.example/vct/brp","sd_jwt":"eyJ..."}'
ids = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
#: one key for the property tests (function-scoped fixtures do not reset between examples)
MASTER = generate_master_key()


def _sealed(master: MasterKey) -> SealedRecord:
    return seal(master, plaintext=PLAINTEXT, **WHERE)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes((data[index] ^ 0x01,)) + data[index + 1 :]


# VA-01..10: one change to a good (record, location); opening must refuse with key_invalid
LOCATION_CASES = [
    pytest.param({"record_id": "urn:uuid:other"}, id="VA-01-moved-to-another-row"),
    pytest.param({"table": "consents"}, id="VA-02-moved-to-another-table"),
    pytest.param({"owner": "user-43"}, id="VA-03-moved-to-another-owner"),
    pytest.param({"schema_version": 1}, id="VA-04-downgraded-schema-version"),
    pytest.param({"schema_version": 3}, id="VA-04-upgraded-schema-version"),
    pytest.param(
        {"owner": "user-4", "record_id": "2" + WHERE["record_id"]},
        id="VA-05-shifted-field-boundary",
    ),
]


@pytest.mark.parametrize("change", LOCATION_CASES)
def test_record_refused_in_another_place(master: MasterKey, change: dict[str, Any]) -> None:
    sealed = _sealed(master)
    assert open_record(master, sealed, **WHERE) == PLAINTEXT  # positive control
    with pytest.raises(KeyRefused) as caught:
        open_record(master, sealed, **{**WHERE, **change})
    assert caught.value.code is Code.KEY_INVALID
    assert caught.value.message == RECORD_REFUSED


def _field_mutation(name: str, index: int) -> Callable[[SealedRecord], SealedRecord]:
    def mutate(sealed: SealedRecord) -> SealedRecord:
        value: bytes = getattr(sealed, name)
        changes: dict[str, Any] = {name: _flip(value, index % len(value))}
        return replace(sealed, **changes)

    return mutate


TAMPER_CASES = [
    pytest.param(_field_mutation("ciphertext", 0), id="VA-06-flipped-bit-ciphertext-first"),
    pytest.param(
        _field_mutation("ciphertext", len(PLAINTEXT) - 1), id="VA-06-flipped-bit-ciphertext-last"
    ),
    pytest.param(_field_mutation("ciphertext", -1), id="VA-06-flipped-bit-tag"),
    pytest.param(_field_mutation("nonce", 0), id="VA-07-flipped-bit-nonce"),
    pytest.param(_field_mutation("dek_nonce", 23), id="VA-07-flipped-bit-dek-nonce"),
    pytest.param(_field_mutation("wrapped_dek", 0), id="VA-08-flipped-bit-wrapped-dek"),
    pytest.param(_field_mutation("wrapped_dek", 47), id="VA-08-flipped-bit-wrapped-dek-tag"),
    pytest.param(
        lambda s: replace(s, ciphertext=s.ciphertext[:-1]), id="VA-09-truncated-ciphertext"
    ),
    pytest.param(
        lambda s: replace(s, ciphertext=s.ciphertext[:16]), id="VA-09-ciphertext-only-a-tag"
    ),
    pytest.param(
        lambda s: replace(s, ciphertext=s.ciphertext + b"\x00"), id="VA-09-extended-ciphertext"
    ),
    pytest.param(
        lambda s: replace(s, ciphertext=s.ciphertext[:-16] + bytes(16)), id="VA-09-zeroed-tag"
    ),
]


@pytest.mark.parametrize("mutate", TAMPER_CASES)
def test_tampered_record_refused(
    master: MasterKey, mutate: Callable[[SealedRecord], SealedRecord]
) -> None:
    sealed = _sealed(master)
    assert open_record(master, sealed, **WHERE) == PLAINTEXT  # positive control
    tampered = SealedRecord.from_bytes(mutate(sealed).to_bytes())
    with pytest.raises(KeyRefused) as caught:
        open_record(master, tampered, **WHERE)
    assert caught.value.code is Code.KEY_INVALID
    assert caught.value.message == RECORD_REFUSED


def test_swapped_wrapped_deks_between_rows_refused(master: MasterKey) -> None:
    """VA-10: the DEK layer is bound too; a row's wrapped DEK moved to another row fails."""
    a = _sealed(master)
    other = {**WHERE, "record_id": "row-b"}
    b = seal(master, plaintext=PLAINTEXT, **other)
    assert open_record(master, b, **other) == PLAINTEXT
    mixed = replace(b, dek_nonce=a.dek_nonce, wrapped_dek=a.wrapped_dek)
    with pytest.raises(KeyRefused) as caught:
        open_record(master, mixed, **other)
    assert caught.value.code is Code.KEY_INVALID


def test_other_master_key_refused_as_unknown_key(master: MasterKey) -> None:
    """VA-10: a record of another vault (or an older key) names its key and is refused."""
    sealed = _sealed(master)
    other = generate_master_key()
    assert open_record(master, sealed, **WHERE) == PLAINTEXT
    with pytest.raises(KeyRefused) as caught:
        open_record(other, sealed, **WHERE)
    assert caught.value.code is Code.KEY_UNKNOWN


def test_key_id_field_rewritten_to_match_other_key_refused(master: MasterKey) -> None:
    """VA-10: relabelling a record with the other key's id does not let that key open it."""
    sealed = _sealed(master)
    other = generate_master_key()
    relabelled = replace(sealed, key_id=other.key_id)
    assert open_record(master, sealed, **WHERE) == PLAINTEXT
    with pytest.raises(KeyRefused) as caught:
        open_record(other, relabelled, **WHERE)
    assert caught.value.code is Code.KEY_INVALID


def test_nonces_and_deks_never_repeat(master: MasterKey) -> None:
    """VA-10: every write draws fresh nonces and a fresh DEK, even for identical input."""
    records = [_sealed(master) for _ in range(5000)]
    nonces = [r.nonce for r in records] + [r.dek_nonce for r in records]
    assert len(set(nonces)) == len(nonces)
    assert len({r.wrapped_dek for r in records}) == len(records)
    assert len({r.ciphertext for r in records}) == len(records)


def test_reseal_moves_record_to_new_key(master: MasterKey) -> None:
    sealed = _sealed(master)
    new = generate_master_key()
    moved = reseal(master, new, sealed, **WHERE)
    assert open_record(new, moved, **WHERE) == PLAINTEXT
    assert moved.nonce != sealed.nonce
    with pytest.raises(KeyRefused) as caught:
        open_record(master, moved, **WHERE)
    assert caught.value.code is Code.KEY_UNKNOWN


@settings(max_examples=200, deadline=None)
@given(
    plaintext=st.binary(max_size=4096),
    table=ids,
    record_id=ids,
    owner=ids,
    version=st.integers(0, 2**32 - 1),
)
def test_round_trip(plaintext: bytes, table: str, record_id: str, owner: str, version: int) -> None:
    master = generate_master_key()
    where: dict[str, Any] = {
        "table": table,
        "record_id": record_id,
        "owner": owner,
        "schema_version": version,
    }
    sealed = seal(master, plaintext=plaintext, **where)
    stored = sealed.to_bytes()
    assert len(stored) == len(plaintext) + 125
    parsed = SealedRecord.from_bytes(stored)
    assert parsed == sealed
    assert open_record(master, parsed, **where) == plaintext


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_give_only_typed_errors(data: bytes) -> None:
    with contextlib.suppress(RegieError):
        open_record(MASTER, SealedRecord.from_bytes(data), **WHERE)


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_flipped_bit_is_refused(index: int, bit: int) -> None:
    stored = _sealed(MASTER).to_bytes()
    index %= len(stored)
    mutated = stored[:index] + bytes((stored[index] ^ (1 << bit),)) + stored[index + 1 :]
    with pytest.raises((KeyRefused, MalformedInput)):
        open_record(MASTER, SealedRecord.from_bytes(mutated), **WHERE)


PARSE_CASES = [
    pytest.param(lambda b: b[:124], MalformedInput, Code.MALFORMED, id="shorter-than-overhead"),
    pytest.param(lambda b: b"XGVR" + b[4:], MalformedInput, Code.MALFORMED, id="bad-magic"),
    pytest.param(
        lambda b: b[:4] + b"\x02" + b[5:], MalformedInput, Code.MALFORMED, id="unknown-version"
    ),
    pytest.param(
        lambda b: b[:4] + b"\x00" + b[5:], MalformedInput, Code.MALFORMED, id="version-zero"
    ),
    pytest.param(
        lambda b: b + bytes(MAX_SEALED_BYTES), MalformedInput, Code.SIZE_EXCEEDED, id="oversized"
    ),
]


@pytest.mark.parametrize(("mutate", "error", "code"), PARSE_CASES)
def test_parse_refusals(
    master: MasterKey, mutate: Callable[[bytes], bytes], error: type[RegieError], code: Code
) -> None:
    stored = _sealed(master).to_bytes()
    assert open_record(master, SealedRecord.from_bytes(stored), **WHERE) == PLAINTEXT  # control
    with pytest.raises(error) as caught:
        SealedRecord.from_bytes(mutate(stored))
    assert caught.value.code is code


def test_parse_respects_caller_limit(master: MasterKey) -> None:
    stored = _sealed(master).to_bytes()
    SealedRecord.from_bytes(stored, max_bytes=len(stored))
    with pytest.raises(MalformedInput) as caught:
        SealedRecord.from_bytes(stored, max_bytes=len(stored) - 1)
    assert caught.value.code is Code.SIZE_EXCEEDED


MISUSE_CASES = [
    pytest.param({"table": ""}, id="empty-table"),
    pytest.param({"owner": 42}, id="owner-not-str"),
    pytest.param({"record_id": "x" * 1025}, id="record-id-too-long"),
    pytest.param({"record_id": "\ud800"}, id="lone-surrogate"),
    pytest.param({"schema_version": -1}, id="negative-schema-version"),
    pytest.param({"schema_version": True}, id="bool-schema-version"),
    pytest.param({"schema_version": 2**32}, id="schema-version-too-big"),
    pytest.param({"plaintext": "text"}, id="plaintext-not-bytes"),
    pytest.param({"rng": lambda n: os.urandom(n - 1)}, id="short-randomness"),
]


@pytest.mark.parametrize("change", MISUSE_CASES)
def test_seal_misuse(master: MasterKey, change: dict[str, Any]) -> None:
    args = {**WHERE, "plaintext": PLAINTEXT}
    seal(master, **args)  # positive control
    with pytest.raises(Misuse):
        seal(master, **{**args, **change})


def test_sealed_record_fields_are_checked() -> None:
    with pytest.raises(Misuse):
        SealedRecord("00" * 8, bytes(24), bytes(48), bytes(23), bytes(16))
    with pytest.raises(Misuse):
        SealedRecord("XX" * 8, bytes(24), bytes(48), bytes(24), bytes(16))
