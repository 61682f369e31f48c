"""Argon2id: from a passphrase to the key that wraps the vault's master key.

The parameters travel with the vault in a fixed 33-byte header
(:meth:`KdfParams.to_bytes`)::

    b"RGVK" | version (1 byte, 1 = Argon2id v1.3) | opslimit (u32 BE)
            | memlimit in bytes (u64 BE) | salt (16 bytes)

Defaults are libsodium's MODERATE: opslimit 3, memlimit 256 MiB, about 0.9 s
and 256 MiB per unlock on the development machine (2 cores), slow enough to
make an offline guess at a stolen vault expensive and rare enough (once per
session) for a person to wait. Reading a header back enforces a *floor*
(T25, VA-11..16): a header with cheaper settings than the floor is refused with
``key_weak`` before any work, so an attacker who can write the stored header
cannot downgrade the next re-wrap. A *ceiling* refuses headers that would
make one unlock cost more than 1 GiB or 16 passes (a denial of service, T29).

:meth:`KdfParams.unsafe_fast_for_tests` and :meth:`KdfFloor.unsafe_accept_test_params`
exist only so tests run in milliseconds; their names say so and nothing uses them
by default.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import nacl.pwhash.argon2id as _argon2id

from regie_protocol.errors import Code, KeyRefused, Misuse

from ._secret import VaultPassphrase

KDF_VERSION = 1
SALT_BYTES = 16
_MAGIC = b"RGVK"
_LAYOUT = struct.Struct(">4sBIQ16s")
HEADER_BYTES = _LAYOUT.size  # 33
#: libsodium's own bounds for Argon2id
_LIB_MIN_OPS = int(_argon2id.OPSLIMIT_MIN)
_LIB_MIN_MEM = int(_argon2id.MEMLIMIT_MIN)
#: the ceiling: no header may ask for more
MAX_OPSLIMIT = 16
MAX_MEMLIMIT = 1 << 30
#: the one message for a vault that cannot be opened, whatever the reason (T25)
UNLOCK_REFUSED = "the passphrase is wrong or the vault is damaged"

Randomness = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class KdfFloor:
    """The cheapest Argon2id settings a stored header may name. The caller chooses one."""

    min_opslimit: int
    min_memlimit: int

    #: libsodium INTERACTIVE (2 passes, 64 MiB), above OWASP's Argon2id minimum (19 MiB, 2 passes)
    PRODUCTION_OPSLIMIT: ClassVar[int] = 2
    PRODUCTION_MEMLIMIT: ClassVar[int] = 64 << 20

    @classmethod
    def production(cls) -> KdfFloor:
        return cls(cls.PRODUCTION_OPSLIMIT, cls.PRODUCTION_MEMLIMIT)

    @classmethod
    def unsafe_accept_test_params(cls) -> KdfFloor:
        """Accept libsodium's minimum (1 pass, 8 KiB): for tests only, never for a real vault."""
        return cls(_LIB_MIN_OPS, _LIB_MIN_MEM)


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id settings and salt of one vault (the salt changes with every passphrase)."""

    opslimit: int
    memlimit: int
    salt: bytes
    version: int = KDF_VERSION

    DEFAULT_OPSLIMIT: ClassVar[int] = int(_argon2id.OPSLIMIT_MODERATE)
    DEFAULT_MEMLIMIT: ClassVar[int] = int(_argon2id.MEMLIMIT_MODERATE)

    def __post_init__(self) -> None:
        if self.version != KDF_VERSION:
            raise Misuse(f"KDF version {self.version} is unknown; this Regie writes {KDF_VERSION}")
        if type(self.salt) is not bytes or len(self.salt) != SALT_BYTES:
            raise Misuse(f"an Argon2id salt is {SALT_BYTES} bytes")
        if not (
            type(self.opslimit) is int
            and type(self.memlimit) is int
            and _LIB_MIN_OPS <= self.opslimit <= MAX_OPSLIMIT
            and _LIB_MIN_MEM <= self.memlimit <= MAX_MEMLIMIT
        ):
            raise Misuse(
                f"Argon2id opslimit must be {_LIB_MIN_OPS}..{MAX_OPSLIMIT} and memlimit "
                f"{_LIB_MIN_MEM}..{MAX_MEMLIMIT} bytes"
            )

    @classmethod
    def new(
        cls,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
        rng: Randomness = os.urandom,
    ) -> KdfParams:
        """Fresh salt; MODERATE cost unless stated (a stated cost below the production floor
        is refused: use :meth:`unsafe_fast_for_tests` for that)."""
        params = cls(
            cls.DEFAULT_OPSLIMIT if opslimit is None else opslimit,
            cls.DEFAULT_MEMLIMIT if memlimit is None else memlimit,
            rng(SALT_BYTES),
        )
        params.check_floor(KdfFloor.production())
        return params

    @classmethod
    def unsafe_fast_for_tests(cls, *, rng: Randomness = os.urandom) -> KdfParams:
        """libsodium's minimum cost (1 pass, 8 KiB): trivially brute-forced; tests only."""
        return cls(_LIB_MIN_OPS, _LIB_MIN_MEM, rng(SALT_BYTES))

    def with_new_salt(self, *, rng: Randomness = os.urandom) -> KdfParams:
        return KdfParams(self.opslimit, self.memlimit, rng(SALT_BYTES), self.version)

    def check_floor(self, floor: KdfFloor) -> None:
        """Refuse settings cheaper than ``floor`` (``key_weak``)."""
        if self.opslimit < floor.min_opslimit or self.memlimit < floor.min_memlimit:
            raise KeyRefused(
                f"the vault's key settings are too weak: Argon2id opslimit {self.opslimit}, "
                f"memlimit {self.memlimit} bytes; at least {floor.min_opslimit} and "
                f"{floor.min_memlimit} are required",
                code=Code.KEY_WEAK,
            )

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(_MAGIC, self.version, self.opslimit, self.memlimit, self.salt)

    @classmethod
    def from_bytes(cls, data: bytes, *, floor: KdfFloor) -> KdfParams:
        """Parse a stored header and enforce ``floor``.

        Any damage (length, magic, version, out-of-range numbers) raises the one
        :data:`UNLOCK_REFUSED` refusal; settings below the floor raise ``key_weak``.
        """
        if type(data) is not bytes or len(data) != HEADER_BYTES:
            raise KeyRefused(UNLOCK_REFUSED, code=Code.KEY_INVALID)
        magic, version, opslimit, memlimit, salt = _LAYOUT.unpack(data)
        if magic != _MAGIC or version != KDF_VERSION:
            raise KeyRefused(UNLOCK_REFUSED, code=Code.KEY_INVALID)
        try:
            params = cls(opslimit, memlimit, salt, version)
        except Misuse:
            # below libsodium's minimum is a downgrade; above the ceiling is damage
            if opslimit < _LIB_MIN_OPS or memlimit < _LIB_MIN_MEM:
                raise KeyRefused(
                    "the vault's key settings are below Argon2id's minimum", code=Code.KEY_WEAK
                ) from None
            raise KeyRefused(UNLOCK_REFUSED, code=Code.KEY_INVALID) from None
        params.check_floor(floor)
        return params

    def derive(self, passphrase: VaultPassphrase) -> bytes:
        """The 32-byte key-encryption key. Costs what the parameters say (up to ~1 s)."""
        if not isinstance(passphrase, VaultPassphrase):
            raise Misuse("derive() takes a VaultPassphrase")
        key: bytes = _argon2id.kdf(
            32,
            passphrase._utf8(),
            self.salt,
            opslimit=self.opslimit,
            memlimit=self.memlimit,
        )
        return key


__all__ = [
    "HEADER_BYTES",
    "KDF_VERSION",
    "MAX_MEMLIMIT",
    "MAX_OPSLIMIT",
    "SALT_BYTES",
    "UNLOCK_REFUSED",
    "KdfFloor",
    "KdfParams",
    "Randomness",
]
