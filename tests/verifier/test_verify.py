"""verify_consent_token: a refusal table under one policy, good cases first (T6, T14-T16, T19).

Each case starts from a good consent token for the parking desk (attribute
``address``, purpose ServiceProvision, status entry on the trusted host's
list), changes ONE thing (the token, the policy, the status list or the clock)
and asserts the exact exception class and code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from regie_protocol.consent import StatusRef
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    Misuse,
    RegieError,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.sdjwt import SD, cnf_for, issue
from regie_protocol.statuslist import Status
from tests.verifier.world import (
    HOST,
    IDX,
    MARKETING,
    OTHER_HOST,
    OTHER_VERIFIER,
    STATUS_URI,
    VCT_PERSON,
    World,
    detail,
    make_world,
)
from verifier.verify import VerifiedConsentToken, verify_consent_token


def _credential(world: World, *, whole: bool) -> str:
    issuer = SigningKey.generate(Alg.EDDSA)
    sd_jwt = issue(
        {
            "iss": "https://issuer.example",
            "vct": VCT_PERSON,
            "cnf": cnf_for(world.holder.public_key),
            "address": SD({"street": "Kerkstraat 1", "locality": "Utrecht"}),
        },
        issuer_key=issuer,
    )
    return sd_jwt if whole else sd_jwt.split("~", 1)[0]


def _status_list_token(world: World) -> str:
    return world.server.token(STATUS_URI)


@dataclass(frozen=True)
class Case:
    expected: type[RegieError] | None
    code: Code | None = None
    token: Callable[[World], str] = lambda w: w.token()
    policy: Callable[[World], dict[str, Any]] = lambda w: {}
    setup: Callable[[World], None] = lambda w: None
    words: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _revoke(status: Status) -> Callable[[World], None]:
    def setup(world: World) -> None:
        world.server.set(STATUS_URI, IDX, status)

    return setup


def _move_clock(seconds: int) -> Callable[[World], None]:
    def setup(world: World) -> None:
        world.clock.now += seconds

    return setup


def _down(world: World) -> None:
    world.server.down = True


def _signed_by_another_key(world: World) -> None:
    world.server.keys[STATUS_URI] = SigningKey.generate(Alg.EDDSA)


def _status_uri(uri: str) -> Callable[[World], str]:
    return lambda w: w.token(status=StatusRef(idx=IDX, uri=uri))


CASES: dict[str, Case] = {
    # --- good cases first ---------------------------------------------------------------
    "good": Case(None),
    "good-part-of-a-consented-whole": Case(
        None, policy=lambda w: {"attributes": frozenset({"address.locality"})}
    ),
    "good-any-purpose-said-on-purpose": Case(None, policy=lambda w: {"purpose": None}),
    "good-within-leeway-after-exp": Case(
        None, token=lambda w: w.token(exp=w.clock.now + 5), setup=_move_clock(20)
    ),
    # --- T6/T15: audience and holder ------------------------------------------------------
    "wrong-audience": Case(
        ClaimRefused, Code.AUDIENCE_MISMATCH, policy=lambda w: {"audience": OTHER_VERIFIER}
    ),
    "token-for-another-verifier": Case(
        ClaimRefused, Code.AUDIENCE_MISMATCH, token=lambda w: w.token(aud=OTHER_VERIFIER)
    ),
    "holder-key-unknown": Case(
        SignatureRefused,
        Code.KEY_UNKNOWN,
        token=lambda w: w.token(key=w.other_holder, iss=w.other_holder.public_key.thumbprint_uri()),
    ),
    "signed-by-another-key": Case(
        SignatureRefused, Code.SIGNATURE_INVALID, token=lambda w: _forged(w)
    ),
    # --- T14: scope ------------------------------------------------------------------------
    "missing-attribute": Case(
        ClaimRefused,
        Code.NOT_CONSENTED,
        policy=lambda w: {"attributes": frozenset({"address", "income"})},
        words="'income'",
    ),
    "whole-asked-part-consented": Case(
        ClaimRefused,
        Code.NOT_CONSENTED,
        token=lambda w: w.token(authorization_details=(detail(claims=("address.locality",)),)),
    ),
    "stored-but-not-presented": Case(
        ClaimRefused,
        Code.NOT_CONSENTED,
        token=lambda w: w.token(authorization_details=(detail(actions=("store",)),)),
    ),
    "other-purpose": Case(
        ClaimRefused, Code.NOT_CONSENTED, policy=lambda w: {"purpose": MARKETING}, words="purpose"
    ),
    "other-purpose-no-attributes": Case(
        ClaimRefused,
        Code.NOT_CONSENTED,
        policy=lambda w: {"purpose": MARKETING, "attributes": frozenset()},
    ),
    # --- T16/T19: whose status list --------------------------------------------------------
    "untrusted-host": Case(
        SignatureRefused,
        Code.ISSUER_UNTRUSTED,
        token=_status_uri(OTHER_HOST + "/v1/status-lists/consents-1"),
    ),
    "host-look-alike": Case(
        SignatureRefused,
        Code.ISSUER_UNTRUSTED,
        token=_status_uri("https://wallet.example.evil.example/v1/status-lists/1"),
    ),
    "host-path-escape": Case(
        SignatureRefused,
        Code.ISSUER_UNTRUSTED,
        token=_status_uri(HOST + "/v1/../../evil.example/list"),
    ),
    "host-trusted-nowhere": Case(
        SignatureRefused, Code.ISSUER_UNTRUSTED, policy=lambda w: {"trusted_hosts": {}}
    ),
    "status-list-signed-by-another-key": Case(
        SignatureRefused, Code.KEY_UNKNOWN, setup=_signed_by_another_key
    ),
    "status-list-unreachable": Case(Unavailable, Code.UNAVAILABLE, setup=_down),
    # --- status --------------------------------------------------------------------------
    "revoked": Case(StatusRefused, Code.REVOKED, setup=_revoke(Status.INVALID)),
    "suspended": Case(StatusRefused, Code.SUSPENDED, setup=_revoke(Status.SUSPENDED)),
    "index-outside-the-list": Case(
        StatusRefused,
        Code.STATUS_INDEX_OUT_OF_RANGE,
        token=lambda w: w.token(status=StatusRef(idx=10_000, uri=STATUS_URI)),
    ),
    # --- time ----------------------------------------------------------------------------
    "expired": Case(TimeRefused, Code.EXPIRED, setup=_move_clock(91 * 86400)),
    "not-yet-valid": Case(
        TimeRefused,
        Code.NOT_YET_VALID,
        token=lambda w: w.token(nbf=w.clock.now + 3600, iat=w.clock.now),
    ),
    # --- T6: other tokens presented as a consent ----------------------------------------
    "credential-as-consent": Case(
        SignatureRefused, Code.TYP_MISMATCH, token=lambda w: _credential(w, whole=False)
    ),
    "sd-jwt-with-disclosures-as-consent": Case(
        MalformedInput, None, token=lambda w: _credential(w, whole=True)
    ),
    "status-list-token-as-consent": Case(
        SignatureRefused, Code.TYP_MISMATCH, token=_status_list_token
    ),
}


def _forged(world: World) -> str:
    """The holder's good token with the signature of another key (same header and payload)."""
    good = world.token()
    other = world.token(key=world.other_holder, iss=world.other_holder.public_key.thumbprint_uri())
    header_payload = good.rsplit(".", 1)[0]
    return header_payload + "." + other.rsplit(".", 1)[1]


