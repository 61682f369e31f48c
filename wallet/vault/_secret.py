"""Opaque holders for secrets: masked ``repr``, constant-time equality, no accidental export.

A secret object never prints its value, cannot be hashed (a hash would be a
cheap oracle in a dict or set), refuses pickling and copying to other
processes, and compares with :func:`hmac.compare_digest`. Python cannot wipe
``bytes`` or ``str`` from memory; these holders only keep secrets out of logs,
tracebacks and serialisers.
"""

from __future__ import annotations

import hmac
import unicodedata
from typing import NoReturn

from regie_protocol.errors import Misuse

#: a passphrase is read from a person; nothing longer is plausible, and Argon2 hashes it whole
MAX_PASSPHRASE_CHARS = 1024


class Secret:
    """Base of the vault's secret holders. Subclasses set ``_value`` once, in ``__init__``."""

    __slots__ = ("_value",)
    _value: bytes

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Secret)
        return hmac.compare_digest(self._value, other._value)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise Misuse(f"a {type(self).__name__} cannot be pickled or copied")

    def __format__(self, spec: str) -> str:
        return repr(self)


class VaultPassphrase(Secret):
    """The passphrase that unlocks a vault, normalised to NFC and held as UTF-8.

    NFC makes ``é`` typed as one code point or as ``e`` plus an accent the same
    passphrase on every device. Strength is checked with :func:`check_passphrase`
    when a passphrase is *chosen*, never when one is used to unlock.
    """

    __slots__ = ("_length",)

    def __init__(self, text: str) -> None:
        if type(text) is not str:
            raise Misuse("a passphrase is a str")
        if len(text) > 4 * MAX_PASSPHRASE_CHARS:
            raise Misuse(f"a passphrase has at most {MAX_PASSPHRASE_CHARS} characters")
        normal = unicodedata.normalize("NFC", text)
        try:
            self._value = normal.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            raise Misuse("a passphrase must be valid Unicode text") from None
        self._length = len(normal)

    def __len__(self) -> int:
        return self._length

    def unsafe_text(self) -> str:
        """The passphrase itself, for the strength check only. Never log or store it."""
        return self._value.decode("utf-8")

    def _utf8(self) -> bytes:
        return self._value


__all__ = ["MAX_PASSPHRASE_CHARS", "Secret", "VaultPassphrase"]
