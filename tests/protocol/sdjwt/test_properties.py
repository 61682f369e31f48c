"""Property tests: parsers meet hostile input with typed errors only; round trips are exact.

* arbitrary text and bytes to :func:`parse` and :func:`verify` raise only
  :class:`RegieError` subclasses;
* any character-level change to a presentation (flip, delete, insert) is
  refused, with or without key binding; reordering, dropping or repeating
  disclosures is refused under key binding (``sd_hash``) and gives only typed
  errors or a valid subset without;
* issue -> present(any subset of claim paths) -> verify returns exactly the
  chosen claims (checked against an independent model of the selection), for
  Ed25519 and P-256 issuer and holder keys.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from regie_protocol.errors import RegieError
from regie_protocol.keys import Alg, SigningKey
from regie_protocol.sdjwt import (
    SD,
    UNSAFE_SKIP_STATUS,
    KeyBindingRequired,
    NoKeyBinding,
    VerifiedSdJwt,
    cnf_for,
    issue,
    parse,
    present,
    verify,
)

from .world import AUDIENCE, NONCE, World, join, split

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORLD = World.make(Alg.EDDSA, Alg.EDDSA)
GOOD_KB = WORLD.good()
GOOD_PLAIN = WORLD.present(holder_key=None, audience=None, nonce=None, now=None)
NO_KB = {"key_binding": NoKeyBinding()}


def verify_or_refuse(token: Any, **overrides: Any) -> VerifiedSdJwt | None:
    """Verify; a refusal must be a RegieError (anything else fails the test)."""
    try:
        return WORLD.verify(token, **overrides)
    except RegieError:
        return None


# --- arbitrary input ----------------------------------------------------------------------


@FAST
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_parse_arbitrary_input(data: str | bytes) -> None:
    with contextlib.suppress(RegieError):
        parse(data)


@FAST
@given(st.text(alphabet="A-Za-z0-9_.~-=+/ \x00é", max_size=300))
def test_verify_tokenish_text(data: str) -> None:
    assert verify_or_refuse(data) is None
    assert verify_or_refuse(data, **NO_KB) is None


@FAST
@given(st.lists(st.sampled_from(GOOD_KB.split("~")), min_size=1, max_size=8))
def test_verify_recombined_parts(parts: list[str]) -> None:
    token = "~".join(parts)
    verified = verify_or_refuse(token)
    assert verified is None or token == GOOD_KB


# --- mutations of a good presentation -----------------------------------------------------

EDITS = st.sampled_from(["flip", "delete", "insert"])
CHARS = st.sampled_from(list("A_-~.=e0 \n\x00ü"))


def edit(token: str, kind: str, position: int, char: str) -> str:
    i = position % len(token)
    if kind == "delete":
        return token[:i] + token[i + 1 :]
    if kind == "insert":
        return token[:i] + char + token[i:]
    flipped = chr(ord(token[i]) ^ 1)
    return token[:i] + flipped + token[i + 1 :]


@FAST
@given(EDITS, st.integers(min_value=0), CHARS)
def test_character_edit_with_key_binding_is_refused(kind: str, position: int, char: str) -> None:
    mutated = edit(GOOD_KB, kind, position, char)
    assert verify_or_refuse(mutated) is None


@FAST
@given(EDITS, st.integers(min_value=0), CHARS)
def test_character_edit_without_key_binding_is_refused(kind: str, position: int, char: str) -> None:
    mutated = edit(GOOD_PLAIN, kind, position, char)
    assert verify_or_refuse(mutated, **NO_KB) is None


@FAST
@given(st.data())
def test_disclosure_reshuffle(data: st.DataObject) -> None:
    jwt, disclosures, kb = split(GOOD_KB)
    pool = [*disclosures, *split(WORLD.issue())[1]]
    chosen = data.draw(st.lists(st.sampled_from(pool), max_size=8))
    bound = verify_or_refuse(join(jwt, chosen, kb))
    event(f"bound accepted: {bound is not None}")
    assert bound is None or chosen == disclosures
    plain = verify_or_refuse(join(jwt, chosen), **NO_KB)
    event(f"plain accepted: {plain is not None}")
    if plain is not None:  # a valid subset: each disclosure once, each reachable
        assert len(set(chosen)) == len(chosen)


# --- round trip against a model of the selection ------------------------------------------

NAMES = st.from_regex(r"[a-h]{1,3}", fullmatch=True)  # never a reserved or registered claim
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)


def maybe_sd(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, values.map(SD))


VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(maybe_sd(inner), max_size=4),
        st.dictionaries(NAMES, maybe_sd(inner), max_size=4),
    ),
    max_leaves=12,
)
USER_CLAIMS = st.dictionaries(NAMES, maybe_sd(VALUES), max_size=6)


def full_view_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every claim path in the holder's view (all disclosures applied)."""
    if isinstance(value, SD):
        value = value.value
    out: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for step, member in items:
        out.append((*path, step))
        out += full_view_paths(member, (*path, step))
    return out


