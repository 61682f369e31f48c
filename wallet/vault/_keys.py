"""The master key: 32 random bytes, wrapped by the passphrase-derived key.

Changing the passphrase re-wraps only the master key (:func:`rewrap_master_key`); the
records, whose per-record keys the master key wraps, stay as they are. Replacing the
master key (:func:`generate_master_key` and :func:`reseal <wallet.vault.reseal>` of every
record) is what makes wrapped record keys in old backups useless (T27).

The stored form, :meth:`WrappedMasterKey.to_bytes` (113 bytes)::

    KDF header (33 bytes, see _kdf) | key id (8 bytes) | nonce (24) | wrapped key (32 + 16 tag)

The header and key id are the associated data of the wrap, so changing any of their
bytes makes unwrapping fail. Every failure to unwrap (wrong passphrase, flipped bit,
truncated blob, unknown format) raises the same :class:`KeyRefused` with code
``key_invalid`` and the message :data:`UNLOCK_REFUSED`; only a header below the KDF
floor says more (``key_weak``), since whoever wrote it knows already.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from regie_protocol.errors import Code, KeyRefused, Misuse

from . import _aead
from ._kdf import HEADER_BYTES, UNLOCK_REFUSED, KdfFloor, KdfParams, Randomness
from ._passphrase import check_passphrase
from ._secret import Secret, VaultPassphrase

MASTER_KEY_BYTES = 32
KEY_ID_BYTES = 8
WRAPPED_MASTER_KEY_BYTES = HEADER_BYTES + KEY_ID_BYTES + _aead.NONCE_BYTES + 32 + _aead.TAG_BYTES
_WRAP_CONTEXT = b"regie-vault-master-key-v1\x00"


def _subkey(master: bytes, purpose: bytes) -> bytes:
    """A key for one purpose, BLAKE2b keyed with the master key (libsodium's crypto_kdf idea)."""
    return hashlib.blake2b(b"", key=master, digest_size=32, person=purpose).digest()


class MasterKey(Secret):
    """The vault's master key. Never stored in the clear; its ``key_id`` is public.

    The raw key is used for nothing directly: it yields one subkey per purpose
    (wrapping record keys, naming the key), so no two uses share a key.
    """

    __slots__ = ("_wrap_key", "key_id")

    def __init__(self, raw: bytes) -> None:
        if type(raw) is not bytes or len(raw) != MASTER_KEY_BYTES:
            raise Misuse(f"a master key is {MASTER_KEY_BYTES} bytes")
        self._value = raw
        self._wrap_key = _subkey(raw, b"regie-vault-dek")
        #: public name of this key (16 hex digits), stored beside every record it wraps
        self.key_id: str = _subkey(raw, b"regie-vault-kid")[:KEY_ID_BYTES].hex()

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id}, ***)"

    __str__ = __repr__

    def _record_wrap_key(self) -> bytes:
        return self._wrap_key


def generate_master_key(*, rng: Randomness = os.urandom) -> MasterKey:
    """A fresh random master key (the OS generator unless a test passes another)."""
    return MasterKey(rng(MASTER_KEY_BYTES))


@dataclass(frozen=True, slots=True)
class WrappedMasterKey:
    """The master key encrypted under the passphrase, with its KDF header: safe to store."""

    kdf: KdfParams
    key_id: str
    nonce: bytes
    wrapped: bytes

    def to_bytes(self) -> bytes:
        return self.kdf.to_bytes() + bytes.fromhex(self.key_id) + self.nonce + self.wrapped

    @classmethod
    def from_bytes(cls, data: bytes, *, floor: KdfFloor) -> WrappedMasterKey:
        """Parse the stored form; the KDF floor is enforced here, before any Argon2 work."""
        if type(data) is not bytes or len(data) != WRAPPED_MASTER_KEY_BYTES:
            raise KeyRefused(UNLOCK_REFUSED, code=Code.KEY_INVALID)
        kdf = KdfParams.from_bytes(data[:HEADER_BYTES], floor=floor)
        rest = data[HEADER_BYTES:]
        key_id = rest[:KEY_ID_BYTES].hex()
        nonce = rest[KEY_ID_BYTES : KEY_ID_BYTES + _aead.NONCE_BYTES]
        return cls(kdf, key_id, nonce, rest[KEY_ID_BYTES + _aead.NONCE_BYTES :])


