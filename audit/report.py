"""What the log shows: violations of the consents, and summaries a person can read.

Pure functions over :class:`~regie_protocol.tlog.event.EventView` in log
order; no I/O, no clock (``now`` is passed in). :class:`Analyser` takes one
event at a time, so a million-event log is never held in memory;
:func:`analyse` runs it over any iterable.

Violations (each a :class:`ViolationKind`, in plain words in ``detail``):

* ``released_without_consent``: data released under a consent the log never granted;
* ``released_after_end``: released after the consent was withdrawn, revoked or
  expired (an event, or the granted ``expires_at`` passed);
* ``released_while_suspended``: released between a suspension and its reinstatement;
* ``released_outside_grant``: released to another verifier or purpose than granted;
* ``attributes_beyond_consent``: attributes released that the consent did not name;
* ``uses_beyond_max``: more releases than the consent's ``max_uses``;
* ``frequency_exceeded``: two releases closer together than the consent's ``frequency``;
* ``kept_past_retention``: the purge came later than the end of the consent plus its
  ``retention``;
* ``not_purged``: that deadline has passed by ``now`` and no purge was logged.

"After" follows log order for events (the log is append-only, so a later index
happened later) and time for ``expires_at``. Retention applies to consents
under which data was released and whose grant states a retention.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from regie_protocol.tlog.event import EventName, EventView, rfc3339

REPORT_FORMAT = "regie-audit-report"
REPORT_VERSION = 1
UNKNOWN = "(not stated)"
_DAY = 86_400
#: more buckets than this and the timeline uses a coarser unit
_MAX_BUCKETS = 120


class ViolationKind(StrEnum):
    RELEASED_WITHOUT_CONSENT = "released_without_consent"
    RELEASED_AFTER_END = "released_after_end"
    RELEASED_WHILE_SUSPENDED = "released_while_suspended"
    RELEASED_OUTSIDE_GRANT = "released_outside_grant"
    ATTRIBUTES_BEYOND_CONSENT = "attributes_beyond_consent"
    USES_BEYOND_MAX = "uses_beyond_max"
    FREQUENCY_EXCEEDED = "frequency_exceeded"
    KEPT_PAST_RETENTION = "kept_past_retention"
    NOT_PURGED = "not_purged"


#: a short title for each kind, for tables
KIND_TITLES: dict[ViolationKind, str] = {
    ViolationKind.RELEASED_WITHOUT_CONSENT: "Released without consent",
    ViolationKind.RELEASED_AFTER_END: "Released after the consent ended",
    ViolationKind.RELEASED_WHILE_SUSPENDED: "Released while suspended",
    ViolationKind.RELEASED_OUTSIDE_GRANT: "Released to another service or purpose",
    ViolationKind.ATTRIBUTES_BEYOND_CONSENT: "More data than consented",
    ViolationKind.USES_BEYOND_MAX: "Read more often than allowed",
    ViolationKind.FREQUENCY_EXCEEDED: "Read again too soon",
    ViolationKind.KEPT_PAST_RETENTION: "Kept too long",
    ViolationKind.NOT_PURGED: "Not deleted in time",
}

_ENDS = {
    EventName.WITHDRAWN: "withdrawn",
    EventName.REVOKED: "revoked",
    EventName.EXPIRED: "expired",
}


@dataclass(frozen=True, slots=True)
class Violation:
    kind: ViolationKind
    #: the event that shows it (for ``not_purged``: the event that ended the consent, or its grant)
    index: int
    at: int
    consent_id: str | None
    verifier: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Tally:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class Bucket:
    start: int
    reads: int = 0
    grants: int = 0
    ends: int = 0
    refusals: int = 0

    @property
    def total(self) -> int:
        return self.reads + self.grants + self.ends + self.refusals


@dataclass(frozen=True, slots=True)
class Timeline:
    unit: str  # day | week | month | year
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True, slots=True)
class AuditReport:
    now: int
    events: int
    first_at: int | None
    last_at: int | None
    by_name: dict[str, int]
    reads_by_verifier: tuple[Tally, ...]
    reads_by_purpose: tuple[Tally, ...]
    reads_by_legal_basis: tuple[Tally, ...]
    refusals_by_type: tuple[Tally, ...]
    timeline: Timeline
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(slots=True)
class _Consent:
    grant_index: int | None = None
    verifier: str | None = None
    purpose: str | None = None
    attributes: frozenset[str] = frozenset()
    expires_at: int | None = None
    max_uses: int | None = None
    frequency: int | None = None
    retention: int | None = None
    ended_at: int | None = None
    ended_index: int | None = None
    ended_how: str | None = None
    suspended: bool = False
    releases: int = 0
    last_release_at: int | None = None
    purged_at: int | None = None
    purge_index: int | None = None


@dataclass(slots=True)
class _Day:
    reads: int = 0
    grants: int = 0
    ends: int = 0
    refusals: int = 0


@dataclass
class Analyser:
    """Feed events in log order with :meth:`add`; :meth:`finish` gives the report."""

    _consents: dict[str, _Consent] = field(default_factory=dict)
    _violations: list[Violation] = field(default_factory=list)
    _names: Counter[str] = field(default_factory=Counter)
    _verifiers: Counter[str] = field(default_factory=Counter)
    _purposes: Counter[str] = field(default_factory=Counter)
    _bases: Counter[str] = field(default_factory=Counter)
    _refusals: Counter[str] = field(default_factory=Counter)
    _days: dict[int, _Day] = field(default_factory=dict)
    _first: int | None = None
    _last: int | None = None
    _count: int = 0

    def add(self, event: EventView) -> None:
        self._count += 1
        self._names[event.name.value] += 1
        self._first = event.at if self._first is None else min(self._first, event.at)
        self._last = event.at if self._last is None else max(self._last, event.at)
        day = self._days.setdefault(event.at // _DAY, _Day())
        name = event.name
        if name is EventName.GRANTED:
            day.grants += 1
            self._grant(event)
        elif name in _ENDS:
            day.ends += 1
            self._end(event)
        elif name is EventName.SUSPENDED or name is EventName.REINSTATED:
            self._state(event).suspended = name is EventName.SUSPENDED
        elif name is EventName.RELEASED:
            day.reads += 1
            self._verifiers[event.verifier or UNKNOWN] += 1
            self._purposes[event.purpose or UNKNOWN] += 1
            self._bases[event.legal_basis or UNKNOWN] += 1
            self._release(event)
        elif name is EventName.READ_REFUSED or name is EventName.REFUSED:
            day.refusals += 1
            if name is EventName.READ_REFUSED:
                self._refusals[event.refusal_type or UNKNOWN] += 1
        elif name is EventName.PURGED:
            self._purge(event)

    def _state(self, event: EventView) -> _Consent:
        return self._consents.setdefault(event.consent_id or "", _Consent())

    def _grant(self, event: EventView) -> None:
        if event.consent_id is None:
            return
        self._consents[event.consent_id] = _Consent(
            grant_index=event.index,
            verifier=event.verifier,
            purpose=event.purpose,
            attributes=frozenset(event.attributes),
            expires_at=event.expires_at,
            max_uses=event.max_uses,
            frequency=event.frequency,
            retention=event.retention,
        )

    def _end(self, event: EventView) -> None:
        state = self._state(event)
        if state.ended_at is None:
            state.ended_at, state.ended_index = event.at, event.index
            state.ended_how = _ENDS[event.name]

    def _purge(self, event: EventView) -> None:
        state = self._state(event)
        if state.purged_at is None:
            state.purged_at = event.purged_at if event.purged_at is not None else event.at
            state.purge_index = event.index

    def _flag(self, kind: ViolationKind, event: EventView, detail: str) -> None:
        self._violations.append(
            Violation(kind, event.index, event.at, event.consent_id, event.verifier, detail)
        )

    def _release(self, event: EventView) -> None:
        who = event.verifier or "a service"
        state = self._consents.get(event.consent_id or "")
        if state is None or state.grant_index is None:
            self._flag(
                ViolationKind.RELEASED_WITHOUT_CONSENT,
                event,
                f"Data was released to {who} on {date(event.at)}, but the log shows no consent "
                "that allowed it.",
            )
            return
        if state.ended_at is not None:
            self._flag(
                ViolationKind.RELEASED_AFTER_END,
                event,
                f"Data was released to {who} on {date(event.at)}, after the consent was "
                f"{state.ended_how} on {date(state.ended_at)}.",
            )
        elif state.expires_at is not None and event.at >= state.expires_at:
            self._flag(
                ViolationKind.RELEASED_AFTER_END,
                event,
                f"Data was released to {who} on {date(event.at)}, after the consent expired on "
                f"{date(state.expires_at)}.",
            )
        if state.suspended:
            self._flag(
                ViolationKind.RELEASED_WHILE_SUSPENDED,
                event,
                f"Data was released to {who} on {date(event.at)} while the consent was suspended.",
            )
        self._check_scope(event, state, who)
        state.releases += 1
        uses = max(state.releases, event.use or 0)
        if state.max_uses is not None and uses > state.max_uses:
            self._flag(
                ViolationKind.USES_BEYOND_MAX,
                event,
                f"{who} read the data {uses} times; the consent allowed {state.max_uses}.",
            )
        last = state.last_release_at
        if state.frequency and last is not None and event.at - last < state.frequency:
            self._flag(
                ViolationKind.FREQUENCY_EXCEEDED,
                event,
                f"{who} read the data again {duration(event.at - last)} after the previous read; "
                f"the consent allows one read every {duration(state.frequency)}.",
            )
        state.last_release_at = event.at

    def _check_scope(self, event: EventView, state: _Consent, who: str) -> None:
        for what, granted, released in (
            ("service", state.verifier, event.verifier),
            ("purpose", state.purpose, event.purpose),
        ):
            if granted is not None and released is not None and granted != released:
                self._flag(
                    ViolationKind.RELEASED_OUTSIDE_GRANT,
                    event,
                    f"Data was released for {what} {released}, but the consent was given for "
                    f"{granted}.",
                )
        extra = sorted(set(event.attributes) - state.attributes)
        if extra:
            self._flag(
                ViolationKind.ATTRIBUTES_BEYOND_CONSENT,
                event,
                f"{who} received {', '.join(extra)}, which the consent did not include.",
            )

    def finish(self, *, now: int) -> AuditReport:
        """The report as of ``now`` (epoch seconds: decides which purges are overdue)."""
        late = [v for cid, s in self._consents.items() if (v := _retention(cid, s, now))]
        violations = sorted([*self._violations, *late], key=lambda v: (v.index, v.kind.value))
        return AuditReport(
            now=now,
            events=self._count,
            first_at=self._first,
            last_at=self._last,
            by_name={name.value: self._names[name.value] for name in EventName},
            reads_by_verifier=_tallies(self._verifiers),
            reads_by_purpose=_tallies(self._purposes),
            reads_by_legal_basis=_tallies(self._bases),
            refusals_by_type=_tallies(self._refusals),
            timeline=_timeline(self._days),
            violations=tuple(violations),
        )


def _retention(consent_id: str, state: _Consent, now: int) -> Violation | None:
    if not state.releases or state.retention is None or state.grant_index is None:
        return None
    ends = [(state.ended_at, state.ended_index, state.ended_how)]
    if state.expires_at is not None and state.expires_at <= now:
        ends.append((state.expires_at, state.grant_index, "expired"))
    known = [(at, index, how) for at, index, how in ends if at is not None and index is not None]
    if not known:
        return None  # the consent is still running
    end, index, how = min(known, key=lambda item: item[0])
    deadline = end + state.retention
    who = state.verifier or "The service"
    if state.purged_at is not None and state.purge_index is not None:
        if state.purged_at <= deadline:
            return None
        return Violation(
            ViolationKind.KEPT_PAST_RETENTION,
            state.purge_index,
            state.purged_at,
            consent_id,
            state.verifier,
            f"{who} deleted the data on {date(state.purged_at)}, "
            f"{duration(state.purged_at - deadline)} late: the consent was {how} on {date(end)} "
            f"and the data could be kept {duration(state.retention)} after that.",
        )
    if now <= deadline or state.retention == 0:
        # a consent that allows keeping nothing (retention P0D) leaves nothing to delete:
        # only a service allowed to keep data owes a report that it deleted it
        return None
    return Violation(
        ViolationKind.NOT_PURGED,
        index,
        end,
        consent_id,
        state.verifier,
        f"{who} has not reported deleting the data, which was due on {date(deadline)} "
        f"({duration(state.retention)} after the consent was {how} on {date(end)}).",
    )


def analyse(events: Iterable[EventView], *, now: int) -> AuditReport:
    """:class:`Analyser` over ``events`` (in log order)."""
    analyser = Analyser()
    for event in events:
        analyser.add(event)
    return analyser.finish(now=now)


def _tallies(counter: Mapping[str, int]) -> tuple[Tally, ...]:
    return tuple(Tally(k, n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _timeline(days: Mapping[int, _Day]) -> Timeline:
    if not days:
        return Timeline("day", ())
    first, last = min(days), max(days)
    for unit in ("day", "week", "month", "year"):
        starts = _bucket_starts(unit, first, last)
        if len(starts) <= _MAX_BUCKETS or unit == "year":
            break
    index = {start: i for i, start in enumerate(starts)}
    totals = [[0, 0, 0, 0] for _ in starts]
    for day, counts in days.items():
        row = totals[index[_bucket_of(unit, day)]]
        row[0] += counts.reads
        row[1] += counts.grants
        row[2] += counts.ends
        row[3] += counts.refusals
    buckets = tuple(Bucket(start * _DAY, *row) for start, row in zip(starts, totals, strict=True))
    return Timeline(unit, buckets)


def _bucket_of(unit: str, day: int) -> int:
    """The first day (days since 1970-01-01) of the bucket holding ``day``."""
    if unit == "day":
        return day
    if unit == "week":
        return day - (day + 3) % 7  # weeks start on Monday; 1970-01-01 was a Thursday
    when = _EPOCH + timedelta(days=day)
    start = when.replace(day=1) if unit == "month" else when.replace(month=1, day=1)
    return (start - _EPOCH).days


def _bucket_starts(unit: str, first: int, last: int) -> list[int]:
    starts: list[int] = []
    day = _bucket_of(unit, first)
    while day <= last:
        starts.append(day)
        if len(starts) > _MAX_BUCKETS and unit != "year":
            break
        day = _next_bucket(unit, day)
    return starts


def _next_bucket(unit: str, day: int) -> int:
    if unit == "day":
        return day + 1
    if unit == "week":
        return day + 7
    when = _EPOCH + timedelta(days=day)
    if unit == "month":
        nxt = when.replace(year=when.year + when.month // 12, month=when.month % 12 + 1)
    else:
        nxt = when.replace(year=when.year + 1)
    return (nxt - _EPOCH).days


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def date(at: int) -> str:
    """A time for people: ``2026-12-06 14:30 UTC``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: int) -> str:
    """A span for people, in its largest whole unit: ``3 days``, ``1 hour``, ``45 seconds``."""
    for unit, size in (("day", _DAY), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def printable(text: str) -> str:
    """``text`` with control and format characters shown as escapes (``\\x1b``, ``\\u202e``).

    Event fields come from the log: a CR, LF or terminal escape in a verifier id
    must not rewrite a line of the auditor's screen or report.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _tally_json(tallies: Iterable[Tally]) -> list[dict[str, Any]]:
    return [{"name": t.name, "count": t.count} for t in tallies]


def report_document(report: AuditReport, log: Mapping[str, Any]) -> dict[str, Any]:
    """The stable JSON report (``--json``); ``log`` is the verification summary."""
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "now": rfc3339(report.now),
        "log": dict(log),
        "period": {
            "first": None if report.first_at is None else rfc3339(report.first_at),
            "last": None if report.last_at is None else rfc3339(report.last_at),
        },
        "events": {"checked": report.events, "byName": dict(report.by_name)},
        "readsByVerifier": _tally_json(report.reads_by_verifier),
        "readsByPurpose": _tally_json(report.reads_by_purpose),
        "readsByLegalBasis": _tally_json(report.reads_by_legal_basis),
        "refusalsByType": _tally_json(report.refusals_by_type),
        "timeline": {
            "unit": report.timeline.unit,
            "buckets": [
                {
                    "start": rfc3339(b.start),
                    "reads": b.reads,
                    "grants": b.grants,
                    "ends": b.ends,
                    "refusals": b.refusals,
                }
                for b in report.timeline.buckets
            ],
        },
        "violations": [
            {
                "kind": v.kind.value,
                "index": v.index,
                "at": rfc3339(v.at),
                "consentId": v.consent_id,
                "verifier": v.verifier,
                "detail": v.detail,
            }
            for v in report.violations
        ],
        "ok": report.ok,
    }


__all__ = [
    "KIND_TITLES",
    "REPORT_FORMAT",
    "REPORT_VERSION",
    "Analyser",
    "AuditReport",
    "Bucket",
    "Tally",
    "Timeline",
    "Violation",
    "ViolationKind",
    "analyse",
    "date",
    "duration",
    "printable",
    "report_document",
]
