"""REGISTRY-*: the verifier registry (SECURITY.md T14 over-asking, T15 impersonation).

Refusal tables: every case starts from a good registry the wallet accepts,
applies ONE change (a claim, a header member, the signing key, or what the
caller passes in) and asserts the exact exception class and code. The
over-asking table does the same for :meth:`Registry.check_request`.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie_protocol._encoding import b64url_encode
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyRefused,
    MalformedInput,
    Misuse,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, EncryptionKey, SigningKey, Unprotected
from regie_protocol.registry import (
    MAX_LIFETIME,
    REGISTRY_TYP,
    RegisteredVerifier,
    Registry,
    parse_registry,
    registry_from_json,
    verify_registry,
)
from tests.conftest import NOW
from tests.protocol.jws_forge import forge

DPV = "https://w3id.org/dpv#"
SERVICE = DPV + "ServiceProvision"
FRAUD = DPV + "FraudPreventionAndDetection"
PUBLIC_TASK = "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e"
REGISTRAR = "https://registrar.example"
GEMEENTE = "https://gemeente.example/rp/parkeren"
BANK = "https://bank.example"
VERSION = 7
#: an Ed25519 point of small order (the identity) and the X25519 point u = 0
SMALL_ORDER_ED25519 = b64url_encode(b"\x01" + bytes(31))
LOW_ORDER_X25519 = b64url_encode(bytes(32))


@dataclass(frozen=True)
class World:
    registrar: SigningKey
    other_registrar: SigningKey
    gemeente: SigningKey
    bank: SigningKey
    gemeente_enc: EncryptionKey

    def registry(self) -> Registry:
        gemeente = RegisteredVerifier(
            id=GEMEENTE,
            name="Gemeente Utrecht — parkeren",
            signing_keys=(self.gemeente.public_key,),
            attributes=frozenset({"address", "age_over_18"}),
            purposes=frozenset({SERVICE}),
            encryption_keys=(self.gemeente_enc.public_key,),
            legal_bases=frozenset({PUBLIC_TASK}),
        )
        bank = RegisteredVerifier(
            id=BANK,
            name="Bank",
            signing_keys=(self.bank.public_key,),
            attributes=frozenset({"income.yearly", "given_name"}),
            purposes=frozenset({SERVICE, FRAUD}),
        )
        return Registry(
            registrar=REGISTRAR,
            version=VERSION,
            iat=NOW - 10,
            exp=NOW + 30 * 86400,
            verifiers={GEMEENTE: gemeente, BANK: bank},
        )


@pytest.fixture(scope="module")
def world() -> World:
    return World(
        registrar=SigningKey.generate(Alg.EDDSA),
        other_registrar=SigningKey.generate(Alg.EDDSA),
        gemeente=SigningKey.generate(Alg.ES256),
        bank=SigningKey.generate(Alg.EDDSA),
        gemeente_enc=EncryptionKey.generate(),
    )


# --- round trip, API ---------------------------------------------------------------------


def test_round_trip(signing_key: SigningKey, world: World) -> None:
    registry = world.registry()
    token = registry.sign(signing_key)
    verified = verify_registry(
        token, registrar_keys=signing_key.public_key, now=NOW, min_version=VERSION
    )
    assert verified == registry
    assert verified.verifiers[GEMEENTE].encryption_keys[0].raw == world.gemeente_enc.public_key.raw
    assert list(verified.verifiers) == sorted(verified.verifiers)
    unverified = parse_registry(token)
    assert unverified.unverified_registry == registry
    assert unverified.header["typ"] == REGISTRY_TYP


def test_pyjwt_verifies_the_registry_with_the_registrar_jwk(signing_key: SigningKey) -> None:
    token = Registry.new(REGISTRAR, now=NOW).sign(signing_key)
    jwk = jwt.PyJWK.from_dict(signing_key.public_key.to_jwk())
    claims = jwt.decode(
        token,
        key=jwk.key,
        algorithms=[signing_key.alg.value],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == REGISTRAR and claims["version"] == 1
    assert jwt.get_unverified_header(token)["typ"] == REGISTRY_TYP


def test_with_verifier_raises_the_version_and_replaces_by_id(world: World) -> None:
    registry = world.registry()
    renamed = RegisteredVerifier(
        id=BANK,
        name="Bank N.V.",
        signing_keys=(world.bank.public_key,),
        attributes=frozenset({"given_name"}),
        purposes=frozenset({SERVICE}),
    )
    later = registry.with_verifier(renamed, now=NOW + 5)
    assert later.version == VERSION + 1
    assert later.iat == NOW + 5 and later.exp > later.iat
    assert later.verifiers[BANK].name == "Bank N.V." and len(later.verifiers) == 2
    assert registry.verifiers[BANK].name == "Bank"  # the old value is unchanged
    fewer = later.without_verifier(BANK, now=NOW + 6)
    assert fewer.version == VERSION + 2 and list(fewer.verifiers) == [GEMEENTE]
    with pytest.raises(Misuse):
        fewer.without_verifier(BANK, now=NOW + 7)


def test_with_verifier_refuses_a_key_of_another_verifier(world: World) -> None:
    thief = RegisteredVerifier(
        id="https://thief.example",
        name="Thief",
        signing_keys=(world.bank.public_key,),
        attributes=frozenset({"given_name"}),
        purposes=frozenset({SERVICE}),
    )
    with pytest.raises(ClaimRefused) as caught:
        world.registry().with_verifier(thief, now=NOW)
    assert caught.value.code is Code.CLAIM_INVALID
    assert BANK in caught.value.message


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda r: Registry(r.registrar, r.version, r.iat, r.iat), id="zero-lifetime"),
        pytest.param(
            lambda r: Registry(r.registrar, r.version, r.iat, r.iat + MAX_LIFETIME + 1),
            id="too-long",
        ),
        pytest.param(lambda r: Registry("http://registrar.example", 1, r.iat, r.exp), id="http"),
        pytest.param(lambda r: Registry(r.registrar, 0, r.iat, r.exp), id="version-zero"),
    ],
)
def test_sign_refuses_what_verify_would_refuse(
    world: World, change: Callable[[Registry], Registry]
) -> None:
    world.registry().sign(world.registrar)  # positive control
    with pytest.raises(Misuse):
        change(world.registry()).sign(world.registrar)


def test_registry_maps_ids_to_their_verifiers(world: World) -> None:
    verifier = world.registry().verifiers[BANK]
    with pytest.raises(Misuse):
        Registry(REGISTRAR, 1, NOW, NOW + 1, {GEMEENTE: verifier})


# --- verification refusals ---------------------------------------------------------------

Edit = Callable[[dict[str, Any], World], None]


def _nothing(payload: dict[str, Any], world: World) -> None:
    return None


DROP = object()


def _set(path: str, value: Any) -> Edit:
    """Set (or, with DROP, remove) the member at a dotted path; ``v0`` is verifiers[0]."""

    def edit(payload: dict[str, Any], world: World) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            if part.startswith("v") and part[1:].isdigit():
                node = node["verifiers"][int(part[1:])]
            elif part.isdigit():
                node = node[int(part)]
            else:
                node = node[part]
        key: Any = int(last) if last.isdigit() else last
        if value is DROP:
            del node[key]
        else:
            node[key] = value(world) if callable(value) else value

    return edit


def _duplicate_verifier(payload: dict[str, Any], world: World) -> None:
    payload["verifiers"].append(copy.deepcopy(payload["verifiers"][0]))


def _second_verifier_with_keys_of_first(payload: dict[str, Any], world: World) -> None:
    payload["verifiers"][1]["signing_keys"] = copy.deepcopy(payload["verifiers"][0]["signing_keys"])


def _same_key_twice(payload: dict[str, Any], world: World) -> None:
    keys = payload["verifiers"][0]["signing_keys"]
    keys.append(dict(keys[0]))


@dataclass(frozen=True)
class Case:
    expected: type[RegieError]
    code: Code
    edit: Edit = _nothing
    header: dict[str, Any] = field(default_factory=dict)
    sign_with: str = "registrar"
    now: int = NOW
    min_version: int | None = VERSION
    keys: Callable[[World], Any] = lambda w: w.registrar.public_key
    raw_payload: bytes | None = None


CASES: dict[str, Case] = {
    # --- who signed it (T15: only the registrar the wallet trusts) ---------------------
    "signed-by-another-registrar": Case(
        SignatureRefused, Code.SIGNATURE_INVALID, sign_with="other_registrar"
    ),
    "signed-by-another-registrar-kid-lookup": Case(
        SignatureRefused,
        Code.KEY_UNKNOWN,
        sign_with="other_registrar",
        keys=lambda w: {w.registrar.kid: w.registrar.public_key},
    ),
    "signed-by-a-registered-verifier": Case(
        SignatureRefused, Code.SIGNATURE_INVALID, sign_with="bank"
    ),
    "alg-none": Case(SignatureRefused, Code.ALGORITHM_REFUSED, header={"alg": "none"}),
    "alg-ES256-on-ed25519-key": Case(
        SignatureRefused, Code.ALGORITHM_REFUSED, header={"alg": "ES256"}
    ),
    "header-jku": Case(
        SignatureRefused, Code.HEADER_REFUSED, header={"jku": "https://evil.example/k"}
    ),
    # --- typ: another token type presented as a registry ----------------------------
    "typ-consent": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "regie-consent+jwt"}),
    "typ-JWT": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "JWT"}),
    "typ-missing": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": DROP}),
    # --- time -------------------------------------------------------------------------
    "expired": Case(TimeRefused, Code.EXPIRED, now=NOW + 30 * 86400 + 61),
    "issued-in-future": Case(TimeRefused, Code.ISSUED_IN_FUTURE, now=NOW - 3600),
    "lifetime-too-long": Case(
        TimeRefused, Code.LIFETIME_TOO_LONG, edit=_set("exp", NOW - 10 + MAX_LIFETIME + 1)
    ),
    "exp-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("exp", DROP)),
    "iat-string": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("iat", str(NOW))),
    # --- version and rollback -----------------------------------------------------------
    "rollback": Case(ClaimRefused, Code.VERSION_ROLLBACK, min_version=VERSION + 1),
    "version-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("version", DROP)),
    "version-zero": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("version", 0)),
    "version-true": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("version", True)),
    "version-float": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("version", 7.0)),
    # --- closed objects ---------------------------------------------------------------
    "unknown-top-member": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("wildcard", True)),
    "unknown-verifier-member": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.scopes", ["*"])
    ),
    "duplicate-json-member": Case(
        MalformedInput,
        Code.DUPLICATE_MEMBER,
        raw_payload=b'{"iss":"https://registrar.example","iat":%d,"exp":%d,'
        b'"version":7,"version":8,"verifiers":[]}' % (NOW - 10, NOW + 86400),
    ),
    "verifiers-not-array": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("verifiers", {})),
    # --- verifiers and their keys (T15) ------------------------------------------------
    "duplicate-verifier": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_duplicate_verifier),
    "key-shared-by-two-verifiers": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_second_verifier_with_keys_of_first
    ),
    "same-key-twice": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_same_key_twice),
    "no-signing-keys": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.signing_keys", [])),
    "weak-verifier-key": Case(
        KeyRefused,
        Code.KEY_WEAK,
        edit=_set("v1.signing_keys.0", {"kty": "OKP", "crv": "Ed25519", "x": SMALL_ORDER_ED25519}),
    ),
    "weak-encryption-key": Case(
        KeyRefused,
        Code.KEY_WEAK,
        edit=_set("v1.encryption_keys.0", {"kty": "OKP", "crv": "X25519", "x": LOW_ORDER_X25519}),
    ),
    "private-key-in-registry": Case(
        KeyRefused,
        Code.PRIVATE_KEY_REFUSED,
        edit=_set(
            "v1.signing_keys.0",
            lambda w: json.loads(w.gemeente.export_private_jwk(protection=Unprotected())),
        ),
    ),
    "private-encryption-key": Case(
        KeyRefused,
        Code.PRIVATE_KEY_REFUSED,
        edit=_set(
            "v1.encryption_keys.0",
            lambda w: json.loads(w.gemeente_enc.export_private_jwk(protection=Unprotected())),
        ),
    ),
    "signing-key-as-encryption-key": Case(
        KeyRefused,
        Code.KEY_INVALID,
        edit=_set("v1.encryption_keys", lambda w: [w.bank.public_key.to_jwk()]),
    ),
    # --- identifiers ---------------------------------------------------------------------
    "verifier-id-trailing-slash": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.id", BANK + "/")
    ),
    "verifier-id-http": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.id", "http://bank.example")
    ),
    "verifier-id-query": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.id", BANK + "?rp=1")),
    "verifier-id-upper-case-host": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.id", "https://Bank.example")
    ),
    "verifier-id-percent-encoded": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.id", BANK + "/%72p")
    ),
    "iss-not-https": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("iss", "registrar")),
    "name-empty": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.name", " ")),
    "name-bidi-override": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.name", "Bank\u202eknab")
    ),
    "name-zero-width": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.name", "Ba\u200bnk")),
    "name-nfd": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.name", "Cafe\u0301")),
    # --- purposes (DPV) ----------------------------------------------------------------
    "unknown-purpose": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.purposes", [DPV + "Everything"])
    ),
    "purpose-http-look-alike": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("v0.purposes", ["http://w3id.org/dpv#ServiceProvision"]),
    ),
    "purpose-is-a-legal-basis": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.purposes", [DPV + "Consent"])
    ),
    "purposes-empty": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.purposes", [])),
    "unknown-legal-basis": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v1.legal_bases", [DPV + "Because"])
    ),
    # --- attributes (T14: canonical ids only) -------------------------------------------
    "attribute-upper-case": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", ["Given_name"])
    ),
    "attribute-cyrillic-look-alike": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", ["\u0430ddress"])
    ),
    "attribute-nfd": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", ["strae\u0301t"])
    ),
    "attribute-wildcard": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", ["*"])),
    "attribute-trailing-dot": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", ["address."])
    ),
    "attribute-twice": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", ["given_name", "given_name"])
    ),
    "attributes-empty": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("v0.attributes", [])),
}


def _token(world: World, case: Case, *, good: bool) -> str:
    registry = world.registry()
    key: SigningKey = getattr(world, case.sign_with if not good else "registrar")
    header: dict[str, Any] = {"alg": key.alg.value, "typ": REGISTRY_TYP, "kid": key.kid}
    payload = registry.to_json()
    if good:
        return forge(header, payload, key=key)
    for name, value in case.header.items():
        if value is DROP:
            del header[name]
        else:
            header[name] = value
    case.edit(payload, world)
    return forge(header, case.raw_payload or payload, key=key)


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_refused(world: World, case: Case) -> None:
    good = verify_registry(  # positive control: the good token, the good settings
        _token(world, case, good=True),
        registrar_keys=world.registrar.public_key,
        now=NOW,
        min_version=VERSION,
    )
    assert good == world.registry()
    with pytest.raises(case.expected) as caught:
        verify_registry(
            _token(world, case, good=False),
            registrar_keys=case.keys(world),
            now=case.now,
            min_version=case.min_version,
        )
    assert type(caught.value) is case.expected
    assert caught.value.code is case.code


def test_good_registry_is_accepted_under_every_case_setting(world: World) -> None:
    token = world.registry().sign(world.registrar)
    for min_version in (None, 1, VERSION):
        verify_registry(
            token, registrar_keys=world.registrar.public_key, now=NOW, min_version=min_version
        )


def test_min_version_must_be_sensible(world: World) -> None:
    token = world.registry().sign(world.registrar)
    with pytest.raises(Misuse):
        verify_registry(token, registrar_keys=world.registrar.public_key, now=NOW, min_version=0)


# --- over-asking (T14) -------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    verifier: str = GEMEENTE
    attributes: tuple[str, ...] = ("age_over_18",)
    purpose: str = SERVICE
    legal_basis: str | None = None
    code: Code | None = None
    message: tuple[str, ...] = ()


ASKS: dict[str, Ask] = {
    "registered": Ask(),
    "every-registered-attribute": Ask(attributes=("address", "age_over_18")),
    "part-of-a-registered-attribute": Ask(attributes=("address.locality",)),
    "registered-legal-basis": Ask(legal_basis=PUBLIC_TASK),
    "no-legal-basis-restriction": Ask(
        verifier=BANK, attributes=("given_name",), legal_basis=PUBLIC_TASK
    ),
    "nothing": Ask(attributes=()),
    "unregistered-verifier": Ask(
        verifier="https://evil.example",
        code=Code.VERIFIER_UNREGISTERED,
        message=("'https://evil.example' is not registered",),
    ),
    "verifier-id-with-trailing-slash": Ask(
        verifier=GEMEENTE + "/", code=Code.VERIFIER_UNREGISTERED
    ),
    "another-verifiers-attribute": Ask(
        attributes=("age_over_18", "birthdate"),
        code=Code.BEYOND_REGISTRATION,
        message=(
            f"verifier {GEMEENTE} (Gemeente Utrecht — parkeren) is not registered for "
            "attribute(s) 'birthdate' (registered: address, age_over_18)",
        ),
    ),
    "whole-of-a-registered-part": Ask(
        verifier=BANK, attributes=("income",), code=Code.BEYOND_REGISTRATION
    ),
    "prefix-that-is-not-a-path": Ask(
        attributes=("address_history",), code=Code.BEYOND_REGISTRATION
    ),
    "upper-case-attribute": Ask(attributes=("Age_over_18",), code=Code.BEYOND_REGISTRATION),
    "cyrillic-look-alike": Ask(attributes=("\u0430ddress",), code=Code.BEYOND_REGISTRATION),
    "wildcard": Ask(attributes=("*",), code=Code.BEYOND_REGISTRATION),
    "unregistered-purpose": Ask(
        purpose=DPV + "Marketing",
        code=Code.BEYOND_REGISTRATION,
        message=("not registered for purpose", "Service Provision"),
    ),
    "purpose-of-another-verifier": Ask(purpose=FRAUD, code=Code.BEYOND_REGISTRATION),
    "unregistered-legal-basis": Ask(
        legal_basis=DPV + "Consent", code=Code.BEYOND_REGISTRATION, message=("legal basis",)
    ),
}


@pytest.mark.parametrize("ask", list(ASKS.values()), ids=list(ASKS))
def test_check_request(world: World, ask: Ask) -> None:
    registry = world.registry()
    registry.check_request(GEMEENTE, ["age_over_18"], SERVICE)  # positive control

    def call() -> RegisteredVerifier:
        return registry.check_request(
            ask.verifier, ask.attributes, ask.purpose, legal_basis=ask.legal_basis
        )

    if ask.code is None:
        assert call() is registry.verifiers[ask.verifier]
        return
    with pytest.raises(ClaimRefused) as caught:
        call()
    assert type(caught.value) is ClaimRefused
    assert caught.value.code is ask.code
    for part in ask.message:
        assert part in caught.value.message


def test_check_request_refuses_one_string_as_attributes(world: World) -> None:
    with pytest.raises(Misuse):
        world.registry().check_request(GEMEENTE, "age_over_18", SERVICE)


def test_keys_by_kid_feed_jws_verification(world: World) -> None:
    keys = world.registry().verifiers[GEMEENTE].keys_by_kid
    assert keys == {world.gemeente.kid: world.gemeente.public_key}


# --- properties: only Regie's own errors -----------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_WORLD = World(
    registrar=SigningKey.generate(Alg.EDDSA),
    other_registrar=SigningKey.generate(Alg.EDDSA),
    gemeente=SigningKey.generate(Alg.ES256),
    bank=SigningKey.generate(Alg.EDDSA),
    gemeente_enc=EncryptionKey.generate(),
)
_GOOD = _WORLD.registry().sign(_WORLD.registrar)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_only_regie_errors(data: bytes) -> None:
    with pytest.raises(RegieError):
        verify_registry(data, registrar_keys=_WORLD.registrar.public_key, now=NOW, min_version=None)


@FUZZ
@given(st.integers(0, len(_GOOD) - 1), st.characters(codec="ascii"))
def test_mutated_tokens_give_only_regie_errors(position: int, char: str) -> None:
    mutated = _GOOD[:position] + char + _GOOD[position + 1 :]
    with contextlib.suppress(RegieError):
        verify_registry(
            mutated, registrar_keys=_WORLD.registrar.public_key, now=NOW, min_version=None
        )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.data())
def test_mutated_claims_give_only_regie_errors(data: st.DataObject) -> None:
    payload = _WORLD.registry().to_json()
    verifier = payload["verifiers"][data.draw(st.integers(0, 1))]
    target = data.draw(st.sampled_from([payload, verifier]))
    target[data.draw(st.sampled_from(sorted(target)))] = data.draw(_json)
    with contextlib.suppress(RegieError):
        registry_from_json(payload)