def _aad(kdf: KdfParams, key_id: str) -> bytes:
    return _WRAP_CONTEXT + kdf.to_bytes() + bytes.fromhex(key_id)


def wrap_master_key(
    master: MasterKey,
    passphrase: VaultPassphrase,
    kdf: KdfParams,
    *,
    rng: Randomness = os.urandom,
) -> WrappedMasterKey:
    """Encrypt ``master`` under ``passphrase``, which must pass :func:`check_passphrase`.

    Use a fresh ``kdf`` (:meth:`KdfParams.new`) for every passphrase, so salts never repeat.
    """
    if not isinstance(master, MasterKey) or not isinstance(kdf, KdfParams):
        raise Misuse("wrap_master_key() takes a MasterKey and KdfParams")
    check_passphrase(passphrase)
    kek = kdf.derive(passphrase)
    nonce = rng(_aead.NONCE_BYTES)
    wrapped = _aead.encrypt(kek, nonce, master._value, _aad(kdf, master.key_id))
    return WrappedMasterKey(kdf, master.key_id, nonce, wrapped)


def unlock(
    stored: bytes | WrappedMasterKey, passphrase: VaultPassphrase, *, floor: KdfFloor
) -> MasterKey:
    """The master key, or one :class:`KeyRefused` (``key_invalid``) for any failure.

    ``floor`` is the caller's policy for the stored KDF settings (normally
    :meth:`KdfFloor.production`); it is checked again on a parsed object. The
    passphrase's strength is not checked here: an existing vault must stay openable.
    """
    if not isinstance(passphrase, VaultPassphrase) or not isinstance(floor, KdfFloor):
        raise Misuse("unlock() takes a VaultPassphrase and a KdfFloor")
    if isinstance(stored, WrappedMasterKey):
        wrapped = stored
        wrapped.kdf.check_floor(floor)
    else:
        wrapped = WrappedMasterKey.from_bytes(stored, floor=floor)
    kek = wrapped.kdf.derive(passphrase)
    raw = _aead.decrypt(
        kek,
        wrapped.nonce,
        wrapped.wrapped,
        _aad(wrapped.kdf, wrapped.key_id),
        refusal=UNLOCK_REFUSED,
    )
    master = MasterKey(raw)
    if not hmac.compare_digest(master.key_id, wrapped.key_id):  # pragma: no cover - AAD binds it
        raise KeyRefused(UNLOCK_REFUSED, code=Code.KEY_INVALID)
    return master


def rewrap_master_key(
    stored: bytes | WrappedMasterKey,
    old: VaultPassphrase,
    new: VaultPassphrase,
    *,
    floor: KdfFloor,
    kdf: KdfParams,
    rng: Randomness = os.urandom,
) -> WrappedMasterKey:
    """Change the passphrase: unlock with ``old``, wrap the same master key under ``new``.

    ``kdf`` must carry a fresh salt (:meth:`KdfParams.new`); it may raise the cost. The
    records are untouched. Store the result atomically in place of the old blob.
    """
    if not isinstance(stored, WrappedMasterKey):
        stored = WrappedMasterKey.from_bytes(stored, floor=floor)
    master = unlock(stored, old, floor=floor)
    kdf.check_floor(floor)
    if hmac.compare_digest(kdf.salt, stored.kdf.salt):
        raise Misuse("a new passphrase needs new KdfParams (a fresh salt): use KdfParams.new()")
    return wrap_master_key(master, new, kdf, rng=rng)


__all__ = [
    "KEY_ID_BYTES",
    "MASTER_KEY_BYTES",
    "WRAPPED_MASTER_KEY_BYTES",
    "MasterKey",
    "WrappedMasterKey",
    "generate_master_key",
    "rewrap_master_key",
    "unlock",
    "wrap_master_key",
]
