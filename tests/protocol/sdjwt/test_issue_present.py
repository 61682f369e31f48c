"""Issuing and presenting: output format, salts and decoys, path selection, and misuse."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import regie_protocol.sdjwt as sdjwt
from regie_protocol._encoding import b64url_decode
from regie_protocol.errors import Code, Misuse, RegieError
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.sdjwt import SD, NoKeyBinding, cnf_for, issue, parse, present
from regie_protocol.sdjwt._disclosures import digest

from .world import AUDIENCE, DISCLOSE, DROP, NONCE, World, decode_payload, split

B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.fixture(params=[Alg.EDDSA, Alg.ES256], ids=["Ed25519", "P-256"])
def world(request: pytest.FixtureRequest) -> World:
    return World.make(request.param, request.param)


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in vars(sdjwt) if not name.startswith("_")}
    assert public == set(sdjwt.__all__)
    assert sdjwt.SD_JWT_VC_TYP == "dc+sd-jwt"
    assert sdjwt.KB_JWT_TYP == "kb+jwt"
    assert frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}) == (
        sdjwt.NEVER_DISCLOSABLE
    )


def test_issued_format(world: World) -> None:
    token = world.issue()
    assert token.endswith("~") and token.count("~") == 7  # 6 disclosures
    jwt, disclosures, kb = split(token)
    assert kb == ""
    header = json.loads(b64url_decode(jwt.split(".")[0]))
    assert header == {"alg": world.issuer.alg.value, "typ": "dc+sd-jwt", "kid": world.issuer.kid}
    payload = decode_payload(jwt)
    assert payload["_sd_alg"] == "sha-256"
    address = next(d for d in parse(token).disclosures if d.name == "address").value
    for sd in (payload["_sd"], address["_sd"]):
        assert sd == sorted(sd)
    # 4 top-level disclosures plus 1..3 decoys; 1 nested plus 1..3 decoys
    assert 5 <= len(payload["_sd"]) <= 7 and 2 <= len(address["_sd"]) <= 4
    assert address["locality"] == "Utrecht" and "street" not in address
    assert set(payload["nationalities"][0]) == {"..."} and payload["nationalities"][1] == "DE"
    for name in ("given_name", "family_name", "address", "age_over_18"):
        assert name not in payload
    for claim in ("iss", "vct", "iat", "exp", "cnf", "status"):
        assert claim in payload
    referenced = {*payload["_sd"], *address["_sd"], payload["nationalities"][0]["..."]}
    for encoded in disclosures:
        assert B64URL.match(encoded) and digest(encoded) in referenced


def test_salts_are_128_bit_and_unique(world: World) -> None:
    parsed = parse(world.issue(world.payload(**{f"c{i}": SD(i) for i in range(40)})))
    salts = [d.salt for d in parsed.disclosures]
    assert len(set(salts)) == len(salts)
    assert all(len(b64url_decode(salt)) == 16 for salt in salts)


def test_disclosure_spelling_is_the_rfc_one() -> None:
    key = SigningKey.generate(Alg.EDDSA)
    salts = iter(["_26bc4LT-ac6q2KI6cBW5es"])
    token = issue(
        {"iss": "https://i", "vct": "v", "family_name": SD("Möbius")},
        issuer_key=key,
        salt=lambda: next(salts),
        decoys=0,
    )
    # RFC 9901 §4.2.1: ensure_ascii=False, ", " separators
    assert split(token)[1] == [
        "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
    ]
    assert decode_payload(split(token)[0])["_sd"] == ["X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"]


def test_decoys_exact_count() -> None:
    key = SigningKey.generate(Alg.EDDSA)
    payload = {"iss": "https://i", "vct": "v", "a": SD(1), "b": {"c": SD(2)}, "d": {"e": 3}}
    claims = decode_payload(split(issue(payload, issuer_key=key, decoys=4))[0])
    assert len(claims["_sd"]) == 5 and len(claims["b"]["_sd"]) == 5
    assert "_sd" not in claims["d"]  # no selectively disclosable member, no decoys


# --- presenting ---------------------------------------------------------------------------

SELECTIONS = [
    pytest.param((), {"nationalities": ["DE"]}, id="nothing"),
    pytest.param(("given_name",), {"given_name": "Jan", "nationalities": ["DE"]}, id="top-level"),
    pytest.param(
        ("address",),
        {"address": {"street": "Dorpsstraat 1", "locality": "Utrecht"}, "nationalities": ["DE"]},
        id="container-discloses-everything-inside",
    ),
    pytest.param(
        (("address", "locality"),),
        {"address": {"locality": "Utrecht"}, "nationalities": ["DE"]},
        id="plain-member-of-sd-object-keeps-container-only",
    ),
    pytest.param(
        (("address", "street"),),
        {"address": {"street": "Dorpsstraat 1", "locality": "Utrecht"}, "nationalities": ["DE"]},
        id="nested-member-keeps-container",
    ),
    pytest.param((("nationalities", 0),), {"nationalities": ["NL", "DE"]}, id="array-element"),
    pytest.param(("nationalities",), {"nationalities": ["NL", "DE"]}, id="whole-array"),
    pytest.param(
        (("nationalities", 1),), {"nationalities": ["DE"]}, id="plain-array-element-no-op"
    ),
]


@pytest.mark.parametrize(("disclose", "expected"), SELECTIONS)
def test_present_selects_paths(
    world: World, disclose: tuple[Any, ...], expected: dict[str, Any]
) -> None:
    verified = world.verify(world.present(disclose=disclose))
    user = {
        k: v for k, v in verified.claims.items() if k not in {"iss", "vct", "iat", "exp", "cnf"}
    }
    user.pop("status")
    assert user == expected


def test_presentation_with_key_binding_format(world: World) -> None:
    token = world.good()
    _, disclosures, kb = split(token)
    assert token.count("~") == 5 and kb  # 4 disclosures
    header = json.loads(b64url_decode(kb.split(".")[0]))
    assert header == {"alg": world.holder.alg.value, "typ": "kb+jwt"}
    claims = json.loads(b64url_decode(kb.split(".")[1]))
    assert claims == {
        "iat": world.now,
        "aud": AUDIENCE,
        "nonce": NONCE,
        "sd_hash": digest(token[: token.rindex("~") + 1]),
    }
    assert disclosures == [d for d in split(world.issue())[1] if d in disclosures]  # issued order


def test_presentation_without_key_binding_ends_with_tilde(world: World) -> None:
    token = world.present(holder_key=None, audience=None, nonce=None, now=None)
    assert token.endswith("~")
    world.verify(token, key_binding=NoKeyBinding())


def test_parse_peeks_without_verifying(world: World) -> None:
    parsed = parse(world.good())
    assert parsed.unverified_issuer == "https://issuer.example/brp"
    assert parsed.key_binding_jwt is not None
    assert parsed.header["typ"] == "dc+sd-jwt"
    assert [d.name for d in parsed.disclosures] == ["given_name", "street", "address", None]
    assert parsed.disclosures[3].is_array_element and parsed.disclosures[3].value == "NL"
    assert parsed.sd_jwt == world.good()[: world.good().rindex("~") + 1]


PRESENT_MISUSE = [
    pytest.param({"disclose": "given_name"}, id="disclose-a-bare-string"),
    pytest.param({"disclose": ["nickname"]}, id="no-such-claim"),
    pytest.param({"disclose": [("address", "zip")]}, id="no-such-nested-claim"),
    pytest.param({"disclose": [("nationalities", 2)]}, id="index-out-of-range"),
    pytest.param({"disclose": [("nationalities", True)]}, id="bool-index"),
    pytest.param({"disclose": [("nationalities", -1)]}, id="negative-index"),
    pytest.param({"disclose": [()]}, id="empty-path"),
    pytest.param({"disclose": [["given_name"]]}, id="path-as-list"),
    pytest.param({"audience": None}, id="kb-without-audience"),
    pytest.param({"nonce": ""}, id="kb-with-empty-nonce"),
    pytest.param({"now": None}, id="kb-without-time"),
    pytest.param({"holder_key": None}, id="kb-arguments-without-holder-key"),
    pytest.param({"holder_key": "other"}, id="holder-key-not-the-bound-one"),
    pytest.param({"sd_jwt": "good"}, id="a-presentation-not-an-issued-sd-jwt"),
]


@pytest.mark.parametrize("change", PRESENT_MISUSE)
def test_present_misuse(world: World, change: dict[str, Any]) -> None:
    options: dict[str, Any] = {
        "sd_jwt": world.issue(),
        "disclose": DISCLOSE,
        "holder_key": world.holder,
        "audience": AUDIENCE,
        "nonce": NONCE,
        "now": world.now,
    }
    present(**options)  # positive control
    options.update(change)
    if options["holder_key"] == "other":
        options["holder_key"] = SigningKey.generate(world.holder.alg)
    if options["sd_jwt"] == "good":
        options["sd_jwt"] = world.good()
    with pytest.raises(Misuse):
        present(**options)


def test_present_without_cnf_cannot_bind(world: World) -> None:
    token = world.issue(world.payload(cnf=DROP))
    with pytest.raises(Misuse, match="cnf"):
        world.present(token)
    shown = world.present(token, holder_key=None, audience=None, nonce=None, now=None)
    world.verify(shown, key_binding=NoKeyBinding())


# --- issuing misuse -----------------------------------------------------------------------

ISSUE_MISUSE = [
    *(
        pytest.param({name: SD("x")}, id=f"{name}-made-disclosable")
        for name in sorted(sdjwt.NEVER_DISCLOSABLE)
    ),
    pytest.param({"_sd": ["abc"]}, id="claim-named-_sd"),
    pytest.param({"...": "x"}, id="claim-named-ellipsis"),
    pytest.param({"_sd_alg": "sha-512"}, id="claim-named-_sd_alg"),
    pytest.param({"address": {"_sd": SD("x")}}, id="nested-claim-named-_sd"),
    pytest.param({"nationalities": [{"...": "x"}]}, id="nested-ellipsis-object"),
    pytest.param({"iss": DROP}, id="no-iss"),
    pytest.param({"vct": DROP}, id="no-vct"),
    pytest.param({"vct": 7}, id="vct-not-a-string"),
    pytest.param({"cnf": "private"}, id="cnf-with-private-key"),
    pytest.param({"cnf": {"jkt": "x"}}, id="cnf-without-jwk"),
    pytest.param({"given_name": SD(SD("Jan"))}, id="sd-of-sd"),
    pytest.param({"score": float("nan")}, id="nan"),
    pytest.param({"score": float("inf")}, id="infinity"),
    pytest.param({"blob": b"bytes"}, id="bytes-value"),
    pytest.param({"name": "\ud800"}, id="lone-surrogate"),
    pytest.param({"nested": {1: "x"}}, id="non-string-name"),
]


@pytest.mark.parametrize("change", ISSUE_MISUSE)
def test_issue_misuse(world: World, change: dict[str, Any]) -> None:
    world.verify(world.present(issue(world.payload(), issuer_key=world.issuer)))  # control
    if change.get("cnf") == "private":
        private = world.holder.export_private_jwk(protection=Unprotected())
        change = {"cnf": {"jwk": json.loads(private)}}
    with pytest.raises(Misuse) as caught:
        issue(world.payload(**change), issuer_key=world.issuer)
    assert caught.value.code is Code.MISUSE


ISSUE_ARGUMENT_MISUSE = [
    pytest.param({"typ": "kb+jwt"}, id="typ-kb+jwt"),
    pytest.param({"typ": ""}, id="typ-empty"),
    pytest.param({"decoys": -1}, id="negative-decoys"),
    pytest.param({"decoys": 1.5}, id="fractional-decoys"),
    pytest.param({"salt": lambda: ""}, id="empty-salt"),
    pytest.param({"salt": lambda: 5}, id="salt-not-a-string"),
]


@pytest.mark.parametrize("change", ISSUE_ARGUMENT_MISUSE)
def test_issue_argument_misuse(world: World, change: dict[str, Any]) -> None:
    with pytest.raises(Misuse):
        issue(world.payload(), issuer_key=world.issuer, **change)


def test_issue_refuses_a_non_mapping() -> None:
    with pytest.raises(Misuse):
        issue([("iss", "x")], issuer_key=SigningKey.generate())  # type: ignore[arg-type]


def test_verify_argument_misuse(world: World) -> None:
    token = world.good()
    for change in (
        {"key_binding": None},
        {"status": None},
        {"now": float(world.now)},
        {"accepted_vcts": "https://credentials.example/vct/person"},
        {"typ": "kb+jwt"},
        {"issuer_keys": 5},
    ):
        with pytest.raises(Misuse):
            world.verify(token, **change)


def test_cnf_for_is_public_members_only(world: World) -> None:
    assert cnf_for(world.holder.public_key) == {"jwk": world.holder.public_key.required_members()}


def test_refusal_is_a_regie_error_with_code(world: World) -> None:
    with pytest.raises(RegieError) as caught:
        world.verify(world.good(), accepted_vcts=set())
    assert caught.value.code is Code.CLAIM_INVALID


# --- small edges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"audience": "", "nonce": "n"},
        {"audience": "a", "nonce": None},
        {"audience": "a", "nonce": "n", "max_age": 0},
        {"audience": "a", "nonce": "n", "max_age": 1.5},
    ],
    ids=["empty-audience", "no-nonce", "zero-max-age", "fractional-max-age"],
)
def test_key_binding_policy_misuse(arguments: dict[str, Any]) -> None:
    with pytest.raises(Misuse):
        sdjwt.KeyBindingRequired(**arguments)


def test_unsafe_skip_status_says_what_it_is() -> None:
    assert repr(sdjwt.UNSAFE_SKIP_STATUS) == "UNSAFE_SKIP_STATUS"


def test_parse_bytes(world: World) -> None:
    token = world.good()
    assert parse(token.encode("ascii")).sd_jwt == parse(token).sd_jwt
    for data in (b"\xff" + token.encode(), b"x" * (1 + 64 * 1024)):
        with pytest.raises(RegieError):
            parse(data)


def test_disclosure_nested_too_deep_is_a_depth_refusal(world: World) -> None:
    deep: Any = "x"
    for _ in range(20):
        deep = [deep]
    token = world.issue(world.payload(deep=SD(deep)))
    with pytest.raises(RegieError) as caught:
        parse(token)
    assert caught.value.code is Code.DEPTH_EXCEEDED


def test_cnf_jwk_with_extra_members_is_read(world: World) -> None:
    """A holder JWK with non-string members (``key_ops``) takes the uncached import path."""
    jwk = {**world.holder.public_key.to_jwk(), "key_ops": ["verify"]}
    token = world.present(world.issue(world.payload(cnf={"jwk": jwk})))
    assert world.verify(token).holder_key == world.holder.public_key


def test_cnf_jwk_not_an_object_is_refused(world: World) -> None:
    jwt, disclosures, _ = split(world.issue())
    with pytest.raises(RegieError) as caught:
        world.verify(
            world.bind(
                world.resign(jwt, lambda p: p.update(cnf={"jwk": "abc"}))
                + "~"
                + "".join(d + "~" for d in disclosures)
            )
        )
    assert caught.value.code is Code.CLAIM_INVALID


def test_present_refuses_unusable_cnf(world: World) -> None:
    jwt, disclosures, _ = split(world.issue())
    bad = world.resign(jwt, lambda p: p.update(cnf={"jwk": {"kty": "RSA"}}))
    with pytest.raises(Misuse, match=r"cnf\.jwk"):
        world.present(bad + "~" + "".join(d + "~" for d in disclosures))
