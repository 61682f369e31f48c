"""Sealing records: a fresh key per record, wrapped by the master key, bound to its row.

``seal`` draws a random 32-byte data key (DEK) and two random 24-byte nonces for every
write, encrypts the plaintext under the DEK and wraps the DEK under the master key's
record-wrapping subkey, both with XChaCha20-Poly1305. Both layers authenticate the
same associated data, built canonically (every field length-prefixed)::

    format version | table | record id | owner | schema version | key id

so a ciphertext copied to another row, table or owner, or read back under another
schema version or master key, is refused (T24, VA-01..10). Random 24-byte nonces
under a key used once leave no room for nonce reuse.

Stored form, :meth:`SealedRecord.to_bytes` (109 bytes + plaintext + 16)::

    b"RGVR" | version (1) | key id (8) | DEK nonce (24) | wrapped DEK (48)
            | nonce (24) | ciphertext and tag

**Deleting** a record is crypto-shredding: once the wrapped DEK is gone the ciphertext
can never be opened. The DEK sits in the same row as the data, so the storage layer
must delete (or overwrite) the whole row, with SQLite ``secure_delete`` and a WAL
checkpoint; copies in old backups die when the master key is replaced and every record
is :func:`reseal`-ed (T27, VA-20..22).
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass

from regie_protocol.errors import Code, KeyRefused, MalformedInput, Misuse

from . import _aead
from ._kdf import Randomness
from ._keys import KEY_ID_BYTES, MasterKey

FORMAT_VERSION = 1
#: the largest plaintext a record may hold (vault records are credentials and consents)
MAX_RECORD_BYTES = 1 << 20
#: table, record id and owner, each in UTF-8
MAX_FIELD_BYTES = 1024
_MAGIC = b"RGVR"
_PREFIX = struct.Struct(f">4sB{KEY_ID_BYTES}s24s48s24s")
OVERHEAD_BYTES = _PREFIX.size + _aead.TAG_BYTES  # 125
MAX_SEALED_BYTES = MAX_RECORD_BYTES + OVERHEAD_BYTES
_WRAPPED_DEK_BYTES = _aead.KEY_BYTES + _aead.TAG_BYTES
_RANDOM_BYTES = _aead.KEY_BYTES + 2 * _aead.NONCE_BYTES
_U32 = struct.Struct(">I")
_KEY_ID = re.compile(f"[0-9a-f]{{{2 * KEY_ID_BYTES}}}")
_CONTEXT = b"regie-vault-record\x00"
#: one message for every record that fails to open (wrong key, damage, wrong row)
RECORD_REFUSED = "the record is damaged or does not belong here"


@dataclass(frozen=True, slots=True)
class SealedRecord:
    """One encrypted record as stored. Parsing checks structure only; opening checks the rest."""

    key_id: str
    dek_nonce: bytes
    wrapped_dek: bytes
    nonce: bytes
    ciphertext: bytes
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not (
            type(self.dek_nonce) is bytes
            and type(self.wrapped_dek) is bytes
            and type(self.nonce) is bytes
            and type(self.ciphertext) is bytes
            and len(self.dek_nonce) == len(self.nonce) == _aead.NONCE_BYTES
            and len(self.wrapped_dek) == _WRAPPED_DEK_BYTES
            and len(self.ciphertext) >= _aead.TAG_BYTES
            and self.version == FORMAT_VERSION
            and type(self.key_id) is str
            and _KEY_ID.fullmatch(self.key_id)
        ):
            raise Misuse("a SealedRecord's fields have fixed types and lengths; see to_bytes()")

    def to_bytes(self) -> bytes:
        head = _PREFIX.pack(
            _MAGIC,
            self.version,
            bytes.fromhex(self.key_id),
            self.dek_nonce,
            self.wrapped_dek,
            self.nonce,
        )
        return head + self.ciphertext

    @classmethod
    def from_bytes(cls, data: bytes, *, max_bytes: int = MAX_SEALED_BYTES) -> SealedRecord:
        """Strict parse of the stored form: :class:`MalformedInput` for anything odd."""
        if type(data) is not bytes:
            raise Misuse("a sealed record is bytes")
        if len(data) > max_bytes:
            raise MalformedInput(
                f"sealed record has {len(data)} bytes; at most {max_bytes} are accepted",
                code=Code.SIZE_EXCEEDED,
            )
        if len(data) < OVERHEAD_BYTES:
            raise MalformedInput(
                f"sealed record has {len(data)} bytes; at least {OVERHEAD_BYTES} are needed"
            )
        magic, version, key_id, dek_nonce, wrapped_dek, nonce = _PREFIX.unpack_from(data)
        if magic != _MAGIC:
            raise MalformedInput("not a sealed vault record (bad magic)")
        if version != FORMAT_VERSION:
            raise MalformedInput(f"sealed record format {version} is unknown")
        return cls(key_id.hex(), dek_nonce, wrapped_dek, nonce, data[_PREFIX.size :], version)


def _field(name: str, value: str) -> bytes:
    """One length-prefixed UTF-8 field of the associated data."""
    if type(value) is not str or not value:
        raise Misuse(f"{name} must be a non-empty str")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise Misuse(f"{name} must be valid Unicode text") from None
    if len(raw) > MAX_FIELD_BYTES:
        raise Misuse(f"{name} has {len(raw)} bytes in UTF-8; at most {MAX_FIELD_BYTES}")
    return _U32.pack(len(raw)) + raw


def _aad(
    version: int, table: str, record_id: str, owner: str, schema_version: int, key_id: str
) -> bytes:
    """The canonical associated data: every field typed, in order, length-prefixed."""
    if type(schema_version) is not int or not 0 <= schema_version <= 0xFFFFFFFF:
        raise Misuse("schema_version must be an int in 0..2**32-1")
    return (
        _CONTEXT
        + bytes((version,))
        + _field("table", table)
        + _field("record_id", record_id)
        + _field("owner", owner)
        + _U32.pack(schema_version)
        + bytes.fromhex(key_id)
    )


def seal(
    master: MasterKey,
    *,
    table: str,
    record_id: str,
    owner: str,
    schema_version: int,
    plaintext: bytes,
    rng: Randomness = os.urandom,
) -> SealedRecord:
    """Encrypt ``plaintext`` for one row under a fresh DEK and fresh nonces."""
    if not isinstance(master, MasterKey):
        raise Misuse("seal() takes a MasterKey")
    if type(plaintext) is not bytes or len(plaintext) > MAX_RECORD_BYTES:
        raise Misuse(f"plaintext must be bytes, at most {MAX_RECORD_BYTES}")
    aad = _aad(FORMAT_VERSION, table, record_id, owner, schema_version, master.key_id)
    fresh = rng(_RANDOM_BYTES)
    if type(fresh) is not bytes or len(fresh) != _RANDOM_BYTES:
        raise Misuse(f"the randomness source must return {_RANDOM_BYTES} bytes")
    dek, dek_nonce, nonce = fresh[:32], fresh[32:56], fresh[56:]
    return SealedRecord(
        master.key_id,
        dek_nonce,
        _aead.encrypt(master._record_wrap_key(), dek_nonce, dek, b"\x01" + aad),
        nonce,
        _aead.encrypt(dek, nonce, plaintext, b"\x02" + aad),
    )


def open_record(
    master: MasterKey,
    sealed: SealedRecord,
    *,
    table: str,
    record_id: str,
    owner: str,
    schema_version: int,
) -> bytes:
    """The plaintext of a record read from the row (``table``, ``record_id``, ``owner``).

    Raises :class:`KeyRefused`: ``key_unknown`` when the record names another master key
    (reseal it), else ``key_invalid`` with :data:`RECORD_REFUSED` for every other failure.
    """
    if not isinstance(master, MasterKey) or not isinstance(sealed, SealedRecord):
        raise Misuse("open_record() takes a MasterKey and a SealedRecord")
    if sealed.key_id != master.key_id:
        raise KeyRefused(
            f"the record was sealed under key {sealed.key_id}, not under key {master.key_id}",
            code=Code.KEY_UNKNOWN,
        )
    aad = _aad(sealed.version, table, record_id, owner, schema_version, sealed.key_id)
    dek = _aead.decrypt(
        master._record_wrap_key(),
        sealed.dek_nonce,
        sealed.wrapped_dek,
        b"\x01" + aad,
        refusal=RECORD_REFUSED,
    )
    return _aead.decrypt(
        dek, sealed.nonce, sealed.ciphertext, b"\x02" + aad, refusal=RECORD_REFUSED
    )


def reseal(
    old: MasterKey,
    new: MasterKey,
    sealed: SealedRecord,
    *,
    table: str,
    record_id: str,
    owner: str,
    schema_version: int,
    rng: Randomness = os.urandom,
) -> SealedRecord:
    """Open under ``old``, seal again under ``new`` with a fresh DEK and nonces (key rotation)."""
    location = {"table": table, "record_id": record_id, "owner": owner}
    plaintext = open_record(old, sealed, schema_version=schema_version, **location)
    return seal(new, schema_version=schema_version, plaintext=plaintext, rng=rng, **location)


__all__ = [
    "FORMAT_VERSION",
    "MAX_FIELD_BYTES",
    "MAX_RECORD_BYTES",
    "MAX_SEALED_BYTES",
    "OVERHEAD_BYTES",
    "RECORD_REFUSED",
    "SealedRecord",
    "open_record",
    "reseal",
    "seal",
]
