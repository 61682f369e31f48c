"""The read's SQL: one SELECT for everything a read checks, and the record of a use.

:func:`fetch_read_row` reads, by the consent's id, in one statement: the
consent row, the byte of its status list holding its 2-bit entry (not the
whole list), the owner's verifier registry and the release. On PostgreSQL the
consent row is locked (``SELECT ... FOR UPDATE OF consent``) until the
transaction ends, so two reads of one consent take turns; SQLite's ``BEGIN
IMMEDIATE`` already serialises writers. :func:`record_use` writes ``uses``,
``last_used_at`` and the ``consent.used`` event (on PostgreSQL in one
statement, ``WITH counted AS (UPDATE ... RETURNING) INSERT ... SELECT``).

Both run on the transaction's DBAPI cursor with their SQL compiled once per
dialect (:mod:`wallet.host.prepared`); values are always bound parameters.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.sql import ClauseElement

from regie_protocol.errors import Misuse

from .. import consent_status
from ..storage import ConsentEventName
from ..storage.models import metadata
from .prepared import Prepared

_C = metadata.tables["consent"]
_L = metadata.tables["status_list"]
_R = metadata.tables["registry"]
_REL = metadata.tables["release"]
_BITS = consent_status.LIST_BITS
_READ = (
    select(
        _C.c.owner, _C.c.verifier_id, _C.c.state, _C.c.token, _C.c.status_list_id,
        _C.c.status_idx, _C.c.uses, _C.c.last_used_at, _C.c.holder_jwk,
        _L.c.bits.label("list_bits"), _L.c.size.label("list_size"),
        func.substr(
            _L.c.lst, cast((_C.c.status_idx * _BITS) // 8 + 1, Integer), 1
        ).label("status_byte"),
        _R.c.registrar_jwk, _R.c.document,
        _REL.c.jwe, _REL.c.attributes.label("released"),
    )
    .select_from(
        _C.outerjoin(_L, _L.c.id == _C.c.status_list_id)
        .outerjoin(_R, _R.c.owner == _C.c.owner)
        .outerjoin(_REL, and_(_REL.c.consent_id == _C.c.id, _REL.c.owner == _C.c.owner))
    )
    .where(_C.c.id == bindparam("id"))
)  # fmt: skip
_READ_ROW = Prepared(
    lambda dialect: _READ.with_for_update(of=_C) if dialect == "postgresql" else _READ
)
_EVENT = metadata.tables["consent_event"]
_COUNT_USE = (
    update(_C)
    .where(_C.c.id == bindparam("cid"))
    .values(uses=bindparam("new_uses"), last_used_at=bindparam("at"))
)
_USED = ConsentEventName.USED.value
_EVENT_COLUMNS = ("consent_id", "owner", "name", "at", "detail")
_RECORD_USE = Prepared.of(_COUNT_USE)
_RECORD_EVENT = Prepared.of(
    insert(_EVENT).values(
        consent_id=bindparam("cid"),
        owner=bindparam("owner"),
        name=_USED,
        at=bindparam("at"),
        detail=bindparam("detail"),
    )
)


def _use_and_event() -> ClauseElement:
    """PostgreSQL: the count and the event in one statement (one round trip)."""
    counted = _COUNT_USE.returning(_C.c.id).cte("counted")
    event = select(
        counted.c.id, bindparam("owner"), literal(_USED), bindparam("at"), bindparam("detail")
    )
    return insert(_EVENT).from_select(_EVENT_COLUMNS, event)


_RECORD_USE_AND_EVENT = Prepared(lambda _: _use_and_event())


class ReadRow(NamedTuple):
    """What a read checks, as stored now (``None``: no such status list, registry or release)."""

    owner: str
    verifier_id: str
    state: str
    token: str
    status_list_id: str
    status_idx: int
    uses: int
    last_used_at: int | None
    holder_jwk: str | None
    list_bits: int | None
    list_size: int | None
    #: the byte of the status list that holds the consent's entry
    status_byte: bytes | None
    registrar_jwk: str | None
    document: str | None
    jwe: str | None
    #: the released attribute names (JSON list)
    released: str | None


if tuple(column.key for column in _READ.selected_columns) != ReadRow._fields:
    raise AssertionError("ReadRow does not match the columns of the read statement")


def fetch_read_row(conn: Connection, consent_id: str) -> ReadRow | None:
    """The consent ``consent_id`` and what its read checks (locked on PostgreSQL), or ``None``."""
    found = _READ_ROW.first(conn, {"id": consent_id})
    return None if found is None else ReadRow._make(found)


def record_use(
    conn: Connection, *, consent_id: str, owner: str, use: int, at: int, detail: str
) -> None:
    """Count use number ``use`` at ``at`` and write its ``consent.used`` event (JSON ``detail``)."""
    params = {"cid": consent_id, "new_uses": use, "at": at, "owner": owner, "detail": detail}
    if conn.dialect.name == "postgresql":
        if _RECORD_USE_AND_EVENT.run(conn, params) != 1:
            raise Misuse(f"consent {consent_id} vanished while it was read")
        return
    _RECORD_USE.run(conn, params)
    _RECORD_EVENT.run(conn, params)


__all__ = ["ReadRow", "fetch_read_row", "record_use"]
