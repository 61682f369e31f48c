"""``Idempotency-Key`` on the host's state-changing calls (IETF draft idempotency-key-header).

A client that did not get an answer retries with the same key; it gets the
answer the first call gave instead of a second change:

* same ``(scope, key)`` and the same request (by SHA-256) -> the stored answer;
* same ``(scope, key)`` and another request -> ``422 idempotency_conflict``;
* an entry older than :data:`ENTRY_LIFETIME` is forgotten (and purged).

The scope keeps one client's keys apart from another's (``POST /v1/data`` is
scoped to the consent and the DPoP key; ``POST /v1/requests`` to the claimed
verifier). Everything here runs in the caller's transaction (a Core
``Connection``), so an answer is stored together with the change it answers
(the read path does so); where the change is made by another module's own
transaction, the entry is stored right after it, and the call is idempotent by
itself anyway (a request is unique per verifier and request id).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from regie_protocol._encoding import dumps_compact, loads_strict
from regie_protocol.errors import ClaimRefused, Code, MalformedInput

from ..storage.models import metadata

HEADER = "Idempotency-Key"
#: how long an answer is kept for a retry, seconds
ENTRY_LIFETIME = 24 * 3600
#: a key: 1-128 printable ASCII characters without quote, backslash or space; an
#: RFC 8941 string (``"..."``) is accepted too and means the same key without quotes
_KEY = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")
_ENTRIES = metadata.tables["idempotency_entry"]


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A checked key, the scope it is used in, and the hash of the request it came with."""

    scope: str
    key: str
    request_sha256: str


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


def parse_key(value: str | None) -> str | None:
    """The key in an ``Idempotency-Key`` header value (``None`` when absent); else refused."""
    if value is None:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not _KEY.fullmatch(text):
        raise MalformedInput(
            f"{HEADER} is 1-128 printable ASCII characters (no quotes, backslashes or spaces)"
        )
    return text


def request_sha256(*parts: bytes) -> str:
    """The SHA-256 (hex) that says whether a retry is the same request."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def scope_for(route: str, *subject: str) -> str:
    """A scope of at most 100 characters: the route and a hash of who is calling."""
    who = hashlib.sha256("\x00".join(subject).encode("utf-8")).hexdigest()[:40]
    return f"{route[:50]} {who}"


def lookup(conn: Connection, key: IdempotencyKey, *, now: int) -> StoredAnswer | None:
    """The answer stored for ``key``, ``None`` if there is none (or only an expired one)."""
    row = (
        conn.execute(
            select(
                _ENTRIES.c.request_sha256, _ENTRIES.c.status, _ENTRIES.c.body, _ENTRIES.c.created_at
            ).where(_ENTRIES.c.scope == key.scope, _ENTRIES.c.key == key.key)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if int(row["created_at"]) <= now - ENTRY_LIFETIME:
        conn.execute(
            delete(_ENTRIES).where(_ENTRIES.c.scope == key.scope, _ENTRIES.c.key == key.key)
        )
        return None
    if row["request_sha256"] != key.request_sha256:
        raise ClaimRefused(
            f"{HEADER} was used before with another request: use a new key for a new request",
            code=Code.IDEMPOTENCY_CONFLICT,
        )
    body = loads_strict(str(row["body"]).encode("utf-8"), max_depth=16, what="stored answer")
    return StoredAnswer(status=int(row["status"]), body=body)


@cache
def _insert_ignore(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = dialect.insert(_ENTRIES).on_conflict_do_nothing()
    return statement


def store(conn: Connection, key: IdempotencyKey, answer: StoredAnswer, *, now: int) -> None:
    """Keep ``answer`` for ``key`` (a concurrent first store of the same key wins)."""
    conn.execute(
        _insert_ignore(conn.dialect.name),
        {
            "scope": key.scope,
            "key": key.key,
            "request_sha256": key.request_sha256,
            "status": answer.status,
            "body": dumps_compact(answer.body).decode("utf-8"),
            "created_at": now,
        },
    )


def purge(conn: Connection, *, now: int) -> int:
    """Delete entries past :data:`ENTRY_LIFETIME`; the number deleted."""
    result = conn.execute(delete(_ENTRIES).where(_ENTRIES.c.created_at <= now - ENTRY_LIFETIME))
    return int(result.rowcount)


__all__ = [
    "ENTRY_LIFETIME",
    "HEADER",
    "IdempotencyKey",
    "StoredAnswer",
    "lookup",
    "parse_key",
    "purge",
    "request_sha256",
    "scope_for",
    "store",
]
