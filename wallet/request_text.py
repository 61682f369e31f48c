"""What a citizen reads about a verifier's consent request, in plain words.

:func:`describe` turns a :class:`~wallet.requests.RequestView` into the lines
of its table (who asks, what, why, on which ground, for how long, whether the
data is kept, until when to answer); the CLI (``regie consent requests``) and
``regie demo`` show the same lines. Text the verifier wrote is passed through
:func:`safe_text`, so control and invisible formatting characters cannot hide
or rewrite what the citizen sees.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from regie_protocol.consent import Duration

from .requests import RequestView

_UNITS = (
    ("year", "years"),
    ("month", "months"),
    ("week", "weeks"),
    ("day", "days"),
    ("hour", "hours"),
    ("minute", "minutes"),
    ("second", "seconds"),
)


def date_text(timestamp: int | None) -> str:
    """A time for people: ``2026-12-06 14:30 UTC`` (``-`` for none)."""
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def safe_text(text: str) -> str:
    """Verifier-supplied text, with control and invisible formatting characters made visible."""
    return "".join(
        " " if ch in "\n\t" else "?" if unicodedata.category(ch) in ("Cc", "Cf") else ch
        for ch in text
    )


def duration_words(duration: Duration) -> str:
    """``P1Y2M`` as ``1 year, 2 months`` (``no time`` for zero)."""
    values = (
        duration.years,
        duration.months,
        duration.weeks,
        duration.days,
        duration.hours,
        duration.minutes,
        duration.seconds,
    )
    parts = [
        f"{n} {one if n == 1 else many}" for n, (one, many) in zip(values, _UNITS, strict=True) if n
    ]
    return ", ".join(parts) or "no time"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return duration_words(
        Duration("", days=days, hours=hours, minutes=rest // 60, seconds=rest % 60)
    )


def _who(view: RequestView) -> str:
    if view.verifier_name is None:
        return f"{view.verifier_id} (NOT in your verifier registry: do not approve)"
    return f"{safe_text(view.verifier_name)} ({view.verifier_id})"


def _ground(view: RequestView) -> str:
    if view.relies_on_consent:
        return f"your consent ({view.legal_basis_label}): you are free to say no"
    return (
        f"{view.legal_basis_label}: this organisation does not rely on your consent but on "
        "another legal ground; you still choose whether your wallet shares the data"
    )


def _how_long(view: RequestView) -> str:
    text = f"{_span(view.valid_for)} after you approve"
    if view.max_uses is not None:
        text += f", at most {view.max_uses} time{'s' if view.max_uses != 1 else ''}"
    if view.frequency is not None:
        text += f", at most once every {duration_words(Duration.parse(view.frequency))}"
    return text


def _keeps(view: RequestView) -> str:
    retention = Duration.parse(view.retention)
    if retention.is_zero:
        return "no: it may only look, and must not keep your data after each use"
    return f"yes, for {duration_words(retention)} after each use"


def describe(view: RequestView) -> list[tuple[str, str]]:
    """The request in plain words, one ``(label, text)`` per line of its table."""
    why = view.purpose_text
    rows = [
        ("Who asks", _who(view)),
        ("Wants to see", ", ".join(view.attributes) or "-"),
    ]
    if view.optional_attributes:
        optional = ", ".join(view.optional_attributes)
        rows.append(("Optional", f"{optional} (you may leave these out)"))
    rows += [
        ("Why", f"{safe_text(why.en)} (nl: {safe_text(why.nl)})"),
        ("Legal ground", _ground(view)),
        ("For how long", _how_long(view)),
        ("May keep it", _keeps(view)),
        ("Answer before", date_text(view.expires_at)),
    ]
    if view.not_held:
        rows.append(
            (
                "Not in your wallet",
                f"{', '.join(view.not_held)}: you hold no credential with this",
            )
        )
    return rows


__all__ = ["date_text", "describe", "duration_words", "safe_text"]
