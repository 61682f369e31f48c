"""The audit report as one self-contained, accessible HTML page.

No scripts, no external assets: the style sheet is inline and the timeline is
an inline SVG (``role="img"`` with ``<title>`` and ``<desc>``), followed by a
table of the same numbers for anyone who cannot see the chart. Headings nest,
every table has a ``<caption>`` and ``<th scope>``; text is near-black on white
and each bar colour has at least 4.5:1 contrast against the white background
(the legend and the table name every series, so colour is never the only cue).

Everything that comes from the log goes through :func:`_text`: control
characters become visible escapes and markup is HTML-escaped, so a verifier id
holding ``<script>`` or a terminal escape is shown, never run. Events hold no
attribute values, and neither does this page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .report import KIND_TITLES, AuditReport, Tally, Timeline, date, printable

_STYLE = """
body{font-family:system-ui,sans-serif;color:#111;background:#fff;margin:0;line-height:1.5}
main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:2px solid #111}
table{border-collapse:collapse;margin:0.5rem 0 1rem;min-width:50%}
caption{text-align:left;font-weight:bold;padding:0.25rem 0}
th,td{border:1px solid #555;padding:0.25rem 0.5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-size:1.2rem;font-weight:bold;padding:0.75rem;border:3px solid}
.ok{border-color:#0a5c0a;color:#0a5c0a}.bad{border-color:#a00000;color:#a00000}
dl{display:grid;grid-template-columns:max-content 1fr;gap:0.25rem 1rem}dt{font-weight:bold}
dd{margin:0;overflow-wrap:anywhere}code{font-size:0.95em}
figure{margin:0}svg{max-width:100%;height:auto;border:1px solid #555}
.legend span{display:inline-block;margin-right:1rem}
.sw{display:inline-block;width:1rem;height:1rem;border:1px solid #111;vertical-align:middle;
margin-right:0.3rem}
""".strip()

#: series of the timeline: (field, label, fill colour)
_SERIES = (
    ("reads", "Reads", "#1f4e9c"),
    ("grants", "Consents given", "#0a6b2e"),
    ("ends", "Consents ended", "#8a4a00"),
    ("refusals", "Refusals", "#a00000"),
)


def _text(value: object) -> str:
    """Anything from the log, safe in HTML text or an attribute value."""
    return html.escape(printable(str(value)), quote=True)


def render_html(report: AuditReport, log: Mapping[str, Any]) -> str:
    """The whole page; ``log`` is the verification summary (``VerifiedLog.to_json()``)."""
    origin = _text(log.get("origin", "the log"))
    count = len(report.violations)
    verdict = (
        '<p class="verdict ok" role="status">No violations found.</p>'
        if report.ok
        else f'<p class="verdict bad" role="status">{count} violation{"s" if count != 1 else ""} '
        "found.</p>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Audit report: {origin}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>Audit report: {origin}</h1>",
        f"<p>Made on {_text(date(report.now))}.</p>",
        verdict,
        _log_section(report, log),
        _violations_section(report),
        _timeline_section(report.timeline),
        _reads_section(report),
        _events_section(report),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _log_section(report: AuditReport, log: Mapping[str, Any]) -> str:
    cosigners = log.get("cosigners") or []
    period = (
        "no events"
        if report.first_at is None or report.last_at is None
        else f"{date(report.first_at)} to {date(report.last_at)}"
    )
    rows = [
        ("Log", log.get("origin", "")),
        ("Entries", f"{log.get('size', 0):,}"),
        ("Events checked", f"{log.get('eventsChecked', 0):,}"),
        ("Not visible to this key", f"{log.get('hiddenEvents', 0):,}"),
        ("Root hash", log.get("root", "")),
        ("Witnessed by", ", ".join(str(c) for c in cosigners) or "no witness"),
        ("Period", period),
    ]
    items = "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in rows)
    return (
        '<section aria-labelledby="log-h"><h2 id="log-h">The log</h2>'
        "<p>Every entry was checked against the log's signed checkpoint.</p>"
        f"<dl>{items}</dl></section>"
    )


def _table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A table whose first column names each row (``th scope="row"``); numbers align right."""
    head = "".join(f'<th scope="col">{_text(h)}</th>' for h in headers)
    body = []
    for row in rows:
        first, *rest = row
        cells = "".join(
            f'<td class="n">{value:,}</td>'
            if isinstance(value, int)
            else f"<td>{_text(value)}</td>"
            for value in rest
        )
        body.append(f'<tr><th scope="row">{_text(first)}</th>{cells}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">None.</td></tr>')
    return (
        f"<table><caption>{_text(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _cell(value: object) -> str:
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{_text(value)}</td>"


def _violations_section(report: AuditReport) -> str:
    if report.ok:
        content = "<p>No event shows a consent being overstepped.</p>"
    else:
        content = _table(
            "What went wrong, in log order",
            ["Log entry", "When", "What", "Consent", "Service", "Details"],
            (
                (
                    f"#{v.index}",
                    date(v.at),
                    KIND_TITLES[v.kind],
                    v.consent_id or "-",
                    v.verifier or "-",
                    v.detail,
                )
                for v in report.violations
            ),
        )
    return (
        '<section aria-labelledby="violations-h"><h2 id="violations-h">Violations</h2>'
        f"{content}</section>"
    )


def _timeline_section(timeline: Timeline) -> str:
    unit = timeline.unit
    table = _table(
        f"Activity per {unit} (the numbers behind the chart)",
        [f"{unit.capitalize()} starting", *(label for _, label, _ in _SERIES)],
        ((date(b.start)[:10], b.reads, b.grants, b.ends, b.refusals) for b in timeline.buckets),
    )
    return (
        '<section aria-labelledby="timeline-h"><h2 id="timeline-h">Activity over time</h2>'
        f"<figure>{_svg(timeline)}<figcaption>{_legend()}</figcaption></figure>{table}</section>"
    )


def _legend() -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span><span class="sw" style="background:{colour}"></span>{label}</span>'
            for _, label, colour in _SERIES
        )
        + "</div>"
    )


def _svg(timeline: Timeline) -> str:
    buckets = timeline.buckets
    width, height, pad, axis = 720, 240, 8, 36
    peak = max((b.total for b in buckets), default=0)
    total = sum(b.total for b in buckets)
    first = date(buckets[0].start)[:10] if buckets else "-"
    last = date(buckets[-1].start)[:10] if buckets else "-"
    title = f"Log activity per {timeline.unit}"
    desc = (
        f"Stacked bars of reads, consents given, consents ended and refusals per "
        f"{timeline.unit}, from {first} to {last}: {total:,} events, at most {peak:,} in one "
        f"{timeline.unit}. The table below holds the same numbers."
    )
    shapes: list[str] = []
    if buckets and peak:
        slot = (width - axis - pad) / len(buckets)
        bar = max(slot * 0.8, 1.0)
        scale = (height - 2 * pad - 20) / peak
        for i, bucket in enumerate(buckets):
            x = axis + i * slot + (slot - bar) / 2
            y = height - 20.0
            for field_name, label, colour in _SERIES:
                value = getattr(bucket, field_name)
                if not value:
                    continue
                h = value * scale
                y -= h
                shapes.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{colour}" stroke="#111" stroke-width="0.5">'
                    f"<title>{_text(date(bucket.start)[:10])}: {value:,} {label.lower()}</title>"
                    "</rect>"
                )
    axis_lines = (
        f'<line x1="{axis}" y1="{height - 20}" x2="{width - pad}" y2="{height - 20}" '
        'stroke="#111"></line>'
        f'<line x1="{axis}" y1="{pad}" x2="{axis}" y2="{height - 20}" stroke="#111"></line>'
        f'<text x="{axis - 4}" y="{pad + 10}" text-anchor="end" font-size="11" fill="#111">'
        f"{peak:,}</text>"
        f'<text x="{axis - 4}" y="{height - 22}" text-anchor="end" font-size="11" fill="#111">'
        "0</text>"
        f'<text x="{axis}" y="{height - 4}" font-size="11" fill="#111">{_text(first)}</text>'
        f'<text x="{width - pad}" y="{height - 4}" text-anchor="end" font-size="11" fill="#111">'
        f"{_text(last)}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="chart-title chart-desc">'
        f'<title id="chart-title">{_text(title)}</title><desc id="chart-desc">{_text(desc)}</desc>'
        f"{axis_lines}{''.join(shapes)}</svg>"
    )


def _tally_table(caption: str, what: str, tallies: Sequence[Tally]) -> str:
    return _table(caption, [what, "Count"], ((t.name, t.count) for t in tallies))


def _reads_section(report: AuditReport) -> str:
    return (
        '<section aria-labelledby="reads-h"><h2 id="reads-h">Who read what, and why</h2>'
        + _tally_table("Reads per service", "Service", report.reads_by_verifier)
        + _tally_table("Reads per purpose", "Purpose", report.reads_by_purpose)
        + _tally_table("Reads per legal basis", "Legal basis", report.reads_by_legal_basis)
        + _tally_table("Refused reads per reason", "Reason", report.refusals_by_type)
        + "</section>"
    )


def _events_section(report: AuditReport) -> str:
    return (
        '<section aria-labelledby="events-h"><h2 id="events-h">Events by kind</h2>'
        + _table(
            "How often each kind of event was logged",
            ["Event", "Count"],
            ((name, count) for name, count in report.by_name.items()),
        )
        + "</section>"
    )


__all__ = ["render_html"]
