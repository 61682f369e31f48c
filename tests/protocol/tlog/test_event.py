"""Log events: canonical (checked against the rfc8785 package), closed, bounded, no injection."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from regie_protocol.errors import LogRefused, Misuse
from regie_protocol.tlog.event import (
    EventName,
    EventView,
    decode_event,
    encode_event,
    parse_traceparent,
    pseudonym,
)

KEY = b"k" * 32
TEXT = st.text(min_size=1, max_size=40)


@given(TEXT, TEXT, st.lists(TEXT, max_size=5), st.integers(0, 2**53 - 1))
def test_our_encoding_is_rfc8785(verifier: str, purpose: str, names: list[str], use: int) -> None:
    body = encode_event(
        EventName.RELEASED,
        at=1_765_000_000,
        subject=pseudonym(KEY, "wallet-1"),
        details={"verifier": verifier, "purpose": purpose, "attributes": names, "use": use},
    )
    assert rfc8785.dumps(json.loads(body)) == body
    view = EventView.of(7, body)
    assert (view.verifier, view.purpose, view.use) == (verifier, purpose, use)
    assert view.attributes == tuple(sorted(set(names)))


def test_hostile_strings_cannot_break_a_line() -> None:
    body = encode_event(
        EventName.READ_REFUSED,
        at=0,
        subject=pseudonym(KEY, "w"),
        details={"verifier": "v\r\n— forged line\x1b[31m", "refusal_type": "x"},
        outcome_ok=False,
    )
    assert b"\n" not in body and b"\r" not in body and b"\x1b" not in body
    assert json.loads(body)["status_code"] == "ERROR"


def test_salt_makes_equal_events_differ_and_pseudonyms_are_keyed() -> None:
    args = {"at": 1, "subject": "s", "details": {"consent_id": "c"}}
    assert encode_event(EventName.GRANTED, **args) != encode_event(EventName.GRANTED, **args)  # type: ignore[arg-type]
    assert pseudonym(KEY, "w") != pseudonym(b"j" * 32, "w")
    assert len(pseudonym(KEY, "w")) == 43


@pytest.mark.parametrize(
    "details",
    [{"value": "x"}, {"use": -1}, {"use": True}, {"verifier": ""}, {"verifier": "x" * 513}],
)
def test_fields_off_the_list_or_out_of_bounds_are_refused(details: dict[str, object]) -> None:
    with pytest.raises(Misuse):
        encode_event(EventName.GRANTED, at=1, subject="s", details=details)


def _body() -> bytes:
    return encode_event(EventName.GRANTED, at=1, subject="s", details={"consent_id": "c"})


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b.replace(b'"name":"consent.granted"', b'"name":"x.y"'), id="name"),
        pytest.param(lambda b: b.replace(b",", b", ", 1), id="not-canonical"),
        pytest.param(lambda b: b"[" + b + b"]", id="not-object"),
        pytest.param(lambda b: b[:-1], id="truncated"),
        pytest.param(lambda b: b"\xff" + b, id="not-utf8"),
        pytest.param(lambda b: b + b" " * 9000, id="too-big"),
    ],
)
def test_decode_refuses(mutate: object) -> None:
    with pytest.raises(LogRefused):
        decode_event(mutate(_body()))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", True),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", False),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", False),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", False),
        ("garbage", False),
        (None, False),
    ],
)
def test_traceparent(header: str | None, ok: bool) -> None:
    parsed = parse_traceparent(header)
    assert (parsed is not None) == ok
    if parsed is not None:
        assert parsed.header() == header
