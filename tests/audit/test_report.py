"""The report: each violation found in a crafted log, none in a clean one; summaries; JSON."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from audit.report import ViolationKind, analyse, duration, printable, report_document
from regie_protocol.tlog.event import EventName, EventView, rfc3339

from .logs import (
    BASIS,
    DAY,
    DESK,
    PURPOSE,
    T0,
    clean_events,
    ended,
    event,
    granted,
    purged,
    released,
)

OTHER = "https://other.example"


def views(events: Sequence[bytes]) -> list[EventView]:
    return [EventView.of(i, e) for i, e in enumerate(events)]


def kinds(events: Sequence[bytes], *, now: int = T0 + 10 * DAY) -> list[tuple[ViolationKind, int]]:
    return [(v.kind, v.index) for v in analyse(views(events), now=now).violations]


def test_a_clean_log_has_no_violation() -> None:
    report = analyse(views(clean_events()), now=T0 + 30 * DAY)
    assert report.violations == ()
    assert report.ok


CASES: list[tuple[str, list[bytes], list[tuple[ViolationKind, int]]]] = [
    (
        "release without any grant",
        [released("c-x", T0, 1)],
        [(ViolationKind.RELEASED_WITHOUT_CONSENT, 0)],
    ),
    (
        "release after withdrawal",
        [
            granted("c-1", T0),
            released("c-1", T0 + 10, 1),
            ended(EventName.WITHDRAWN, "c-1", T0 + 100),
            released("c-1", T0 + 200, 2),
        ],
        [(ViolationKind.RELEASED_AFTER_END, 3)],
    ),
    (
        "release after revocation",
        [
            granted("c-1", T0),
            ended(EventName.REVOKED, "c-1", T0 + 100),
            released("c-1", T0 + 100, 1),
        ],
        [(ViolationKind.RELEASED_AFTER_END, 2)],
    ),
    (
        "release after an expiry event",
        [
            granted("c-1", T0),
            ended(EventName.EXPIRED, "c-1", T0 + 100),
            released("c-1", T0 + 99, 1),
        ],
        [(ViolationKind.RELEASED_AFTER_END, 2)],
    ),
    (
        "release after the granted expiry time",
        [granted("c-1", T0, expires_at=T0 + 50), released("c-1", T0 + 50, 1)],
        [(ViolationKind.RELEASED_AFTER_END, 1)],
    ),
    (
        "release while suspended (and not after reinstatement)",
        [
            granted("c-1", T0),
            ended(EventName.SUSPENDED, "c-1", T0 + 10),
            released("c-1", T0 + 20, 1),
            ended(EventName.REINSTATED, "c-1", T0 + 30),
            released("c-1", T0 + 40, 2),
        ],
        [(ViolationKind.RELEASED_WHILE_SUSPENDED, 2)],
    ),
    (
        "release to another service",
        [granted("c-1", T0), released("c-1", T0 + 10, 1, verifier=OTHER)],
        [(ViolationKind.RELEASED_OUTSIDE_GRANT, 1)],
    ),
    (
        "release for another purpose",
        [granted("c-1", T0), released("c-1", T0 + 10, 1, purpose="https://w3id.org/dpv#Marketing")],
        [(ViolationKind.RELEASED_OUTSIDE_GRANT, 1)],
    ),
    (
        "attributes beyond the granted ones",
        [granted("c-1", T0), released("c-1", T0 + 10, 1, attributes=["address", "income"])],
        [(ViolationKind.ATTRIBUTES_BEYOND_CONSENT, 1)],
    ),
    (
        "uses beyond max_uses",
        [
            granted("c-1", T0, max_uses=2),
            released("c-1", T0 + 10, 1),
            released("c-1", T0 + 20, 2),
            released("c-1", T0 + 30, 3),
        ],
        [(ViolationKind.USES_BEYOND_MAX, 3)],
    ),
    (
        "two releases closer than the frequency",
        [
            granted("c-1", T0, frequency=3600),
            released("c-1", T0 + 10, 1),
            released("c-1", T0 + 3610, 2),
            released("c-1", T0 + 3620, 3),
        ],
        [(ViolationKind.FREQUENCY_EXCEEDED, 3)],
    ),
    (
        "purged later than end + retention",
        [
            granted("c-1", T0, retention=DAY),
            released("c-1", T0 + 10, 1),
            ended(EventName.WITHDRAWN, "c-1", T0 + 100),
            purged("c-1", T0 + 100 + 2 * DAY),
        ],
        [(ViolationKind.KEPT_PAST_RETENTION, 3)],
    ),
    (
        "never purged after end + retention passed",
        [
            granted("c-1", T0, retention=DAY),
            released("c-1", T0 + 10, 1),
            ended(EventName.WITHDRAWN, "c-1", T0 + 100),
        ],
        [(ViolationKind.NOT_PURGED, 2)],
    ),
    (
        "never purged after the granted expiry + retention",
        [granted("c-1", T0, expires_at=T0 + DAY, retention=DAY), released("c-1", T0 + 10, 1)],
        [(ViolationKind.NOT_PURGED, 0)],
    ),
]


@pytest.mark.parametrize(
    ("events", "expected"),
    [pytest.param(events, expected, id=name) for name, events, expected in CASES],
)
def test_each_violation_is_found(
    events: list[bytes], expected: list[tuple[ViolationKind, int]]
) -> None:
    assert kinds(events) == expected


def test_each_kind_has_a_case() -> None:
    covered = {kind for _, _, expected in CASES for kind, _ in expected}
    assert covered == set(ViolationKind)


def test_retention_is_judged_as_of_now() -> None:
    events = [
        granted("c-1", T0, retention=DAY),
        released("c-1", T0 + 10, 1),
        ended(EventName.WITHDRAWN, "c-1", T0 + 100),
    ]
    assert kinds(events, now=T0 + 100 + DAY) == []
    assert kinds(events, now=T0 + 101 + DAY) == [(ViolationKind.NOT_PURGED, 2)]
    in_time = [*events, purged("c-1", T0 + 100 + DAY)]
    assert kinds(in_time, now=T0 + 100 * DAY) == []


def test_a_consent_without_reads_or_retention_needs_no_purge() -> None:
    no_reads = [granted("c-1", T0, retention=DAY), ended(EventName.WITHDRAWN, "c-1", T0 + 1)]
    assert kinds(no_reads, now=T0 + 100 * DAY) == []
    no_retention = [granted("c-1", T0), released("c-1", T0 + 1, 1)]
    no_retention.append(ended(EventName.WITHDRAWN, "c-1", T0 + 2))
    assert kinds(no_retention, now=T0 + 100 * DAY) == []
    # retention P0D: the service may keep nothing, so it owes no report of deleting it;
    # a late report of a purge is still judged
    keep_nothing = [
        granted("c-1", T0, retention=0),
        released("c-1", T0 + 1, 1),
        ended(EventName.WITHDRAWN, "c-1", T0 + 2),
    ]
    assert kinds(keep_nothing, now=T0 + 100 * DAY) == []
    assert kinds([*keep_nothing, purged("c-1", T0 + DAY)], now=T0 + 100 * DAY) == [
        (ViolationKind.KEPT_PAST_RETENTION, 3)
    ]


def test_details_are_plain_words() -> None:
    events = [
        granted("c-1", T0, max_uses=1),
        released("c-1", T0 + 10, 1),
        released("c-1", T0 + 20, 2),
    ]
    (violation,) = analyse(views(events), now=T0).violations
    assert violation.detail == f"{DESK} read the data 2 times; the consent allowed 1."
    assert violation.consent_id == "c-1"
    assert violation.verifier == DESK


def test_summaries_of_the_clean_log() -> None:
    report = analyse(views(clean_events()), now=T0 + 30 * DAY)
    assert [(t.name, t.count) for t in report.reads_by_verifier] == [(DESK, 2), (OTHER, 1)]
    assert [(t.name, t.count) for t in report.reads_by_purpose] == [(PURPOSE, 3)]
    assert [(t.name, t.count) for t in report.reads_by_legal_basis] == [(BASIS, 3)]
    assert [(t.name, t.count) for t in report.refusals_by_type] == [("consent_withdrawn", 1)]
    assert report.by_name["consent.granted"] == 2
    assert report.by_name["consent.withdrawn"] == 1
    assert report.by_name["consent.suspended"] == 0
    assert set(report.by_name) == {name.value for name in EventName}
    assert report.events == 10
    assert (report.first_at, report.last_at) == (T0, T0 + 4 * DAY)
    timeline = report.timeline
    assert timeline.unit == "day"
    assert len(timeline.buckets) == 5
    assert sum(b.reads for b in timeline.buckets) == 3
    assert sum(b.grants for b in timeline.buckets) == 2
    assert sum(b.ends for b in timeline.buckets) == 1
    assert sum(b.refusals for b in timeline.buckets) == 2  # a refused consent, a refused read
    assert all(b.start % DAY == 0 for b in timeline.buckets)


@pytest.mark.parametrize(("span", "unit"), [(30, "day"), (200, "week"), (3 * 365, "month")])
def test_the_timeline_unit_follows_the_span(span: int, unit: str) -> None:
    events = [granted("c-1", T0), released("c-1", T0 + span * DAY, 1)]
    timeline = analyse(views(events), now=T0).timeline
    assert timeline.unit == unit
    assert len(timeline.buckets) <= 120
    assert sum(b.total for b in timeline.buckets) == 2
    starts = [b.start for b in timeline.buckets]
    assert starts == sorted(starts)


def test_the_json_document_shape_is_stable() -> None:
    report = analyse(views([*clean_events(), released("c-x", T0 + 5 * DAY, 1)]), now=T0)
    document = report_document(report, {"origin": "o", "size": 11})
    assert list(document) == [
        "format",
        "version",
        "now",
        "log",
        "period",
        "events",
        "readsByVerifier",
        "readsByPurpose",
        "readsByLegalBasis",
        "refusalsByType",
        "timeline",
        "violations",
        "ok",
    ]
    assert document["format"] == "regie-audit-report"
    assert document["version"] == 1
    assert document["ok"] is False
    assert document["readsByVerifier"][0] == {"name": DESK, "count": 3}
    assert list(document["timeline"]) == ["unit", "buckets"]
    assert list(document["timeline"]["buckets"][0]) == [
        "start",
        "reads",
        "grants",
        "ends",
        "refusals",
    ]
    (violation,) = document["violations"]
    assert violation == {
        "kind": "released_without_consent",
        "index": 10,
        "at": rfc3339(T0 + 5 * DAY),
        "consentId": "c-x",
        "verifier": DESK,
        "detail": violation["detail"],
    }


def test_printable_shows_control_characters_as_escapes() -> None:
    assert printable("plain text") == "plain text"
    assert printable("a\x1b[31mb\r\nc\u202e") == "a\\x1b[31mb\\x0d\\x0ac\\u202e"


def test_durations_read_naturally() -> None:
    assert duration(1) == "1 second"
    assert duration(59) == "59 seconds"
    assert duration(3600) == "1 hour"
    assert duration(2 * DAY + 5) == "2 days"


def test_an_event_without_consent_id_is_counted_not_crashed() -> None:
    events = [event(EventName.REFUSED, T0, request_id="r", verifier=DESK, purpose=PURPOSE)]
    report = analyse(views(events), now=T0)
    assert report.by_name["consent.refused"] == 1
    assert report.ok
