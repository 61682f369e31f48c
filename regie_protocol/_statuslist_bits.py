"""The Token Status List itself: a packed array of 1, 2, 4 or 8-bit statuses.

Public through :mod:`regie_protocol.statuslist`; this module holds the bit
arithmetic and the bounded decoder (draft-ietf-oauth-status-list, sections
"Compressed Byte Array" and "Status List in JSON Format").

* Entry ``i`` of a ``bits``-wide list sits in byte ``i * bits // 8`` at bit
  offset ``i * bits % 8``, least-significant bit first.
* ``lst`` is base64url (strict, no padding) of the byte array compressed with
  DEFLATE in the ZLIB format (RFC 1950 header and Adler-32 trailer); Regie
  writes it at the highest compression level.
* Decoding inflates at most ``limits.max_status_list_bytes`` (plus one byte to
  tell "exactly the limit" from "more"), in bounded chunks, so a decompression
  bomb is refused before more than that is allocated (T9).

Unknown members policy: ``bits`` and ``lst`` are read; ``aggregation_uri`` and
every other member are ignored without being type-checked (Regie does not use
aggregation, and a member it never reads cannot change a status).

Who is at fault: a list from a remote party that is not well-formed raises
:class:`MalformedInput` (code ``STATUS_LIST_INVALID``, or ``SIZE_EXCEEDED``
for a bomb); an index outside the list raises :class:`StatusRefused`
(``STATUS_INDEX_OUT_OF_RANGE``) from :meth:`StatusList.get`. Writing a wrong
index or value with :meth:`StatusList.set` is the caller's bug: :class:`Misuse`.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from enum import IntEnum
from typing import Any, Literal

from ._encoding import b64url_decode, b64url_encode
from .errors import Code, MalformedInput, Misuse, StatusRefused
from .limits import DEFAULT_LIMITS, Limits

Bits = Literal[1, 2, 4, 8]
_BITS: frozenset[int] = frozenset({1, 2, 4, 8})
_CHUNK = 256 * 1024


class Status(IntEnum):
    """Status Types Regie understands (draft section "Status Types Values").

    ``0x03`` and ``0x0C``-``0x0F`` are application-specific and every other value
    is reserved: Regie gives none of them a meaning, so a verifier that reads one
    refuses with ``STATUS_UNKNOWN`` (fail closed). Raw values stay readable
    through :meth:`StatusList.get`.
    """

    VALID = 0
    INVALID = 1
    SUSPENDED = 2


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _invalid(message: str) -> MalformedInput:
    return MalformedInput(message, code=Code.STATUS_LIST_INVALID)


def _inflate(compressed: bytes, *, limit: int) -> bytearray:
    """ZLIB-format inflate into at most ``limit + 1`` bytes, a bounded chunk at a time.

    Chunks go straight into one buffer, so peak memory stays near ``limit``
    (a single ``decompress(data, limit)`` call would hold the output twice).
    """
    inflater = zlib.decompressobj(wbits=15)  # ZLIB header required: no gzip, no raw DEFLATE
    data = bytearray()
    pending = compressed
    try:
        while True:
            want = min(_CHUNK, limit + 1 - len(data))
            chunk = inflater.decompress(pending, want)
            data += chunk
            if len(data) > limit:
                raise MalformedInput(
                    f"the status list inflates to more than {limit} bytes",
                    code=Code.SIZE_EXCEEDED,
                )
            pending = inflater.unconsumed_tail
            # a short chunk means zlib consumed all input and had no more output
            if inflater.eof or len(chunk) < want:
                break
    except zlib.error as exc:
        raise _invalid(f"status list 'lst' is not ZLIB-compressed data ({exc})") from None
    if not inflater.eof:
        raise _invalid("status list 'lst' is a truncated ZLIB stream")
    if inflater.unused_data:
        raise _invalid("status list 'lst' has bytes after the end of its ZLIB stream")
    return data


class StatusList:
    """A list of ``size`` statuses of ``bits`` bits each, all VALID (0) at creation."""

    __slots__ = ("_bits", "_data", "_frozen", "_mask", "_size")

    def __init__(self, bits: Bits, size: int) -> None:
        if not _is_int(bits) or bits not in _BITS:
            raise Misuse(f"bits is one of 1, 2, 4 or 8, not {bits!r}")
        if not _is_int(size) or size < 1:
            raise Misuse(f"a status list has at least one entry, not {size!r}")
        self._setup(bits, size, bytearray((size * bits + 7) // 8))

    def _setup(self, bits: int, size: int, data: bytearray) -> None:
        self._bits = bits
        self._size = size
        self._mask = (1 << bits) - 1
        self._data = data
        self._frozen = False

    @classmethod
    def from_bytes(cls, bits: Bits, data: bytes) -> StatusList:
        """A list over an uncompressed byte array; its size is every slot the bytes hold."""
        if not _is_int(bits) or bits not in _BITS:
            raise Misuse(f"bits is one of 1, 2, 4 or 8, not {bits!r}")
        if not data:
            raise Misuse("a status list has at least one byte")
        result = cls.__new__(cls)
        result._setup(bits, len(data) * 8 // bits, bytearray(data))
        return result

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def size(self) -> int:
        """Number of entries; a decoded list counts every slot its bytes hold."""
        return self._size

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Make the list read-only from now on: :meth:`set` raises :class:`Misuse`."""
        self._frozen = True

    def copy(self) -> StatusList:
        """A writable copy (an issuer's next list starts from the last one it published)."""
        result = StatusList.__new__(StatusList)
        result._setup(self._bits, self._size, bytearray(self._data))
        return result

    def get(self, idx: int) -> int:
        """The raw status value at ``idx``. An index outside the list is refused."""
        if not _is_int(idx):
            raise Misuse(f"a status index is an int, not {type(idx).__name__}")
        if not 0 <= idx < self._size:
            raise StatusRefused(
                f"status index {idx} is outside the list of {self._size} entries",
                code=Code.STATUS_INDEX_OUT_OF_RANGE,
            )
        position = idx * self._bits
        return (self._data[position >> 3] >> (position & 7)) & self._mask

    def set(self, idx: int, value: int) -> None:
        """Write ``value`` (0 .. 2**bits - 1) at ``idx``."""
        if self._frozen:
            raise Misuse("this status list is read-only (verified or frozen); copy() it first")
        if not _is_int(idx) or not 0 <= idx < self._size:
            raise Misuse(f"status index {idx!r} is outside the list of {self._size} entries")
        if not _is_int(value) or not 0 <= value <= self._mask:
            raise Misuse(f"status value {value!r} does not fit in {self._bits} bit(s)")
        position = idx * self._bits
        shift = position & 7
        byte = position >> 3
        self._data[byte] = (self._data[byte] & ~(self._mask << shift) & 0xFF) | (value << shift)

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return bytes(self._data)

    def encode(self) -> dict[str, Any]:
        """The JSON ``StatusList`` object: ``{"bits": n, "lst": base64url(zlib(bytes))}``."""
        compressed = zlib.compress(bytes(self._data), level=zlib.Z_BEST_COMPRESSION)
        return {"bits": self._bits, "lst": b64url_encode(compressed)}

    @classmethod
    def decode(cls, obj: Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS) -> StatusList:
        """Decode a JSON ``StatusList`` object from a remote party, within ``limits``."""
        if not isinstance(obj, Mapping):
            raise _invalid("a status list is a JSON object")
        bits = obj.get("bits")
        if not _is_int(bits) or bits not in _BITS:
            raise _invalid(f"status list 'bits' is 1, 2, 4 or 8, not {bits!r}")
        lst = obj.get("lst")
        if not isinstance(lst, str):
            raise _invalid("status list 'lst' is a string")
        if len(lst) > limits.max_status_list_token_bytes:
            raise MalformedInput(
                f"status list 'lst' has {len(lst)} characters; "
                f"at most {limits.max_status_list_token_bytes} are accepted",
                code=Code.SIZE_EXCEEDED,
            )
        try:
            compressed = b64url_decode(lst, what="status list 'lst'")
        except MalformedInput as exc:
            raise _invalid(exc.message) from None
        data = _inflate(compressed, limit=limits.max_status_list_bytes)
        if not data:
            raise _invalid("the status list is empty")
        result = cls.__new__(cls)
        result._setup(bits, len(data) * 8 // bits, data)
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits, self._size, self._data) == (other._bits, other._size, other._data)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        state = " frozen" if self._frozen else ""
        return f"<StatusList bits={self._bits} size={self._size}{state}>"


__all__ = ["Bits", "Status", "StatusList"]
