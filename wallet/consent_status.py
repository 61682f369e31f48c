"""The host's consent status lists: a fresh random index per consent, bits set on revocation.

Consents point into Token Status Lists that belong to the wallet host, not to
one citizen (a per-citizen list would let verifiers link a citizen by its URI,
T23). Lists are named ``consents-1``, ``consents-2``, ...: 2 bits per entry
(VALID, INVALID, SUSPENDED), :data:`LIST_SIZE` entries, created on first use
and served at ``{host_url}/v1/status-lists/{id}`` (issue 4).

Allocation (:func:`allocate`) draws a uniformly random index, so the index says
nothing about when or by whom the consent was given, and inserts it into
``status_allocation``, whose primary key makes each index usable once, forever
(rows are never deleted). A taken index is skipped and another one drawn; after
:data:`MAX_DRAWS` taken draws in a row the list is considered full enough and
the next list is opened. Everything here runs inside the caller's transaction
(a Core ``Connection``), so an allocation commits together with its consent.

Concurrency: on SQLite writers are serialised (``BEGIN IMMEDIATE``); on
PostgreSQL (SERIALIZABLE) two transactions racing for one index end with one
``ON CONFLICT DO NOTHING`` miss or a serialization failure that
:meth:`wallet.storage.Database.run` re-runs. Either way no index is handed out
twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import cache

from sqlalchemy import Connection, Insert, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from regie_protocol.errors import Misuse
from regie_protocol.statuslist import Status, StatusList

from .storage import StatusList as StatusListRow
from .storage.models import metadata

LIST_PREFIX = "consents-"
LIST_BITS = 2
#: entries per list: 2**17 (32 KiB of 2-bit entries), the draft's advice for herd privacy
LIST_SIZE = 2**17
#: taken indices drawn in a row before the next list is opened
MAX_DRAWS = 16
STATUS_LIST_PATH = "/v1/status-lists/"

#: draws an integer in ``[0, n)``; :func:`secrets.randbelow` unless a test passes another
RandBelow = Callable[[int], int]


def list_uri(host_url: str, list_id: str) -> str:
    """Where the host serves the list ``list_id``."""
    return host_url.rstrip("/") + STATUS_LIST_PATH + list_id


def _number(list_id: str) -> int:
    suffix = list_id.removeprefix(LIST_PREFIX)
    return int(suffix) if list_id.startswith(LIST_PREFIX) and suffix.isdigit() else 0


_LISTS = metadata.tables["status_list"]
_ALLOCATIONS = metadata.tables["status_allocation"]


@cache
def _insert_ignore(dialect_name: str, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING <first key>``, built once per dialect.

    Executed with bound parameters (a Core ``Table``, not the ORM class): the hot
    path builds no statement. RETURNING, not ``rowcount``: psycopg reports no
    row count for ``ON CONFLICT`` inserts.
    """
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    first_key = next(iter(table.primary_key.columns))
    statement: Insert = dialect.insert(table).on_conflict_do_nothing().returning(first_key)
    return statement


_SELECT_LISTS = select(_LISTS.c.id).where(_LISTS.c.id.startswith(LIST_PREFIX))


def _ensure_list(conn: Connection, list_id: str, now: int) -> None:
    size_bytes = (LIST_SIZE * LIST_BITS + 7) // 8
    conn.execute(
        _insert_ignore(conn.dialect.name, _LISTS),
        {"id": list_id, "bits": LIST_BITS, "size": LIST_SIZE, "lst": bytes(size_bytes), "iat": now},
    )


def current_list(conn: Connection, *, now: int) -> str:
    """The newest consent list, created when there is none yet."""
    ids = conn.execute(_SELECT_LISTS).scalars()
    numbers = [n for n in (_number(i) for i in ids) if n > 0]
    list_id = f"{LIST_PREFIX}{max(numbers, default=1)}"
    if not numbers:
        _ensure_list(conn, list_id, now)
    return list_id


def allocate(
    conn: Connection, *, now: int, randbelow: RandBelow = secrets.randbelow
) -> tuple[str, int]:
    """A fresh ``(list id, index)``, recorded in ``status_allocation`` in the caller's tx."""
    list_id = current_list(conn, now=now)
    insert_allocation = _insert_ignore(conn.dialect.name, _ALLOCATIONS)
    for _ in range(4):  # at most a few new lists in one call; each is tried MAX_DRAWS times
        for _ in range(MAX_DRAWS):
            idx = randbelow(LIST_SIZE)
            if not 0 <= idx < LIST_SIZE:
                raise Misuse(f"randbelow gave {idx}, outside 0..{LIST_SIZE - 1}")
            taken = conn.execute(
                insert_allocation, {"status_list_id": list_id, "idx": idx, "allocated_at": now}
            ).first()
            if taken is not None:
                return list_id, idx
        list_id = f"{LIST_PREFIX}{_number(list_id) + 1}"
        _ensure_list(conn, list_id, now)
    raise Misuse("could not find a free status index: is randbelow random?")


def _load(conn: Connection, list_id: str) -> tuple[StatusList, int]:
    row = (
        conn.execute(
            select(col(StatusListRow.bits), col(StatusListRow.lst), col(StatusListRow.iat)).where(
                col(StatusListRow.id) == list_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise Misuse(f"there is no status list {list_id!r}")
    return StatusList.from_bytes(row["bits"], bytes(row["lst"])), int(row["iat"])


def set_status(conn: Connection, list_id: str, idx: int, status: Status, *, now: int) -> None:
    """Write ``status`` at ``idx`` in the caller's transaction; the list's ``iat`` only grows."""
    lst, iat = _load(conn, list_id)
    lst.set(idx, int(status))
    conn.execute(
        update(StatusListRow)
        .where(col(StatusListRow.id) == list_id)
        .values(lst=lst.to_bytes(), iat=max(iat, now))
    )


def get_status(conn: Connection, list_id: str, idx: int) -> int:
    """The raw status value at ``idx`` (0 VALID, 1 INVALID, 2 SUSPENDED)."""
    lst, _ = _load(conn, list_id)
    return lst.get(idx)


__all__ = [
    "LIST_BITS",
    "LIST_PREFIX",
    "LIST_SIZE",
    "MAX_DRAWS",
    "STATUS_LIST_PATH",
    "RandBelow",
    "allocate",
    "current_list",
    "get_status",
    "list_uri",
    "set_status",
]
