"""One log event: what happened to a consent or its data, as canonical JSON (RFC 8785).

::

    body = encode_event(
        EventName.RELEASED, at=now, subject=pseudonym(key, owner),
        details={"consent_id": cid, "verifier": vid, "attributes": ["address"], "use": 1},
    )
    view = EventView.of(index, body)          # an auditor's reading of it (strict)

The field names follow *Logboek Dataverwerkingen* (``trace_id``, ``span_id``,
``foreign_operation``, ``name``, ``status_code``, ``start_time``, ``end_time``,
``resource`` and the ``dpl.core.*`` attributes); Regie's own fields are
attributes named ``regie.*`` (docs/log-fields.md maps each one). The event
names form a closed list (:class:`EventName`), and so do the ``regie.*``
fields (:data:`DETAIL_TYPES`): a field that is not on the list is a bug in the
caller, not something to log.

What never goes into an event (T22): attribute *values* (only their names), a
citizen's identifier (only a keyed pseudonym, :func:`pseudonym`), free text.
Strings are bounded and JSON-escaped, so CR/LF or terminal escapes in a
verifier id cannot forge a line of anyone's log view. ``regie.salt`` (16
random bytes) makes two otherwise equal events hash differently, so a leaf
hash cannot be confirmed by guessing a low-entropy event.

The encoding is RFC 8785 (JCS). For the values an event may hold (strings,
integers below 2**53, lists of strings, objects with ASCII keys) JCS is
``json.dumps`` with sorted keys, no whitespace and no ASCII escaping, which is
what :func:`encode_event` runs (a test checks it against the ``rfc8785``
package); :func:`decode_event` refuses anything that is not byte-equal to its
own canonical form.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from importlib import metadata
from typing import Any

from .._encoding import b64url_encode, loads_strict
from ..errors import Code, LogRefused, MalformedInput, Misuse


class EventName(StrEnum):
    """The closed list of logged events."""

    REQUESTED = "consent.requested"
    GRANTED = "consent.granted"
    REFUSED = "consent.refused"
    WITHDRAWN = "consent.withdrawn"
    REVOKED = "consent.revoked"
    EXPIRED = "consent.expired"
    SUSPENDED = "consent.suspended"
    REINSTATED = "consent.reinstated"
    RELEASED = "data.released"
    READ_REFUSED = "data.refused"
    PURGED = "retention.purged"


#: an event's canonical bytes at most
MAX_EVENT_BYTES = 8192
#: a logged string at most (ids, names, refusal types)
MAX_STRING = 512
#: attribute names in one event at most
MAX_NAMES = 64
SUBJECT_ID_TYPE = "regie-pseudonym"
RESOURCE_NAME = "regie-wallet-host"

#: the ``regie.*`` fields an event may carry, and their kinds
DETAIL_TYPES: dict[str, str] = {
    "consent_id": "str",
    "consent_hash": "str",
    "verifier": "str",
    "purpose": "str",
    "legal_basis": "str",
    "attributes": "names",
    "use": "int",
    "outcome": "str",
    "refusal_type": "str",
    "request_id": "str",
    "expires_at": "time",
    "max_uses": "int",
    "frequency": "int",
    "retention": "int",
    "purged_at": "time",
    #: written as ``dpl.core.processing_activity_id`` (the verifier's register entry)
    "processing_activity": "str",
}

_MAX_SAFE_INT = 2**53 - 1
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")


def _version() -> str:
    try:
        return metadata.version("regie")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return "0"


_RESOURCE = {"name": RESOURCE_NAME, "version": _version()}


@dataclass(frozen=True, slots=True)
class TraceParent:
    """A W3C Trace Context ``traceparent``: the caller's trace, kept as ``foreign_operation``."""

    trace_id: str
    span_id: str
    flags: str = "01"

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def parse_traceparent(value: str | None) -> TraceParent | None:
    """The ``traceparent`` header's trace, or ``None`` when absent or not valid (W3C §3.2).

    Never raises: a verifier's bad trace header must not refuse its read.
    """
    if value is None or len(value) > 128:
        return None
    match = _TRACEPARENT.match(value.strip())
    if match is None:
        return None
    version, trace_id, span_id, flags = match.groups()
    if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return TraceParent(trace_id, span_id, flags)


