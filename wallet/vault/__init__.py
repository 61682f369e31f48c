"""The wallet vault's cryptography: keys from a passphrase, records sealed per row.

Pure functions and value objects, no storage: the storage layer keeps the bytes
this package produces (:meth:`WrappedMasterKey.to_bytes`, :meth:`SealedRecord.to_bytes`).

* :class:`KdfParams` / :class:`KdfFloor` — Argon2id settings, stored in a header whose
  floor is enforced when it is read (T25).
* :func:`generate_master_key`, :func:`wrap_master_key`, :func:`unlock`,
  :func:`rewrap_master_key` — a random master key wrapped by the passphrase.
* :func:`seal`, :func:`open_record`, :func:`reseal` — XChaCha20-Poly1305 records with
  per-record keys, bound to (table, record id, owner, schema version, key id) (T24, T27).
* :func:`check_passphrase` / :func:`passphrase_problems` — rules for a new passphrase.
"""

from ._kdf import UNLOCK_REFUSED, KdfFloor, KdfParams, Randomness
from ._keys import (
    MasterKey,
    WrappedMasterKey,
    generate_master_key,
    rewrap_master_key,
    unlock,
    wrap_master_key,
)
from ._passphrase import check_passphrase, passphrase_problems
from ._seal import (
    MAX_RECORD_BYTES,
    MAX_SEALED_BYTES,
    RECORD_REFUSED,
    SealedRecord,
    open_record,
    reseal,
    seal,
)
from ._secret import VaultPassphrase

__all__ = [
    "MAX_RECORD_BYTES",
    "MAX_SEALED_BYTES",
    "RECORD_REFUSED",
    "UNLOCK_REFUSED",
    "KdfFloor",
    "KdfParams",
    "MasterKey",
    "Randomness",
    "SealedRecord",
    "VaultPassphrase",
    "WrappedMasterKey",
    "check_passphrase",
    "generate_master_key",
    "open_record",
    "passphrase_problems",
    "reseal",
    "rewrap_master_key",
    "seal",
    "unlock",
    "wrap_master_key",
]
