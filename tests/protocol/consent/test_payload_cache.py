"""The caches on the consent-verification path carry nothing across calls but parse results.

:mod:`regie_protocol.consent._payloads` keeps a payload's decoded JSON and its
:class:`ConsentClaims` by the payload's exact text, once its token verified in
full. These tests show that a cached payload still goes through every check
(a table of attacks on a payload that is in the cache, good case first), that
refused tokens leave nothing behind, and that nothing cached can be changed.
Also: the thumbprint kept on a public key, and jws's cached headers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from regie_protocol import jws
from regie_protocol._encoding import b64url_decode
from regie_protocol.consent import claims_from_json, parse_consent, verify_consent
from regie_protocol.consent._payloads import PAYLOADS, PayloadCache, VerifiedPayload
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk, thumbprint_of
from regie_protocol.limits import DEFAULT_LIMITS, Limits
from tests.conftest import NOW
from tests.protocol.consent.world import (
    VERIFIER_A,
    VERIFIER_B,
    World,
    good_claims,
    header_for,
    make_world,
    payload_of,
    resign,
)
from tests.protocol.jws_forge import forge, json_bytes, split

DAY = 86400
DEPTH = DEFAULT_LIMITS.max_json_depth


def _good(world: World) -> str:
    return resign(payload_of(world), world.holder_a)


def _verify(token: str, world: World, **changes: Any) -> Any:
    args: dict[str, Any] = {
        "holder_keys": world.keys_of_a,
        "audience": VERIFIER_A,
        "now": NOW,
        **changes,
    }
    return verify_consent(token, **args)


def _cached(token: str, max_depth: int = DEPTH) -> VerifiedPayload | None:
    return PAYLOADS.get(split(token)[1], max_depth)


def _flip_last_signature_byte(token: str) -> str:
    header, payload, _ = split(token)
    signature = jws.parse(token, max_bytes=DEFAULT_LIMITS.max_token_bytes).signature
    return forge(
        _segment_json(header),
        _segment_json(payload),
        key=None,
        signature=signature[:-1] + bytes([signature[-1] ^ 1]),
    )


def _segment_json(segment: str) -> bytes:
    return b64url_decode(segment)


def _same_payload(
    token: str, header: dict[str, Any], key: SigningKey | None, sig: bytes | None
) -> str:
    """The token's payload bytes unchanged, under ``header``, signed by ``key`` (or ``sig``)."""
    return forge(json_bytes(header), _segment_json(split(token)[1]), key=key, signature=sig)


@dataclass(frozen=True)
class Attack:
    """One change to a good token whose payload is cached, or to what the verifier passes."""

    expected: type[RegieError] | None
    code: Code | None
    token: Callable[[str, World], str] = lambda good, w: good
    verify: Callable[[World], dict[str, Any]] = lambda w: {}


