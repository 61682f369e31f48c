"""Fuzz the JWS and JWK parsers: only RegieError subclasses, and no mutant is ever accepted.

Hypothesis feeds arbitrary bytes and text, and mutations of a good token
(flip, delete or insert a character, truncate, insert '.', swap or duplicate
segments), to :func:`jws.parse`, :func:`jws.verify`, :func:`public_key_from_jwk`,
:func:`parse_jwk_text` and the private-key readers. Any exception outside the
:class:`RegieError` tree fails the test, and so does a mutated token that
verifies while differing from the original.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from regie_protocol import jws
from regie_protocol.errors import RegieError
from regie_protocol.keys import (
    Alg,
    EncryptionPublicKey,
    Passphrase,
    SigningKey,
    parse_jwk_text,
    public_key_from_jwk,
)
from tests.conftest import NOW

PROFILE = jws.TokenProfile(
    name="consent token",
    typ="regie-consent+jwt",
    algs=frozenset({"EdDSA", "Ed25519", "ES256"}),
    required_claims=frozenset({"iss", "aud", "jti"}),
    max_lifetime=400 * 86400,
)
AUDIENCE = "https://verifier.example/rp/7"
KEYS = {alg: SigningKey.generate(alg) for alg in (Alg.EDDSA, Alg.ES256)}
CLAIMS = {
    "iss": "https://wallet.example/holder/42",
    "aud": AUDIENCE,
    "jti": "consent-0001",
    "iat": NOW - 10,
    "exp": NOW + 3600,
}
TOKENS = {alg: jws.sign(CLAIMS, key=key, typ=PROFILE.typ) for alg, key in KEYS.items()}
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: characters a mutation may insert: the alphabet, its neighbours and known trouble
MUTATION_CHARS = st.sampled_from([*B64_CHARS, *".=+/ \n\t\0", "é", "\ufeff", "\ud800"])


def outcome(call: Callable[[], Any]) -> tuple[Any, RegieError | None]:
    """Run ``call``; a RegieError is an answer, anything else escapes and fails the test."""
    try:
        return call(), None
    except RegieError as error:
        return None, error


def verify(token: str | bytes, alg: Alg) -> jws.VerifiedJWS:
    key = KEYS[alg]
    return jws.verify(
        token, profile=PROFILE, keys={key.kid: key.public_key}, now=NOW, audience=AUDIENCE
    )


def test_good_tokens_verify() -> None:
    """Positive control for every property below."""
    for alg, token in TOKENS.items():
        assert verify(token, alg).claims == CLAIMS


# --- arbitrary input --------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000))
@example(b"..")
@example(b"e30.e30.")
@example(b"\xff.\xff.\xff")
def test_arbitrary_bytes(raw: bytes) -> None:
    outcome(lambda: jws.parse(raw, max_bytes=PROFILE.max_bytes))
    _, error = outcome(lambda: verify(raw, Alg.EDDSA))
    assert error is not None


@FUZZ
@given(st.text(max_size=500))
def test_arbitrary_text(text: str) -> None:
    outcome(lambda: jws.parse(text, max_bytes=PROFILE.max_bytes))
    _, error = outcome(lambda: verify(text, Alg.ES256))
    assert error is not None


@FUZZ
@given(st.lists(st.text(B64_CHARS, max_size=60), min_size=1, max_size=5))
@example(["e30", "e30", ""])
@example(["eyJhbGciOiJub25lIn0", "e30", ""])
def test_dot_joined_base64url_segments(segments: list[str]) -> None:
    """Segments made of the right alphabet reach the JSON and signature layers."""
    token = ".".join(segments)
    outcome(lambda: jws.parse(token, max_bytes=PROFILE.max_bytes))
    _, error = outcome(lambda: verify(token, Alg.EDDSA))
    assert error is not None


# --- mutations of a good token ----------------------------------------------------------


def _flip(token: str, at: int, char: str) -> str:
    return token[:at] + char + token[at + 1 :]


def _mutations() -> st.SearchStrategy[tuple[Alg, str]]:
    @st.composite
    def build(draw: st.DrawFn) -> tuple[Alg, str]:
        alg = draw(st.sampled_from(list(TOKENS)))
        token = TOKENS[alg]
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "dot", "segments"]))
        at = draw(st.integers(0, len(token) - 1))
        if kind == "flip":
            mutated = _flip(token, at, draw(MUTATION_CHARS))
        elif kind == "delete":
            mutated = token[:at] + token[at + 1 :]
        elif kind == "insert":
            mutated = token[:at] + draw(MUTATION_CHARS) + token[at:]
        elif kind == "truncate":
            mutated = token[:at]
        elif kind == "dot":
            mutated = token[:at] + "." + token[at:]
        else:
            parts = token.split(".")
            order = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=4))
            mutated = ".".join(parts[i] for i in order)
        return alg, mutated

    return build()


@FUZZ
@given(_mutations())
def test_mutated_token_never_accepted(case: tuple[Alg, str]) -> None:
    alg, mutated = case
    result, error = outcome(lambda: verify(mutated, alg))
    if error is None:
        assert mutated == TOKENS[alg], f"mutant accepted: {mutated!r}"
        assert result.claims == CLAIMS


@pytest.mark.parametrize("alg", list(TOKENS))
def test_every_single_character_flip_refused(alg: Alg) -> None:
    """Exhaustive over positions: each character replaced by its alphabet neighbour."""
    token = TOKENS[alg]
    accepted = []
    for at, char in enumerate(token):
        if char == ".":
            continue
        neighbour = B64_CHARS[(B64_CHARS.index(char) + 1) % 64]
        _, error = outcome(partial(verify, _flip(token, at, neighbour), alg))
        if error is None:
            accepted.append(at)
    assert accepted == []


# --- JWK parsers ------------------------------------------------------------------------

jwk_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=50)
jwk_members = st.sampled_from(["kty", "crv", "x", "y", "d", "k", "alg", "kid", "use", "n", "e"])
GOOD_JWKS = [KEYS[Alg.EDDSA].public_key.to_jwk(), KEYS[Alg.ES256].public_key.to_jwk()]


@st.composite
def jwk_like(draw: st.DrawFn) -> Any:
    base: dict[str, Any] = dict(draw(st.sampled_from(GOOD_JWKS)))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(jwk_members)
        if draw(st.booleans()):
            base.pop(name, None)
        else:
            base[name] = draw(
                jwk_scalars | st.text(B64_CHARS, max_size=50) | st.lists(jwk_scalars, max_size=2)
            )
    return base


@FUZZ
@given(jwk_like() | st.dictionaries(jwk_members, jwk_scalars) | jwk_scalars)
def test_public_key_from_jwk_only_regie_errors(jwk: Any) -> None:
    for registering in (False, True):
        outcome(partial(public_key_from_jwk, jwk, registering=registering))
        outcome(partial(EncryptionPublicKey.from_jwk, jwk, registering=registering))
    if isinstance(jwk, dict):
        outcome(lambda: SigningKey.from_private_jwk(jwk))


@FUZZ
@given(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
@example(json.dumps(GOOD_JWKS[0]).encode())
@example(b'{"kty":"OKP","kty":"OKP"}')
@example(b"[1e400]")
def test_parse_jwk_text_only_regie_errors(raw: bytes) -> None:
    value, error = outcome(lambda: parse_jwk_text(raw))
    if error is None:
        assert isinstance(value, dict)
        outcome(lambda: public_key_from_jwk(value, registering=True))
        outcome(lambda: SigningKey.from_private_jwk(value))


ENCRYPTED = KEYS[Alg.EDDSA].export_private_jwk(protection=Passphrase("pw"))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(ENCRYPTED) - 1), MUTATION_CHARS)
@example(0, ".")
def test_encrypted_private_key_mutations_only_regie_errors(at: int, char: str) -> None:
    """Damaged key files are refused with a RegieError (a correct guess is a different file)."""
    mutated = _flip(ENCRYPTED, at, char)
    result, error = outcome(lambda: SigningKey.from_private_jwk_text(mutated, passphrase="pw"))
    if error is None:
        assert result.kid == KEYS[Alg.EDDSA].kid
