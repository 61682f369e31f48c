"""The issuer's status list: fresh random indices, revoke, suspend, reinstate.

Every status index is drawn at random from the indices never handed out
before, so an index says nothing about issuance order and is never reused
(T23). Revocation is final: a revoked index never becomes valid again (T26).
Needs no signing key: the list is signed when it is served.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from regie_protocol.errors import Code, Misuse, StatusRefused
from regie_protocol.limits import Limits
from regie_protocol.statuslist import Bits, Status, StatusList

from .state import IssuerState

STATUS_BITS: Bits = 2
#: 2^17 entries: a large anonymity set, 32 KiB uncompressed, small when compressed
STATUS_LIST_SIZE = 1 << 17
_OWN_LIMITS = Limits(max_status_list_bytes=1 << 24)


class StatusRegistry:
    """Reads and changes the status parts of an :class:`IssuerState` (the caller saves it)."""

    def __init__(self, state: IssuerState) -> None:
        self.state = state
        size = state.status_list_size or STATUS_LIST_SIZE
        self.list = self._decode(state.status_list, STATUS_BITS, size)
        self._allocated = self._decode(state.allocated, 1, size)

    @staticmethod
    def _decode(encoded: Mapping[str, Any] | None, bits: Bits, size: int) -> StatusList:
        if encoded is None:
            return StatusList(bits, size)
        return StatusList.decode(encoded, limits=_OWN_LIMITS)

    def allocate(self) -> int:
        size = self._allocated.size
        for _ in range(64):
            index = secrets.randbelow(size)
            if not self._allocated.get(index):
                break
        else:
            free = [i for i in range(size) if not self._allocated.get(i)]
            if not free:
                raise StatusRefused("the status list is full", code=Code.STATUS_LIST_INVALID)
            index = secrets.choice(free)
        self._allocated.set(index, 1)
        self.state.allocated = self._allocated.encode()
        return index

    # -- status ------------------------------------------------------------

    def set_status(self, index: int, status: Status) -> None:
        if not 0 <= index < self.list.size or not self._allocated.get(index):
            raise StatusRefused(
                f"status index {index} was never given to a credential of this issuer",
                code=Code.STATUS_INDEX_OUT_OF_RANGE,
            )
        if Status(self.list.get(index)) is Status.INVALID and status is not Status.INVALID:
            raise Misuse("a revoked credential stays revoked; issue a new one instead")
        self.list.set(index, int(status))
        self.state.status_list = self.list.encode()

    def status_of(self, index: int) -> Status:
        return Status(self.list.get(index))


__all__ = ["STATUS_BITS", "STATUS_LIST_SIZE", "StatusRegistry"]