WARM: dict[str, Attack] = {
    "good-token-again": Attack(None, None),
    # the signature is checked on every call, whatever the cache holds
    "signature-bit-flipped": Attack(
        SignatureRefused, Code.SIGNATURE_INVALID, token=lambda g, w: _flip_last_signature_byte(g)
    ),
    "same-payload-signed-by-another-key": Attack(
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        token=lambda g, w: _same_payload(g, header_for(w.holder_a), w.holder_b, None),
    ),
    "same-payload-no-signature": Attack(
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        token=lambda g, w: _same_payload(g, header_for(w.holder_a), None, b""),
    ),
    # the header is read and checked on every call
    "same-payload-typ-kb+jwt": Attack(
        SignatureRefused,
        Code.TYP_MISMATCH,
        token=lambda g, w: _same_payload(g, header_for(w.holder_a, typ="kb+jwt"), w.holder_a, None),
    ),
    "same-payload-alg-none": Attack(
        SignatureRefused,
        Code.ALGORITHM_REFUSED,
        token=lambda g, w: _same_payload(g, header_for(w.holder_a, alg="none"), None, b""),
    ),
    "same-payload-header-jku": Attack(
        SignatureRefused,
        Code.HEADER_REFUSED,
        token=lambda g, w: _same_payload(
            g, header_for(w.holder_a, jku="https://evil.example/jwks"), w.holder_a, None
        ),
    ),
    # times, audience and the holder key are the caller's, checked on every call
    "expired-now": Attack(TimeRefused, Code.EXPIRED, verify=lambda w: {"now": NOW + 91 * DAY}),
    "not-yet-valid-now": Attack(
        TimeRefused, Code.NOT_YET_VALID, verify=lambda w: {"now": NOW - 3600}
    ),
    "leeway-0-at-expiry": Attack(
        TimeRefused,
        Code.EXPIRED,
        verify=lambda w: {
            "now": NOW + 90 * DAY,
            "limits": dataclasses.replace(DEFAULT_LIMITS, leeway_seconds=0),
        },
    ),
    "other-audience": Attack(
        ClaimRefused, Code.AUDIENCE_MISMATCH, verify=lambda w: {"audience": VERIFIER_B}
    ),
    "holder-key-unregistered": Attack(
        SignatureRefused, Code.KEY_UNKNOWN, verify=lambda w: {"holder_keys": {}}
    ),
    "iss-registered-under-wrong-key": Attack(
        ClaimRefused,
        Code.CLAIM_INVALID,
        verify=lambda w: {
            "holder_keys": {w.holder_a.public_key.thumbprint_uri(): w.holder_b.public_key}
        },
    ),
    # the depth limit is part of the cache key: a tighter limit decodes again and refuses
    "json-deeper-than-the-callers-limit": Attack(
        MalformedInput,
        Code.DEPTH_EXCEEDED,
        verify=lambda w: {"limits": Limits(max_json_depth=3)},
    ),
}

ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(WARM))
def test_every_check_runs_on_a_cached_payload(alg: Alg, name: str) -> None:
    world, attack = make_world(alg), WARM[name]
    good = _good(world)
    first = _verify(good, world)
    assert _cached(good) is not None  # the attack below meets a warm cache
    token = attack.token(good, world)
    assert split(token)[1] == split(good)[1]  # the very payload text that is cached
    if attack.expected is None:
        assert _verify(token, world, **attack.verify(world)).claims is first.claims
        return
    with pytest.raises(RegieError) as caught:
        _verify(token, world, **attack.verify(world))
    assert type(caught.value) is attack.expected, caught.value
    assert caught.value.code is attack.code, caught.value
    # and the attack changed nothing for the good token
    assert _verify(good, world).claims == first.claims


def test_claims_refused_stay_refused_and_are_not_cached() -> None:
    world = make_world()
    payload = payload_of(world)
    payload["scope"] = "openid"  # an unknown member: refused, never ignored
    token = resign(payload, world.holder_a)
    for _ in range(2):
        with pytest.raises(ClaimRefused) as caught:
            _verify(token, world)
        assert caught.value.code is Code.CLAIM_INVALID
        assert _cached(token) is None


def test_refused_tokens_leave_nothing_behind() -> None:
    """Only a token that verified in full is kept: a bad signature or time fills nothing."""
    world = make_world()
    good = _good(world)
    forged = _same_payload(good, header_for(world.holder_a), world.holder_b, None)
    with pytest.raises(SignatureRefused):
        _verify(forged, world)
    assert _cached(good) is None
    with pytest.raises(TimeRefused):
        _verify(good, world, now=NOW + 91 * DAY)
    assert _cached(good) is None
    _verify(good, world)
    assert _cached(good) is not None
    with pytest.raises(SignatureRefused):
        _verify(forged, world)  # still refused now that its payload text is cached


def test_cached_claims_equal_claims_built_afresh() -> None:
    world = make_world()
    good = _good(world)
    first, second = _verify(good, world), _verify(good, world)
    assert second.claims is first.claims  # served from the cache
    assert first.claims == claims_from_json(parse_consent(good).unverified_claims)
    assert first.claims == good_claims(world)