@pytest.mark.parametrize("name", list(CASES))
def test_verify_consent_token(name: str) -> None:
    case = CASES[name]
    world = make_world()
    token = case.token(world)
    case.setup(world)
    policy = world.policy(**case.policy(world))
    cache = world.cache(policy)
    if case.expected is None:
        verified = verify_consent_token(token, policy, status=cache)
        assert isinstance(verified, VerifiedConsentToken)
        assert verified.host == HOST
        assert verified.jti == "consent-0001"
        assert verified.attributes == policy.attributes
        assert "address" in verified.consented
        return
    with pytest.raises(case.expected) as caught:
        verify_consent_token(token, policy, status=cache)
    if case.code is not None:
        assert caught.value.code is case.code, caught.value
    assert case.words in caught.value.message


def test_the_first_case_is_the_good_one() -> None:
    assert next(iter(CASES)) == "good"


def test_status_is_checked_last_and_only_for_trusted_hosts() -> None:
    world = make_world()
    policy = world.policy(attributes=frozenset({"income"}))
    with pytest.raises(ClaimRefused):
        verify_consent_token(world.token(), policy, status=world.cache(policy))
    assert world.server.fetches == []  # nothing fetched for a token refused offline
    untrusted = world.token(status=StatusRef(idx=IDX, uri=OTHER_HOST + "/v1/status-lists/1"))
    with pytest.raises(SignatureRefused):
        verify_consent_token(untrusted, world.policy(), status=world.cache())
    assert world.server.fetches == []  # a token never makes the verifier fetch elsewhere