def pseudonym(key: bytes, subject: str) -> str:
    """The keyed pseudonym of a citizen in one log: base64url HMAC-SHA256 (43 characters)."""
    if len(key) < 32:
        raise Misuse("a pseudonym key has at least 32 bytes")
    return b64url_encode(hmac.new(key, subject.encode("utf-8"), hashlib.sha256).digest())


@lru_cache(maxsize=4096)
def rfc3339(at: int) -> str:
    """Epoch seconds as ``YYYY-MM-DDTHH:MM:SSZ`` (cached: events come in bursts of one second)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text: str) -> int:
    """The inverse of :func:`rfc3339`; refuses any other spelling."""
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise MalformedInput(f"{text!r} is not a time as YYYY-MM-DDTHH:MM:SSZ") from None
    return int(parsed.timestamp())


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_STRING:
        raise Misuse(f"log field {name} must be a string of 1..{MAX_STRING} characters")
    return value


def _detail(name: str, value: Any) -> Any:
    kind = DETAIL_TYPES.get(name)
    if kind is None:
        raise Misuse(f"{name!r} is not a log field (see DETAIL_TYPES)")
    if kind == "str":
        return _string(name, value)
    if kind == "names":
        names = list(value)
        if len(names) > MAX_NAMES:
            raise Misuse(f"log field {name} holds at most {MAX_NAMES} names")
        return sorted({_string(name, item) for item in names})
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_SAFE_INT:
        raise Misuse(f"log field {name} must be a non-negative integer")
    return rfc3339(value) if kind == "time" else value


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of an event-shaped value (see the module docstring for why this is JCS)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def encode_event(
    name: EventName,
    *,
    at: int,
    subject: str,
    details: Mapping[str, Any],
    foreign: TraceParent | None = None,
    outcome_ok: bool = True,
    salt: bytes | None = None,
) -> bytes:
    """The canonical bytes of one event; ``details`` are ``regie.*`` fields without the prefix."""
    # one call to the system's random source for the trace id, span id and salt
    fresh = secrets.token_bytes(40)
    attributes: dict[str, Any] = {
        "dpl.core.data_subject_id": _string("subject", subject),
        "dpl.core.data_subject_id_type": SUBJECT_ID_TYPE,
        "regie.salt": b64url_encode(salt if salt is not None else fresh[24:]),
    }
    for key, value in details.items():
        if value is not None and key != "processing_activity":
            attributes[f"regie.{key}"] = _detail(key, value)
    activity = details.get("processing_activity")
    verifier, purpose = details.get("verifier"), details.get("purpose")
    if activity:
        attributes["dpl.core.processing_activity_id"] = _detail("processing_activity", activity)
    elif verifier and purpose:
        attributes["dpl.core.processing_activity_id"] = f"{verifier}#{purpose}"
    when = rfc3339(at)
    event: dict[str, Any] = {
        "name": EventName(name).value,
        "trace_id": fresh[:16].hex(),
        "span_id": fresh[16:24].hex(),
        "status_code": "OK" if outcome_ok else "ERROR",
        "start_time": when,
        "end_time": when,
        "resource": _RESOURCE,
        "attributes": attributes,
    }
    if foreign is not None:
        event["foreign_operation"] = {"trace_id": foreign.trace_id, "span_id": foreign.span_id}
    body = canonical(event)
    if len(body) > MAX_EVENT_BYTES:
        raise Misuse(f"a log event is at most {MAX_EVENT_BYTES} bytes, this one {len(body)}")
    return body


_REQUIRED = ("name", "trace_id", "span_id", "status_code", "start_time", "end_time", "attributes")


def decode_event(data: bytes) -> dict[str, Any]:
    """One logged event, strictly: size, UTF-8 JSON, canonical form, a known name, its fields."""
    if len(data) > MAX_EVENT_BYTES:
        raise LogRefused(
            f"a log event is at most {MAX_EVENT_BYTES} bytes", code=Code.LOG_EVENT_MISMATCH
        )
    try:
        value = loads_strict(data, max_depth=4, what="a log event")
    except MalformedInput as exc:
        raise LogRefused(exc.message, code=Code.LOG_EVENT_MISMATCH) from None
    if not isinstance(value, dict) or any(key not in value for key in _REQUIRED):
        raise LogRefused("a log event lacks required fields", code=Code.LOG_EVENT_MISMATCH)
    if canonical(value) != data:
        raise LogRefused(
            "a log event is not canonical JSON (RFC 8785)", code=Code.LOG_EVENT_MISMATCH
        )
    try:
        EventName(value["name"])
    except ValueError:
        raise LogRefused(
            f"unknown log event name {str(value['name'])[:64]!r}", code=Code.LOG_EVENT_MISMATCH
        ) from None
    if not isinstance(value["attributes"], dict):
        raise LogRefused("a log event's attributes are not an object", code=Code.LOG_EVENT_MISMATCH)
    if not (_HEX32.match(str(value["trace_id"])) and _HEX16.match(str(value["span_id"]))):
        raise LogRefused("a log event's trace ids are malformed", code=Code.LOG_EVENT_MISMATCH)
    return value


def _opt_str(attrs: Mapping[str, Any], key: str) -> str | None:
    value = attrs.get(f"regie.{key}")
    return value if isinstance(value, str) else None


def _opt_int(attrs: Mapping[str, Any], key: str) -> int | None:
    value = attrs.get(f"regie.{key}")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_time(attrs: Mapping[str, Any], key: str) -> int | None:
    value = attrs.get(f"regie.{key}")
    return epoch(value) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class EventView:
    """An auditor's reading of one event (from :func:`decode_event`)."""

    index: int
    name: EventName
    at: int
    subject: str
    consent_id: str | None
    verifier: str | None
    purpose: str | None
    legal_basis: str | None
    attributes: tuple[str, ...]
    use: int | None
    outcome: str | None
    refusal_type: str | None
    expires_at: int | None
    max_uses: int | None
    frequency: int | None
    retention: int | None
    purged_at: int | None
    processing_activity: str | None
    raw: dict[str, Any]

    @classmethod
    def of(cls, index: int, data: bytes) -> EventView:
        value = decode_event(data)
        attrs: dict[str, Any] = value["attributes"]
        names = attrs.get("regie.attributes", [])
        try:
            return cls(
                index=index,
                name=EventName(value["name"]),
                at=epoch(value["start_time"]),
                subject=str(attrs.get("dpl.core.data_subject_id", "")),
                consent_id=_opt_str(attrs, "consent_id"),
                verifier=_opt_str(attrs, "verifier"),
                purpose=_opt_str(attrs, "purpose"),
                legal_basis=_opt_str(attrs, "legal_basis"),
                attributes=tuple(str(n) for n in names) if isinstance(names, list) else (),
                use=_opt_int(attrs, "use"),
                outcome=_opt_str(attrs, "outcome"),
                refusal_type=_opt_str(attrs, "refusal_type"),
                expires_at=_opt_time(attrs, "expires_at"),
                max_uses=_opt_int(attrs, "max_uses"),
                frequency=_opt_int(attrs, "frequency"),
                retention=_opt_int(attrs, "retention"),
                purged_at=_opt_time(attrs, "purged_at"),
                processing_activity=(
                    str(attrs["dpl.core.processing_activity_id"])
                    if "dpl.core.processing_activity_id" in attrs
                    else None
                ),
                raw=value,
            )
        except MalformedInput as exc:
            raise LogRefused(
                f"event {index}: {exc.message}", code=Code.LOG_EVENT_MISMATCH
            ) from None


__all__ = [
    "DETAIL_TYPES",
    "MAX_EVENT_BYTES",
    "SUBJECT_ID_TYPE",
    "EventName",
    "EventView",
    "TraceParent",
    "canonical",
    "decode_event",
    "encode_event",
    "epoch",
    "parse_traceparent",
    "pseudonym",
    "rfc3339",
]
