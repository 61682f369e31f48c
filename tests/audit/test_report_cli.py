"""``regie audit report --export DIR``: exit codes, JSON, and a safe, accessible HTML page."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from audit.report import analyse
from audit.report_html import render_html
from regie.cli_audit import audit_app
from regie_protocol.tlog.event import EventName, EventView

from .logs import DAY, T0, Log, clean_events, ended, granted, released, trusted_file

runner = CliRunner()
HOSTILE = "https://x.example/<script>alert(1)</script>\x1b[31m\r\nforged line"
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "source", "wbr"}


def report(export: Path, trusted: Path, *extra: str | Path) -> Any:
    args = ["report", "--export", export, "--trusted", trusted, "--now", str(T0 + 30 * DAY)]
    return runner.invoke(audit_app, [str(a) for a in [*args, *extra]])


def bad_events() -> list[bytes]:
    return [
        *clean_events(),
        granted("c-3", T0 + 5 * DAY, verifier=HOSTILE),
        ended(EventName.WITHDRAWN, "c-3", T0 + 6 * DAY, verifier=HOSTILE),
        released("c-3", T0 + 7 * DAY, 1, verifier=HOSTILE),
    ]


def test_a_clean_log_reports_no_violation_and_exits_0(tmp_path: Path) -> None:
    log = Log(clean_events())
    trusted = trusted_file(tmp_path / "t.json", log)
    result = report(log.export(tmp_path / "e"), trusted)
    assert result.exit_code == 0, result.stderr
    assert "No violations found." in result.stdout
    assert "Reads per service" in result.stdout
    assert "2 given, 1 withdrawn" in result.stdout
    assert json.loads(trusted.read_text())["checkpoint"] == log.checkpoint().decode()


def test_violations_exit_1_with_one_line_at_the_end(tmp_path: Path) -> None:
    log = Log(bad_events())
    result = report(log.export(tmp_path / "e"), trusted_file(tmp_path / "t.json", log))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "regie: 1 violation found"
    assert "Released after" in result.stdout
    assert "\x1b" not in result.stdout
    assert "\\x1b[31m" in result.stdout


def test_json_report(tmp_path: Path) -> None:
    log = Log(bad_events())
    export = log.export(tmp_path / "e", hidden={0})
    result = report(export, trusted_file(tmp_path / "t.json", log), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["format"] == "regie-audit-report"
    assert document["ok"] is False
    assert document["log"]["size"] == 13
    assert document["log"]["hiddenEvents"] == 1
    assert document["events"]["checked"] == 12
    assert [v["kind"] for v in document["violations"]] == ["released_after_end"]
    assert document["violations"][0]["verifier"] == HOSTILE  # exact in JSON; JSON escapes it


def test_a_tampered_log_is_refused_before_any_report(tmp_path: Path) -> None:
    log = Log(clean_events())
    export = log.export(tmp_path / "e")
    lines = (export / "events.jsonl").read_bytes().split(b"\n")
    lines[2] = released("c-1", T0 + 100, 1, attributes=["address", "income"])
    (export / "events.jsonl").write_bytes(b"\n".join(lines))
    result = report(export, trusted_file(tmp_path / "t.json", log), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("regie: log_event_mismatch: event 2")


class Checker(HTMLParser):
    """Well-formedness (every element closed, properly nested) and what the page must hold."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.seen if tag == name]


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def test_html_is_well_formed_accessible_and_escapes_hostile_fields(tmp_path: Path) -> None:
    log = Log(bad_events())
    page_file = tmp_path / "report.html"
    result = report(
        log.export(tmp_path / "e"), trusted_file(tmp_path / "t.json", log), "--html", page_file
    )
    assert result.exit_code == 1
    page = page_file.read_text(encoding="utf-8")
    checker = parse(page)

    assert page.startswith("<!DOCTYPE html>")
    assert checker.tags("html") == [{"lang": "en"}]
    assert checker.tags("script") == []  # the hostile verifier id is text, never an element
    assert "&lt;script&gt;" in page
    assert "\x1b" not in page and "\r" not in page
    assert "\\x1b[31m\\x0d\\x0aforged line" in "".join(checker.text)
    links = [v for _, a in checker.seen for k, v in a.items() if k != "xmlns" and "//" in (v or "")]
    assert links == []
    assert "src=" not in page and "href=" not in page  # self-contained: nothing to fetch
    assert [t for t, _ in checker.seen if t in ("h1", "h2")][:2] == ["h1", "h2"]
    assert len(checker.tags("h1")) == 1

    (svg,) = checker.tags("svg")
    assert svg["role"] == "img"
    assert svg["aria-labelledby"] == "chart-title chart-desc"
    assert checker.tags("title")[1:2] == [{"id": "chart-title"}]
    assert checker.tags("desc") == [{"id": "chart-desc"}]
    assert len(checker.tags("rect")) >= 1

    tables = checker.tags("table")
    assert len(tables) == len(checker.tags("caption")) >= 6
    headers = checker.tags("th")
    assert headers and all(h.get("scope") in ("col", "row") for h in headers)
    assert "Activity per day (the numbers behind the chart)" in page
    assert "1 violation found." in page


def test_html_of_a_clean_and_of_an_empty_log() -> None:
    clean = analyse([EventView.of(i, e) for i, e in enumerate(clean_events())], now=T0)
    page = render_html(clean, {"origin": "o", "size": 10, "cosigners": ["w<1>"]})
    parse(page)
    assert "No violations found." in page
    assert "w&lt;1&gt;" in page
    empty = analyse([], now=T0)
    parse(render_html(empty, {"origin": "o", "size": 0}))
