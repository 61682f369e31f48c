"""Consent-token payloads already decoded and validated once, keyed by their exact text.

:func:`~regie_protocol.consent.verify_consent` decodes a token's payload
segment (strict base64url and JSON) and builds :class:`ConsentClaims` from it
(every field checked). Both are pure functions of the segment's text and the
JSON depth limit, so when the same consent token comes back (a verifier checks
it on every read) they are taken from here, the way :mod:`regie_protocol.jws`
keeps parsed headers. What is kept:

* only the payloads of tokens that passed ``verify_consent`` in full once
  (signature, times, audience, claims): a refused token leaves nothing behind,
  and payloads nobody could verify cannot fill the cache;
* the decoded JSON, deep read-only (objects refuse changes, arrays are
  tuples), and the frozen :class:`ConsentClaims` built from it; neither is
  ever handed to a caller of ``verify_consent`` but the claims, which are
  immutable;
* at most :data:`MAX_ENTRIES` payloads, the least recently used dropped first.

Nothing about a call is kept: every call still reads the size, the parts, the
header and the signature, looks up the holder key and compares its
thumbprint with ``iss``, verifies the signature and checks ``typ``, the
algorithm, the required claims, the times and the audience.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NoReturn

from ._model import ConsentClaims

#: payloads kept at most (a 16 KiB token is the largest; a consent is about 1.6 KiB)
MAX_ENTRIES = 256


class _ReadOnlyDict(dict[str, Any]):
    """A JSON object that refuses changes."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError("a cached consent payload is read-only")

    __setitem__ = __delitem__ = __ior__ = _refuse
    update = pop = popitem = clear = setdefault = _refuse


class VerifiedPayload(_ReadOnlyDict):
    """The decoded JSON of a payload that verified once, read-only, with its claims."""

    __slots__ = ("claims",)
    claims: ConsentClaims

    def __init__(self, json: Mapping[str, Any], claims: ConsentClaims) -> None:
        if hasattr(self, "claims"):
            self._refuse()
        dict.__init__(self, {name: _frozen(value) for name, value in json.items()})
        object.__setattr__(self, "claims", claims)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        self._refuse()

    def __delattr__(self, name: str) -> NoReturn:
        self._refuse()


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return _ReadOnlyDict({name: _frozen(item) for name, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    return value


class PayloadCache:
    """Bounded LRU of :class:`VerifiedPayload` by ``(payload segment, max JSON depth)``."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, int], VerifiedPayload] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, segment: str, max_depth: int) -> VerifiedPayload | None:
        """The payload decoded before from exactly ``segment`` under ``max_depth``, or None."""
        key = (segment, max_depth)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        return entry

    def put(
        self, segment: str, max_depth: int, json: Mapping[str, Any], claims: ConsentClaims
    ) -> None:
        """Keep a payload whose token passed every check of ``verify_consent``."""
        entry = VerifiedPayload(json, claims)
        with self._lock:
            self._entries[(segment, max_depth)] = entry
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: the process-wide cache ``verify_consent`` uses
PAYLOADS = PayloadCache()

__all__ = ["MAX_ENTRIES", "PAYLOADS", "PayloadCache", "VerifiedPayload"]
