"""How ``regie demo`` tells its story: numbered steps, values, tables and HTTP calls.

Two renderings of the same text: with boxes and colour for a terminal, and
``plain`` (``regie demo --plain``) for screen readers and logs: no boxes, no
colour, no tables, and no line breaks added inside a sentence or a token (the
reader's terminal wraps). :func:`console_for` makes the console for either.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from regie_protocol._encoding import b64url_decode


def console_for(plain: bool) -> Console:
    """Standard output, coloured and wrapped to the terminal; or plain, never hard-wrapped."""
    return Console(no_color=plain, highlight=not plain, soft_wrap=plain)


class Story:
    """Prints the demo's steps on ``console``; ``plain`` drops boxes, tables and colour."""

    def __init__(self, console: Console, plain: bool) -> None:
        self.console = console
        self.plain = plain
        self.step = 0

    def say(self, title: str, text: str) -> None:
        """A new numbered step: its title and a few plain sentences."""
        self.step += 1
        if self.plain:
            self.console.print(f"\nStep {self.step}. {title}\n{text}", markup=False)
        else:
            self.console.print(Panel(text, title=f"Step {self.step}. {title}", expand=False))

    def line(self, text: str) -> None:
        """One more sentence for the current step."""
        self.console.print(text, markup=False, highlight=False)

    def show(self, title: str, value: Any) -> None:
        """A value as indented JSON (long tokens are not broken across lines)."""
        text = json.dumps(value, indent=2, ensure_ascii=False)
        self.console.print(f"{title}:", markup=False)
        self.console.print(text, markup=False, highlight=not self.plain, soft_wrap=True)

    def http(self, response: httpx.Response, by: str = "") -> None:
        """One HTTP call and its answer: ``HTTP (by): POST https://... -> 201 Created``."""
        request = response.request
        who = f" ({by})" if by else ""
        self.console.print(
            f"HTTP{who}: {request.method} {request.url} -> {response.status_code} "
            f"{response.reason_phrase}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Rows of values; in plain mode one line per row, each value named."""
        if self.plain:
            self.console.print(f"{title}:", markup=False)
            for row in rows:
                self.console.print(
                    "  " + "; ".join(f"{c}: {v}" for c, v in zip(columns, row, strict=True)),
                    markup=False,
                )
            return
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(Text(value) for value in row))
        self.console.print(table)

    def pairs(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        """Label and text, one pair a line (a two-column table without header in colour)."""
        if self.plain:
            self.console.print(f"{title}:", markup=False)
            for label, text in rows:
                self.console.print(f"  {label}: {text}", markup=False, highlight=False)
            return
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("what", style="bold")
        table.add_column("value", overflow="fold")
        for label, text in rows:
            table.add_row(label, Text(text))
        self.console.print(table)


def decode_credential(token: str) -> tuple[Mapping[str, Any], Mapping[str, Any], list[list[Any]]]:
    """Header, payload and disclosures of an SD-JWT, decoded for reading (not verified)."""
    jwt_part, *rest = token.split("~")
    header_b64, payload_b64, _ = jwt_part.split(".")
    header = json.loads(b64url_decode(header_b64))
    payload = json.loads(b64url_decode(payload_b64))
    disclosures = [json.loads(b64url_decode(d)) for d in rest if d and "." not in d]
    return header, payload, disclosures


def disclosed_names(presentation: str) -> list[str]:
    """The claim names an SD-JWT presentation discloses (array elements as ``(element)``)."""
    _, _, disclosures = decode_credential(presentation)
    return [str(d[1]) if len(d) == 3 else "(element)" for d in disclosures]


def jose_header(compact: str) -> dict[str, Any]:
    """The protected header of a compact JWS or JWE, decoded for reading."""
    header: dict[str, Any] = json.loads(b64url_decode(compact.split(".", 1)[0]))
    return header


def shortened(text: str, keep: int = 40) -> str:
    """A long token cut for reading: its start and its length."""
    if len(text) <= keep:
        return text
    return f"{text[:keep]}... ({len(text)} characters)"


def when(epoch: int) -> str:
    """A time for people: ``2026-12-06 14:30:05 UTC``."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


__all__ = [
    "Story",
    "console_for",
    "decode_credential",
    "disclosed_names",
    "jose_header",
    "shortened",
    "when",
]