def related(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def expected_view(
    value: Any, chosen: set[tuple[Any, ...]], path: tuple[Any, ...], out_path: tuple[Any, ...]
) -> tuple[Any, set[tuple[Any, ...]]]:
    """What a verifier must see: SD nodes inside or above a chosen path, plain nodes always."""
    disclosed: set[tuple[Any, ...]] = set()
    if isinstance(value, dict):
        out_dict: dict[str, Any] = {}
        for name, member in value.items():
            here, out_here = (*path, name), (*out_path, name)
            if isinstance(member, SD):
                if not any(related(here, c) for c in chosen):
                    continue
                disclosed.add(out_here)
                member = member.value
            out_dict[name], inner = expected_view(member, chosen, here, out_here)
            disclosed |= inner
        return out_dict, disclosed
    if isinstance(value, list):
        out_list: list[Any] = []
        for i, element in enumerate(value):
            here, out_here = (*path, i), (*out_path, len(out_list))
            if isinstance(element, SD):
                if not any(related(here, c) for c in chosen):
                    continue
                disclosed.add(out_here)
                element = element.value
            shown, inner = expected_view(element, chosen, here, out_here)
            out_list.append(shown)
            disclosed |= inner
        return out_list, disclosed
    return value, disclosed


ROUND_TRIP_KEYS = {
    alg: (SigningKey.generate(alg), SigningKey.generate(alg)) for alg in (Alg.EDDSA, Alg.ES256)
}


@pytest.mark.parametrize("alg", [Alg.EDDSA, Alg.ES256], ids=["Ed25519", "P-256"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=USER_CLAIMS, data=st.data())
def test_round_trip(alg: Alg, user: dict[str, Any], data: st.DataObject) -> None:
    issuer, holder = ROUND_TRIP_KEYS[alg]
    base = {"iss": "https://i.example", "vct": "urn:t", "cnf": cnf_for(holder.public_key)}
    token = issue({**base, **user}, issuer_key=issuer)
    paths = full_view_paths(user)
    chosen = data.draw(st.sets(st.sampled_from(paths)) if paths else st.just(set()))
    shown = present(
        token, disclose=chosen, holder_key=holder, audience=AUDIENCE, nonce=NONCE, now=WORLD.now
    )
    verified = verify(
        shown,
        issuer_keys={"https://i.example": {issuer.kid: issuer.public_key}},
        key_binding=KeyBindingRequired(audience=AUDIENCE, nonce=NONCE),
        status=UNSAFE_SKIP_STATUS,
        now=WORLD.now,
        accepted_vcts={"urn:t"},
    )
    expected, disclosed = expected_view(user, chosen, (), ())
    event(f"disclosures shown: {min(len(disclosed), 3)}+, chosen: {min(len(chosen), 3)}+")
    assert verified.claims == {**base, **expected}
    assert verified.disclosed_paths == disclosed
