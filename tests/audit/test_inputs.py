"""Untrusted inputs around the auditor: the trusted file, a hostile host's answers, progress."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from audit.progress import BarProgress
from audit.source import HostSource, check_host_url, load_auditor_key
from audit.trusted import load_trust, trust_from_json
from regie_protocol.errors import (
    KeyRefused,
    LogRefused,
    MalformedInput,
    Misuse,
    RegieError,
    Unavailable,
)
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.tlog.note import CosignerKey, NoteKey

from .logs import ORIGIN

LOG = NoteKey.generate(ORIGIN).verifier().vkey()
WITNESS = CosignerKey.generate("witness.example/w").verifier().vkey()
GOOD: dict[str, Any] = {
    "format": "regie-audit-trust",
    "version": 1,
    "origin": ORIGIN,
    "logKey": LOG,
    "witnesses": [WITNESS],
    "witnessQuorum": 1,
    "checkpoint": None,
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"format": "other"}, "regie-audit-trust"),
        ({"version": 2}, "version 1"),
        ({"origin": "elsewhere.example/log"}, "origin"),
        ({"logKey": 5}, "logKey"),
        ({"witnesses": "all"}, "witnesses"),
        ({"witnessQuorum": "1"}, "witnessQuorum"),
        ({"witnessQuorum": 2}, "quorum"),
        ({"witnesses": [WITNESS, WITNESS]}, "twice"),
        ({"checkpoint": 7}, "checkpoint"),
        ({"checkpoint": "x" * 20000}, "larger"),
        ({"more": True}, "unknown members"),
    ],
)
def test_a_damaged_trusted_file_names_what_is_wrong(change: dict[str, Any], words: str) -> None:
    with pytest.raises(MalformedInput, match=words):
        trust_from_json({**GOOD, **change})


def test_the_trusted_file_must_be_json(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text("{not json")
    with pytest.raises(MalformedInput, match="not JSON"):
        load_trust(tmp_path / "t.json")
    assert trust_from_json(GOOD).quorum == 1


def test_host_urls() -> None:
    assert check_host_url("https://wallet.example/") == "https://wallet.example"
    assert check_host_url("http://127.0.0.1:8002") == "http://127.0.0.1:8002"
    for bad in ("http://wallet.example", "ftp://w.example", "https://u:p@w.example", "https://"):
        with pytest.raises(Misuse):
            check_host_url(bad)


def test_the_auditor_key_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "k.jwk"
    path.write_text(SigningKey.generate(Alg.EDDSA).export_private_jwk(protection=Unprotected()))
    path.chmod(0o644)
    with pytest.raises(KeyRefused, match="chmod 600"):
        load_auditor_key(path)
    path.chmod(0o600)
    assert load_auditor_key(path).alg is Alg.EDDSA
    with pytest.raises(Misuse):
        load_auditor_key(tmp_path / "missing.jwk")


def hostile(handler: Callable[[httpx.Request], httpx.Response]) -> HostSource:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    key = SigningKey.generate(Alg.EDDSA)
    return HostSource("https://wallet.example", client=client, key=key, clock=lambda: 1)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        (
            httpx.Response(200, json={"start": 1, "leafHashes": [b64(b"x" * 32)]}),
            MalformedInput,
            "start",
        ),
        (httpx.Response(200, json={"start": 0, "leafHashes": []}), MalformedInput, "empty"),
        (
            httpx.Response(200, json={"start": 0, "leafHashes": [b64(b"x" * 31)]}),
            MalformedInput,
            "31",
        ),
        (httpx.Response(200, json={"start": 0, "leafHashes": [5]}), MalformedInput, "base64"),
        (httpx.Response(200, json=[1, 2]), MalformedInput, "JSON object"),
        (httpx.Response(200, content=b"<html>"), MalformedInput, "not JSON"),
        (httpx.Response(200, content=b"x" * (33 << 20)), MalformedInput, "larger than"),
        (
            httpx.Response(403, json={"title": "Forbidden\x1b[31m", "type": "x"}),
            LogRefused,
            r"log_access_refused: the host refused /v1/log/leaf-hashes .* \(403: Forbidden",
        ),
        (httpx.Response(503), Unavailable, "503"),
        (httpx.Response(404), MalformedInput, "404"),
    ],
)
def test_a_hostile_hosts_leaf_hash_pages_are_refused(
    answer: httpx.Response, kind: type[RegieError], words: str
) -> None:
    source = hostile(lambda request: answer)
    with pytest.raises(kind, match=words) as caught:
        source.leaf_hashes(2)
    assert "\x1b" not in str(caught.value)


@pytest.mark.parametrize(
    ("events", "words"),
    [
        ([{"index": 5, "event": "{}"}, {"index": 3, "event": "{}"}], "out of order"),
        ([{"index": 2000, "event": "{}"}], "out of order or range"),
        ([{"index": 1, "event": ""}], "bad index or event"),
        ([{"index": 1, "event": "{}", "more": 1}], "not {index, event}"),
        ([{"index": 1, "event": "a\nb"}], "cannot be a log event"),
    ],
)
def test_a_hostile_hosts_event_pages_are_refused(events: list[Any], words: str) -> None:
    source = hostile(lambda request: httpx.Response(200, json={"start": 0, "events": events}))
    with pytest.raises(RegieError, match=words):
        list(source.event_lines(10))


def test_requests_for_events_carry_a_dpop_proof_for_the_exact_url() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"start": 0, "events": [{"index": 1, "event": "{}"}]})

    assert list(hostile(answer).event_lines(3)) == [(0, [b"", b"{}", b""])]
    (request,) = seen
    assert request.url.path == "/v1/log/events"
    assert dict(request.url.params) == {"start": "0", "end": "3"}
    _, claims, _ = request.headers["DPoP"].split(".")
    body = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert (body["htm"], body["htu"]) == ("GET", "https://wallet.example/v1/log/events")


def test_a_transport_failure_is_unavailable() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(Unavailable, match="cannot reach"):
        hostile(fail).checkpoint()


def test_the_bar_starts_for_long_stages_only() -> None:
    text = io.StringIO()
    console = Console(file=text, force_terminal=False, width=80)
    with BarProgress(console, threshold=100) as progress:
        progress.stage("Short", 10)
        progress.advance(10)
        assert text.getvalue() == ""
        progress.stage("Long", 1000)
        progress.advance(1000)
        progress.stage("Next", 5)
        progress.advance(5)
    assert "Long" in text.getvalue() and "Next" in text.getvalue()