def test_cached_claims_are_immutable() -> None:
    world = make_world()
    claims = _verify(_good(world), world).claims
    with pytest.raises(dataclasses.FrozenInstanceError):
        claims.aud = VERIFIER_B  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        claims.status.idx = 0  # type: ignore[misc]
    detail = claims.authorization_details[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.claims = ("everything",)  # type: ignore[misc]
    assert isinstance(claims.authorization_details, tuple)
    assert isinstance(detail.claims, tuple)
    assert isinstance(detail.actions, tuple)


def test_cached_payload_is_read_only() -> None:
    world = make_world()
    good = _good(world)
    claims = _verify(good, world).claims
    entry = _cached(good)
    assert entry is not None
    changes: list[Callable[[VerifiedPayload], object]] = [
        lambda e: e.__setitem__("aud", VERIFIER_B),
        lambda e: e.__delitem__("aud"),
        lambda e: e.update(aud=VERIFIER_B),
        lambda e: e.setdefault("scope", "x"),
        lambda e: e.pop("exp"),
        lambda e: e.popitem(),
        lambda e: e.clear(),
        lambda e: e.__ior__({"aud": VERIFIER_B}),
        lambda e: setattr(e, "claims", good_claims(make_world())),
        lambda e: delattr(e, "claims"),
        lambda e: e.__init__({"aud": VERIFIER_B}, claims),  # type: ignore[misc]
        lambda e: e["status"]["status_list"].__setitem__("idx", 0),
        lambda e: e["cnf"].update(jkt="x"),
    ]
    for change in changes:
        with pytest.raises((TypeError, AttributeError)):
            change(entry)
    with pytest.raises(TypeError):
        entry |= {"aud": VERIFIER_B}
    assert isinstance(entry["authorization_details"], tuple)
    assert isinstance(entry["authorization_details"][0]["claims"], tuple)
    assert entry["aud"] == VERIFIER_A
    assert entry.claims is claims
    assert _verify(good, world).claims is claims


def test_parse_consent_hands_out_its_own_copy() -> None:
    """The public parser never returns the cached JSON: changing its result changes nothing."""
    world = make_world()
    good = _good(world)
    _verify(good, world)
    unverified = parse_consent(good)
    assert type(unverified.unverified_claims) is dict
    unverified.unverified_claims["aud"] = VERIFIER_B  # type: ignore[index]
    unverified.unverified_claims["status"]["status_list"]["idx"] = 0
    assert _verify(good, world).claims.status.idx == good_claims(world).status.idx
    with pytest.raises(ClaimRefused):
        _verify(good, world, audience=VERIFIER_B)


def test_cache_is_bounded_least_recently_used_first() -> None:
    cache = PayloadCache(max_entries=2)
    claims = good_claims(make_world())
    for segment in ("a", "b"):
        cache.put(segment, DEPTH, {"n": segment}, claims)
    assert cache.get("a", DEPTH) is not None  # "a" used last
    cache.put("c", DEPTH, {"n": "c"}, claims)
    assert len(cache) == 2
    assert cache.get("b", DEPTH) is None
    assert cache.get("a", DEPTH) is not None
    assert cache.get("a", DEPTH + 1) is None  # the depth limit is part of the key
    cache.clear()
    assert len(cache) == 0


def test_thumbprint_kept_on_the_key_is_the_computed_one() -> None:
    for alg in (Alg.EDDSA, Alg.ES256):
        key = SigningKey.generate(alg).public_key
        fresh = public_key_from_jwk(key.required_members())
        assert key.thumbprint() == fresh.thumbprint() == thumbprint_of(key.required_members())
        assert key.thumbprint() is key.thumbprint()  # computed once
        other = SigningKey.generate(alg).public_key
        assert other.thumbprint() != key.thumbprint()
        assert key == fresh and key != other


def test_cached_jws_header_is_read_only() -> None:
    """jws keeps parsed headers by their segment text; no caller can change one in place."""
    key = SigningKey.generate(Alg.EDDSA)
    token = jws.sign({"sub": "x"}, key=key, typ="test+jwt")
    header = jws.parse(token, max_bytes=4096).header
    with pytest.raises(TypeError):
        header |= {"kid": "another"}  # type: ignore[operator]
    with pytest.raises(TypeError):
        header.update(kid="another")  # type: ignore[attr-defined]
    assert jws.parse(token, max_bytes=4096).header["kid"] == key.kid
