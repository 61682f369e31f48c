"""Property tests: random valid consents round-trip; mutated tokens give only Regie errors."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie_protocol._encoding import b64url_encode
from regie_protocol.consent import (
    MAX_LIFETIME,
    Actor,
    AuthorizationDetail,
    ConsentClaims,
    DataRange,
    LocalizedText,
    NoticeRef,
    RequestRef,
    StatusRef,
    claims_from_json,
    parse_consent,
    sign_consent,
    verify_consent,
)
from regie_protocol.errors import RegieError
from regie_protocol.vocab import legal_bases, purposes
from tests.conftest import NOW
from tests.protocol.consent.world import VERIFIER_A, good_claims, make_world, payload_of, resign

WORLD = make_world()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_segment = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
_claim_names = st.lists(_segment, min_size=1, max_size=3).map(".".join)
_uris = st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9/_-]{0,20}", fullmatch=True)
_digests = st.binary(min_size=32, max_size=32).map(b64url_encode)
_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)
_durations = st.builds(
    lambda y, d, h: "P" + (f"{y}Y" if y else "") + f"{d}D" + (f"T{h}H" if h else ""),
    st.integers(0, 99),
    st.integers(0, 400),
    st.integers(0, 23),
)
_dates = st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10)


@st.composite
def _details(draw: st.DrawFn, vct: str) -> AuthorizationDetail:
    store = draw(st.booleans())
    retention = "P0D"
    if store:
        retention = draw(_durations.filter(lambda d: any(c in "123456789" for c in d)))
    start, end = sorted(draw(st.lists(_dates, min_size=2, max_size=2)))
    data_range = draw(
        st.sampled_from(
            [None, DataRange(start=start), DataRange(end=end), DataRange(start=start, end=end)]
        )
    )
    return AuthorizationDetail(
        credential_types=(vct,),
        claims=tuple(draw(st.lists(_claim_names, min_size=1, max_size=5, unique=True))),
        actions=("present", "store") if store else ("present",),
        purpose=draw(st.sampled_from(sorted(purposes()))),
        purpose_text=LocalizedText(nl=draw(_text), en=draw(_text)),
        legal_basis=draw(st.sampled_from(sorted(legal_bases()))),
        processing_activity=draw(_uris),
        retention=retention,
        recipients=tuple(draw(st.lists(_uris, max_size=3, unique=True))),
        data_range=data_range,
        max_uses=draw(st.none() | st.integers(1, 2**31 - 1)),
        frequency=draw(st.none() | st.sampled_from(["P1D", "PT1H", "P1W", "P1M"])),
    )


@st.composite
def consent_claims(draw: st.DrawFn) -> ConsentClaims:
    iat = draw(st.integers(NOW - MAX_LIFETIME // 2, NOW))
    nbf = draw(st.integers(iat, NOW))
    exp = draw(st.integers(NOW + 61, iat + MAX_LIFETIME))
    vcts = draw(st.lists(_uris, min_size=1, max_size=3, unique=True))
    return ConsentClaims(
        jti=draw(st.from_regex(r"[A-Za-z0-9._~-]{1,40}", fullmatch=True)),
        iss=WORLD.holder_a.public_key.thumbprint_uri(),
        aud=VERIFIER_A,
        iat=iat,
        nbf=nbf,
        exp=exp,
        request=RequestRef(
            id=draw(st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True)), sha256=draw(_digests)
        ),
        notice=NoticeRef(
            uri=draw(_uris),
            sha256=draw(_digests),
            lang=draw(st.sampled_from(["nl", "en", "nl-NL"])),
        ),
        status=StatusRef(idx=draw(st.integers(0, 2**31 - 1)), uri=draw(_uris)),
        cnf_jkt=draw(_digests),
        authorization_details=tuple(draw(_details(vct)) for vct in vcts),
        act=draw(st.none() | st.builds(Actor, sub=_text, mandate=_uris)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claims=consent_claims())
def test_valid_consents_round_trip(claims: ConsentClaims) -> None:
    token = sign_consent(claims, holder_key=WORLD.holder_a)
    verified = verify_consent(token, holder_keys=WORLD.keys_of_a, audience=VERIFIER_A, now=NOW)
    assert verified.claims == claims
    assert claims_from_json(json.loads(json.dumps(claims.to_json()))) == claims


GOOD = resign(payload_of(WORLD), WORLD.holder_a)


def _verify(token: str | bytes) -> None:
    verify_consent(token, holder_keys=WORLD.keys_of_a, audience=VERIFIER_A, now=NOW)


@SETTINGS
@given(data=st.data())
def test_mutated_tokens_give_only_regie_errors(data: st.DataObject) -> None:
    raw = bytearray(GOOD.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(RegieError):
        _verify(bytes(raw))
    with contextlib.suppress(RegieError):
        parse_consent(bytes(raw))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@SETTINGS
@given(data=st.data())
def test_signed_claims_with_one_value_replaced_give_only_regie_errors(data: st.DataObject) -> None:
    payload = payload_of(WORLD)
    path = data.draw(st.sampled_from(_paths(payload)))
    node: Any = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = data.draw(_json)
    with contextlib.suppress(RegieError):
        _verify(resign(payload, WORLD.holder_a))


def test_good_claims_is_a_fixed_point() -> None:
    claims = good_claims(WORLD)
    assert claims_from_json(claims.to_json()) == claims
