"""Signed consent status lists, signed once per list change rather than once per GET.

:meth:`StatusTokens.token` reads the list row (one read-only transaction) and
answers a Status List Token (``typ: statuslist+jwt``) signed by the host key
with ``sub`` = the list's URI, ``iat`` = the signing time (never before the
list's own ``iat``), ``exp`` = ``iat + 2 * ttl`` and ``ttl``. The signed token
is kept per list together with the list's ``iat`` and a SHA-256 of its bits:
a burst of GETs reuses it; a changed list (a revocation, even within the same
second) or a token older than half the ``ttl`` is signed anew.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from regie_protocol.keys import SigningKey
from regie_protocol.statuslist import StatusList, sign_status_list

from .. import consent_status
from ..storage import Database
from ..storage.models import metadata

#: ``exp = iat + EXP_TTLS * ttl``: a token outlives its cache time, but not by much
EXP_TTLS = 2
_LISTS = metadata.tables["status_list"]
_SELECT_LIST = select(_LISTS.c.bits, _LISTS.c.lst, _LISTS.c.iat).where(
    _LISTS.c.id == bindparam("list_id")
)


@dataclass(frozen=True, slots=True)
class _Signed:
    list_iat: int
    digest: bytes
    signed_at: int
    token: str


class StatusTokens:
    """The host's status-list tokens, cached per list. Thread-safe."""

    def __init__(self, db: Database, key: SigningKey, *, host_url: str, ttl: int) -> None:
        self.db = db
        self.key = key
        self.host_url = host_url
        self.ttl = ttl
        self._signed: dict[str, _Signed] = {}
        self._lock = threading.Lock()

    def token(self, list_id: str, *, now: int) -> str | None:
        """The signed token of ``list_id`` at ``now``; ``None`` when there is no such list."""
        row = self.db.run(
            lambda conn: conn.execute(_SELECT_LIST, {"list_id": list_id}).first(),
            write=False,
        )
        if row is None:
            return None
        bits, lst, list_iat = int(row[0]), bytes(row[1]), int(row[2])
        digest = hashlib.sha256(lst).digest()
        with self._lock:
            kept = self._signed.get(list_id)
        if (
            kept is not None
            and kept.list_iat == list_iat
            and kept.digest == digest
            and kept.signed_at <= now < kept.signed_at + max(1, self.ttl // 2)
        ):
            return kept.token
        iat = max(now, list_iat)
        token = sign_status_list(
            StatusList.from_bytes(bits, lst),  # type: ignore[arg-type]
            key=self.key,
            uri=consent_status.list_uri(self.host_url, list_id),
            iat=iat,
            exp=iat + EXP_TTLS * self.ttl,
            ttl=self.ttl,
        )
        with self._lock:
            self._signed[list_id] = _Signed(list_iat, digest, iat, token)
        return token


__all__ = ["EXP_TTLS", "StatusTokens"]
