"""Consent API: sign refuses what verify would refuse, parse, helpers, durations."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from regie_protocol._encoding import b64url_decode
from regie_protocol.consent import (
    CONSENT_PROFILE,
    CONSENT_TYP,
    MAX_LIFETIME,
    Actor,
    DataRange,
    Duration,
    UnverifiedConsent,
    VerifiedConsent,
    consent_request_hash,
    new_consent_id,
    notice_hash,
    parse_consent,
    sign_consent,
    verify_consent,
)
from regie_protocol.errors import ClaimRefused, Code, MalformedInput, Misuse, SignatureRefused
from regie_protocol.keys import SigningKey
from tests.conftest import NOW
from tests.protocol.consent.world import (
    NOTICE,
    REQUEST_JWT,
    VERIFIER_A,
    good_claims,
    make_world,
)

WORLD = make_world()


def test_round_trip_with_every_optional_member(signing_key: SigningKey) -> None:
    world = replace(WORLD, holder_a=signing_key)
    claims = good_claims(world)
    detail = replace(
        claims.authorization_details[0],
        data_range=DataRange(start="2023-01-01", end="2024-12-31"),
        recipients=("https://belastingdienst.example/",),
    )
    claims = replace(
        claims,
        authorization_details=(detail, *claims.authorization_details[1:]),
        act=Actor(sub="representative-7", mandate="https://machtigen.example/mandate/9"),
    )
    token = sign_consent(claims, holder_key=signing_key)
    verified = verify_consent(token, holder_keys=world.keys_of_a.get, audience=VERIFIER_A, now=NOW)
    assert isinstance(verified, VerifiedConsent)
    assert verified.claims == claims
    assert verified.header == {
        "alg": signing_key.alg.value,
        "typ": CONSENT_TYP,
        "kid": signing_key.kid,
    }
    assert verified.key == signing_key.public_key


def test_parse_consent_gives_iss_and_jti_unverified() -> None:
    token = sign_consent(good_claims(WORLD), holder_key=WORLD.holder_a)
    parsed = parse_consent(token)
    assert isinstance(parsed, UnverifiedConsent)
    assert parsed.iss == WORLD.holder_a.public_key.thumbprint_uri()
    assert parsed.jti == "consent-0001"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert parse_consent(tampered).jti == "consent-0001"  # parsing is not verifying
    with pytest.raises(SignatureRefused) as caught:
        verify_consent(tampered, holder_keys=WORLD.keys_of_a, audience=VERIFIER_A, now=NOW)
    assert caught.value.code is Code.SIGNATURE_INVALID


def test_parse_consent_refuses_garbage_and_oversize() -> None:
    with pytest.raises(MalformedInput):
        parse_consent("not.a.token")
    with pytest.raises(MalformedInput) as caught:
        parse_consent("a" * (CONSENT_PROFILE.max_bytes + 1))
    assert caught.value.code is Code.SIZE_EXCEEDED


def test_sign_refuses_iss_of_another_key() -> None:
    claims = good_claims(WORLD)
    with pytest.raises(Misuse, match="thumbprint URI"):
        sign_consent(claims, holder_key=WORLD.holder_b)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"exp": NOW - 10 + MAX_LIFETIME + 1}, id="lifetime"),
        pytest.param({"nbf": NOW - 20}, id="nbf-before-iat"),
        pytest.param({"jti": "a/b"}, id="jti"),
        pytest.param({"authorization_details": ()}, id="no-details"),
        pytest.param({"iat": True}, id="iat-bool"),
    ],
)
def test_sign_refuses_claims_verify_would_refuse(change: dict[str, object]) -> None:
    claims = replace(good_claims(WORLD), **change)  # type: ignore[arg-type]
    with pytest.raises(Misuse):
        sign_consent(claims, holder_key=WORLD.holder_a)


@pytest.mark.parametrize(
    ("field", "value"),
    [("claims", ("*",)), ("purpose", "https://w3id.org/dpv#Nope"), ("retention", "P0D")],
)
def test_sign_refuses_bad_authorization_details(field: str, value: object) -> None:
    claims = good_claims(WORLD)
    detail = replace(claims.authorization_details[0], **{field: value})  # type: ignore[arg-type]
    with pytest.raises(Misuse):
        sign_consent(replace(claims, authorization_details=(detail,)), holder_key=WORLD.holder_a)


def test_sign_refuses_list_where_tuple_expected() -> None:
    claims = good_claims(WORLD)
    detail = replace(claims.authorization_details[0], claims=["income"])  # type: ignore[arg-type]
    with pytest.raises(Misuse, match="survive"):
        sign_consent(replace(claims, authorization_details=(detail,)), holder_key=WORLD.holder_a)


def test_verify_needs_an_audience() -> None:
    token = sign_consent(good_claims(WORLD), holder_key=WORLD.holder_a)
    with pytest.raises(Misuse):
        verify_consent(token, holder_keys=WORLD.keys_of_a, audience="", now=NOW)


def test_holder_keys_callable_returning_wrong_type_is_misuse() -> None:
    token = sign_consent(good_claims(WORLD), holder_key=WORLD.holder_a)
    with pytest.raises(Misuse):
        verify_consent(token, holder_keys=lambda iss: "key", audience=VERIFIER_A, now=NOW)  # type: ignore[arg-type,return-value]


def test_hash_helpers() -> None:
    assert (
        b64url_decode(consent_request_hash(REQUEST_JWT))
        == hashlib.sha256(REQUEST_JWT.encode()).digest()
    )
    assert b64url_decode(notice_hash(NOTICE)) == hashlib.sha256(NOTICE).digest()
    assert len(notice_hash(b"")) == 43


def test_new_consent_ids_are_fresh_and_valid() -> None:
    ids = {new_consent_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 22 for i in ids)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("P0D", (0, 0, 0, 0, 0, 0, 0)),
        ("P1Y", (1, 0, 0, 0, 0, 0, 0)),
        ("P1Y2M3W4DT5H6M7S", (1, 2, 3, 4, 5, 6, 7)),
        ("PT12H", (0, 0, 0, 0, 12, 0, 0)),
        ("P99999D", (0, 0, 0, 99999, 0, 0, 0)),
    ],
)
def test_duration_parses_the_strict_subset(text: str, parts: tuple[int, ...]) -> None:
    duration = Duration.parse(text)
    d = duration
    got = (d.years, d.months, d.weeks, d.days, d.hours, d.minutes, d.seconds)
    assert got == parts
    assert duration.text == text
    assert duration.is_zero == (sum(parts) == 0)


def test_duration_refusal_names_the_field() -> None:
    with pytest.raises(ClaimRefused, match="retention"):
        Duration.parse("P1,5D", "retention")


def test_detail_durations_are_exposed() -> None:
    detail = good_claims(WORLD).authorization_details[0]
    assert detail.retention_duration.years == 1
    frequency = detail.frequency_duration
    assert frequency is not None
    assert frequency.days == 1
    assert good_claims(WORLD).authorization_details[1].frequency_duration is None


def test_consent_ids_never_start_like_an_option() -> None:
    from regie_protocol.consent import new_consent_id

    ids = [new_consent_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(i[0] not in "-_" and len(i) == 22 for i in ids)