def test_bytes_token_and_wrong_arguments() -> None:
    world = make_world()
    verified = verify_consent_token(world.token().encode(), world.policy(), status=world.cache())
    assert verified.token == world.token()
    with pytest.raises(MalformedInput):
        verify_consent_token(b"\xff\xfe", world.policy(), status=world.cache())
    with pytest.raises(Misuse):
        verify_consent_token(world.token(), object(), status=world.cache())  # type: ignore[arg-type]


def test_policy_refuses_a_bad_statement() -> None:
    world = make_world()
    bad: list[dict[str, Any]] = [
        {"attributes": "address"},
        {"attributes": frozenset({"Address"})},
        {"leeway": 61},
        {"audience": ""},
        {"trusted_hosts": {"http://wallet.example": {}}},
        {"trusted_hosts": {HOST + "/": {}}},
    ]
    for changes in bad:
        with pytest.raises(Misuse):
            world.policy(**changes)


WARM: dict[str, tuple[type[RegieError], Code, Callable[[World], dict[str, Any]]]] = {
    "other-attributes": (
        ClaimRefused,
        Code.NOT_CONSENTED,
        lambda w: {"attributes": frozenset({"income"})},
    ),
    "other-purpose": (ClaimRefused, Code.NOT_CONSENTED, lambda w: {"purpose": MARKETING}),
    "other-audience": (
        ClaimRefused,
        Code.AUDIENCE_MISMATCH,
        lambda w: {"audience": OTHER_VERIFIER},
    ),
    "host-no-longer-trusted": (
        SignatureRefused,
        Code.ISSUER_UNTRUSTED,
        lambda w: {"trusted_hosts": {}},
    ),
    "holder-key-removed": (SignatureRefused, Code.KEY_UNKNOWN, lambda w: {"holder_keys": {}}),
}


@pytest.mark.parametrize("name", list(WARM))
def test_a_token_verified_before_meets_the_policy_of_each_call(name: str) -> None:
    """Verifying a token once (its payload is then cached) decides nothing for the next call."""
    expected, code, changes = WARM[name]
    world = make_world()
    token = world.token()
    cache = world.cache()
    verify_consent_token(token, world.policy(), status=cache)
    with pytest.raises(expected) as caught:
        verify_consent_token(token, world.policy(**changes(world)), status=cache)
    assert caught.value.code is code, caught.value
    assert verify_consent_token(token, world.policy(), status=cache).jti == "consent-0001"


def test_a_token_verified_before_meets_the_clock_and_status_of_each_call() -> None:
    world = make_world()
    token = world.token()
    policy = world.policy()
    cache = world.cache(policy)
    verify_consent_token(token, policy, status=cache)
    world.server.set(STATUS_URI, IDX, Status.INVALID)
    world.clock.now += 301  # past the list's ttl: the cache fetches it again
    with pytest.raises(StatusRefused) as caught:
        verify_consent_token(token, policy, status=cache)
    assert caught.value.code is Code.REVOKED
    world.clock.now += 91 * 86400
    with pytest.raises(TimeRefused) as expired:
        verify_consent_token(token, policy, status=cache)
    assert expired.value.code is Code.EXPIRED
