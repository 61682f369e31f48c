"""REQUEST-*: a verifier's signed consent request, as the wallet host checks it (T14, T15).

The refusal table starts from a good request by the registered verifier
"gemeente" to the wallet host, applies ONE change (a claim, a header member,
the signing key, the registry or the host URL) and asserts the exact
exception class and code.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie_protocol.consent import MAX_LIFETIME, Duration, LocalizedText
from regie_protocol.consent_request import (
    REQUEST_MAX_LIFETIME,
    REQUEST_TYP,
    ConsentRequestClaims,
    parse_request,
    sign_request,
    verify_request,
)
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    Misuse,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, EncryptionKey, SigningKey
from regie_protocol.registry import RegisteredVerifier, Registry
from regie_protocol.vocab import legal_bases, purposes
from tests.conftest import NOW
from tests.protocol.jws_forge import forge
from tests.protocol.mutations import DROP, JSON_VALUES, apply_changes, mutated

DPV = "https://w3id.org/dpv#"
SERVICE = DPV + "ServiceProvision"
FRAUD = DPV + "FraudPreventionAndDetection"
PUBLIC_TASK = "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e"
CONSENT = DPV + "Consent"
REGISTRAR = "https://registrar.example"
GEMEENTE = "https://gemeente.example/rp/parkeren"
BANK = "https://bank.example"
HOST = "https://wallet.example"
DAY = 86400


@dataclass(frozen=True)
class World:
    gemeente: SigningKey
    gemeente_second: SigningKey
    bank: SigningKey
    gemeente_enc: EncryptionKey

    def registry(self, *, encryption: bool = True) -> Registry:
        gemeente = RegisteredVerifier(
            id=GEMEENTE,
            name="Gemeente Utrecht — parkeren",
            signing_keys=(self.gemeente.public_key, self.gemeente_second.public_key),
            attributes=frozenset({"address", "age_over_18", "given_name"}),
            purposes=frozenset({SERVICE}),
            encryption_keys=(self.gemeente_enc.public_key,) if encryption else (),
            legal_bases=frozenset({PUBLIC_TASK}),
        )
        bank = RegisteredVerifier(
            id=BANK,
            name="Bank",
            signing_keys=(self.bank.public_key,),
            attributes=frozenset({"income"}),
            purposes=frozenset({SERVICE, FRAUD}),
        )
        return Registry(REGISTRAR, 3, NOW - 10, NOW + 30 * DAY, {GEMEENTE: gemeente, BANK: bank})


_WORLDS: dict[Alg, World] = {}


def world_for(alg: Alg) -> World:
    if alg not in _WORLDS:
        _WORLDS[alg] = World(
            gemeente=SigningKey.generate(alg),
            gemeente_second=SigningKey.generate(alg),
            bank=SigningKey.generate(alg),
            gemeente_enc=EncryptionKey.generate(),
        )
    return _WORLDS[alg]


def good_claims() -> ConsentRequestClaims:
    return ConsentRequestClaims(
        iss=GEMEENTE,
        aud=HOST,
        jti="req-2025-0001",
        iat=NOW - 10,
        exp=NOW + 2 * DAY,
        inbox="w_Kq3-9aZ",
        attributes=("address.locality", "age_over_18"),
        purpose=SERVICE,
        legal_basis=PUBLIC_TASK,
        valid_for=90 * DAY,
        optional_attributes=("given_name",),
        retention="P1Y",
        max_uses=12,
        frequency="P1M",
        purpose_text=LocalizedText(nl="Parkeervergunning", en="Parking permit"),
    )


def header_for(key: SigningKey) -> dict[str, Any]:
    return {"alg": key.alg.value, "typ": REQUEST_TYP, "kid": key.kid}


@dataclass(frozen=True)
class Case:
    expected: type[RegieError]
    code: Code
    claims: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    sign_with: str = "gemeente"
    registry: Callable[[World], Registry] = lambda w: w.registry()
    host_url: str = HOST
    now: int = NOW


def token_for(world: World, case: Case) -> str:
    key = getattr(world, case.sign_with)
    payload = copy.deepcopy(good_claims().to_json())
    header = header_for(key)
    apply_changes(payload, case.claims, world)
    apply_changes(header, case.header, world)
    return forge(header, payload, key=key)


def _invalid(**claims: Any) -> Case:
    return Case(ClaimRefused, Code.CLAIM_INVALID, claims=claims)


CASES: dict[str, Case] = {
    # --- T6: another token type presented as a request ---------------------------------
    "typ-missing": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": DROP}),
    "typ-consent": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "regie-consent+jwt"}),
    "typ-dpop": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "dpop+jwt"}),
    "typ-JWT": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "JWT"}),
    # --- T1-T3 ----------------------------------------------------------------------------
    "alg-none": Case(SignatureRefused, Code.ALGORITHM_REFUSED, header={"alg": "none"}),
    "alg-HS256": Case(SignatureRefused, Code.ALGORITHM_REFUSED, header={"alg": "HS256"}),
    "header-jwk": Case(
        SignatureRefused,
        Code.HEADER_REFUSED,
        header={"jwk": lambda w: w.bank.public_key.required_members()},
    ),
    "header-jku": Case(
        SignatureRefused, Code.HEADER_REFUSED, header={"jku": "https://attacker.example/k"}
    ),
    # --- T15: who signed -------------------------------------------------------------------
    "iss-unregistered": Case(
        ClaimRefused, Code.VERIFIER_UNREGISTERED, claims={"iss": "https://nobody.example"}
    ),
    "iss-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"iss": DROP}),
    "iss-not-a-uri": Case(ClaimRefused, Code.CLAIM_INVALID, claims={"iss": "gemeente"}),
    "kid-missing": Case(SignatureRefused, Code.KEY_UNKNOWN, header={"kid": DROP}),
    "kid-unknown": Case(SignatureRefused, Code.KEY_UNKNOWN, header={"kid": "not-a-key"}),
    "signed-by-bank-as-gemeente": Case(SignatureRefused, Code.KEY_UNKNOWN, sign_with="bank"),
    "signed-by-bank-with-gemeente-kid": Case(
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        sign_with="bank",
        header={"kid": lambda w: w.gemeente.kid, "alg": lambda w: w.gemeente.alg.value},
    ),
    "verifier-withdrawn-from-registry": Case(
        ClaimRefused,
        Code.VERIFIER_UNREGISTERED,
        registry=lambda w: w.registry().without_verifier(GEMEENTE, now=NOW),
    ),
    # --- audience: a request for another wallet host ------------------------------------
    "aud-other-host": Case(
        ClaimRefused, Code.AUDIENCE_MISMATCH, claims={"aud": "https://other-wallet.example"}
    ),
    "aud-with-trailing-slash": Case(
        ClaimRefused, Code.AUDIENCE_MISMATCH, claims={"aud": HOST + "/"}
    ),
    "host-url-of-other-host": Case(
        ClaimRefused, Code.AUDIENCE_MISMATCH, host_url="https://other-wallet.example"
    ),
    "aud-array": Case(ClaimRefused, Code.CLAIM_INVALID, claims={"aud": [HOST]}),
    "aud-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"aud": DROP}),
    # --- time ---------------------------------------------------------------------------
    "expired": Case(TimeRefused, Code.EXPIRED, now=NOW + 3 * DAY),
    "issued-in-future": Case(TimeRefused, Code.ISSUED_IN_FUTURE, claims={"iat": NOW + 3600}),
    "lifetime-8-days": Case(
        TimeRefused, Code.LIFETIME_TOO_LONG, claims={"exp": NOW - 10 + 8 * DAY}
    ),
    "exp-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"exp": DROP}),
    "exp-string": Case(ClaimRefused, Code.CLAIM_INVALID, claims={"exp": str(NOW + DAY)}),
    # --- ids ------------------------------------------------------------------------------
    "jti-with-slash": _invalid(jti="../req"),
    "jti-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"jti": DROP}),
    "inbox-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"inbox": DROP}),
    "inbox-path": _invalid(inbox="../admin"),
    "inbox-65-chars": _invalid(inbox="a" * 65),
    "inbox-empty": _invalid(inbox=""),
    "inbox-dot": _invalid(inbox="w.1"),
    "inbox-integer": _invalid(inbox=7),
    # --- T14: attributes ------------------------------------------------------------------
    "attributes-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"attributes": DROP}),
    "attributes-empty": _invalid(attributes=[]),
    "attributes-twice": _invalid(attributes=["age_over_18", "age_over_18"]),
    "attributes-wildcard": _invalid(attributes=["*"]),
    "attributes-upper-case": _invalid(attributes=["Address"]),
    "attributes-cyrillic": _invalid(attributes=["\u0430ddress"]),
    "attributes-a-string": _invalid(attributes="address"),
    "optional-repeats-required": _invalid(optional_attributes=["age_over_18"]),
    "optional-twice": _invalid(optional_attributes=["given_name", "given_name"]),
    "optional-wildcard": _invalid(optional_attributes=["address.*"]),
    # --- T14: over-asking against the registration -----------------------------------------
    "attribute-not-registered": Case(
        ClaimRefused, Code.BEYOND_REGISTRATION, claims={"attributes": ["income"]}
    ),
    "optional-attribute-not-registered": Case(
        ClaimRefused, Code.BEYOND_REGISTRATION, claims={"optional_attributes": ["bsn"]}
    ),
    "parent-of-registered-attribute": Case(
        ClaimRefused,
        Code.BEYOND_REGISTRATION,
        registry=lambda w: _narrowed(w, attributes=frozenset({"address.locality"})),
        claims={"attributes": ["address"], "optional_attributes": []},
    ),
    "purpose-not-registered": Case(
        ClaimRefused, Code.BEYOND_REGISTRATION, claims={"purpose": FRAUD}
    ),
    "legal-basis-not-registered": Case(
        ClaimRefused, Code.BEYOND_REGISTRATION, claims={"legal_basis": CONSENT}
    ),
    "no-encryption-key-registered": Case(
        ClaimRefused, Code.CLAIM_INVALID, registry=lambda w: w.registry(encryption=False)
    ),
    # --- vocabularies -----------------------------------------------------------------------
    "purpose-unknown": _invalid(purpose=DPV + "Spying"),
    "purpose-lower-case": _invalid(purpose=DPV + "serviceprovision"),
    "purpose-a-legal-basis": _invalid(purpose=CONSENT),
    "legal-basis-unknown": _invalid(legal_basis="https://w3id.org/dpv/legal/eu/gdpr#A6-1-g"),
    "legal-basis-a-purpose": _invalid(legal_basis=SERVICE),
    # --- what the consent is to be ----------------------------------------------------------
    "valid_for-missing": Case(ClaimRefused, Code.CLAIM_MISSING, claims={"valid_for": DROP}),
    "valid_for-0": _invalid(valid_for=0),
    "valid_for-beyond-consent-max": _invalid(valid_for=MAX_LIFETIME + 1),
    "valid_for-true": _invalid(valid_for=True),
    "valid_for-float": _invalid(valid_for=86400.0),
    "max_uses-0": _invalid(max_uses=0),
    "max_uses-null": _invalid(max_uses=None),
    "max_uses-string": _invalid(max_uses="3"),
    "frequency-zero": _invalid(frequency="PT0S"),
    "frequency-word": _invalid(frequency="monthly"),
    "frequency-null": _invalid(frequency=None),
    "retention-fraction": _invalid(retention="P1.5Y"),
    "retention-negative": _invalid(retention="-P1D"),
    "purpose_text-en-missing": Case(
        ClaimRefused, Code.CLAIM_MISSING, claims={"purpose_text": {"nl": "Parkeren"}}
    ),
    "purpose_text-extra-language": _invalid(
        purpose_text={"nl": "Parkeren", "en": "Parking", "de": "Parken"}
    ),
    "purpose_text-control-chars": _invalid(purpose_text={"nl": "Parkeren", "en": "P\x1b[31m"}),
    # --- closed object ----------------------------------------------------------------------
    "unknown-claim-scope": _invalid(scope="openid"),
    "unknown-claim-claims": _invalid(claims={"userinfo": {"bsn": None}}),
}


def _narrowed(world: World, **changes: Any) -> Registry:
    registry = world.registry()
    return registry.with_verifier(replace(registry.verifiers[GEMEENTE], **changes), now=NOW)


ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]


def _verify(world: World, case: Case) -> Any:
    return verify_request(
        token_for(world, case), registry=case.registry(world), host_url=case.host_url, now=case.now
    )


GOOD = Case(RegieError, Code.MISUSE)


@pytest.mark.parametrize("alg", ALGS)
def test_good_request_is_accepted(alg: Alg) -> None:
    world = world_for(alg)
    token = sign_request(good_claims(), key=world.gemeente)
    verified = verify_request(token, registry=world.registry(), host_url=HOST, now=NOW)
    assert verified.claims == good_claims()
    assert verified.verifier == world.registry().verifiers[GEMEENTE]
    assert verified.key == world.gemeente.public_key
    assert verified.jkt == world.gemeente.public_key.thumbprint()
    assert verified.token == token
    assert verify_request(token.encode(), registry=world.registry(), host_url=HOST, now=NOW)


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(CASES))
def test_request_refusal(alg: Alg, name: str) -> None:
    world, case = world_for(alg), CASES[name]
    _verify(world, GOOD)
    with pytest.raises(RegieError) as caught:
        _verify(world, case)
    assert type(caught.value) is case.expected, caught.value
    assert caught.value.code is case.code, caught.value


ACCEPTED: dict[str, Case] = {
    "second-registered-key": Case(RegieError, Code.MISUSE, sign_with="gemeente_second"),
    "minimal-claims": Case(
        RegieError,
        Code.MISUSE,
        claims={
            "optional_attributes": DROP,
            "retention": DROP,
            "max_uses": DROP,
            "frequency": DROP,
            "purpose_text": DROP,
        },
    ),
    "valid_for-consent-max": Case(RegieError, Code.MISUSE, claims={"valid_for": MAX_LIFETIME}),
    "lifetime-exactly-7-days": Case(
        RegieError, Code.MISUSE, claims={"exp": NOW - 10 + REQUEST_MAX_LIFETIME}
    ),
    "registration-without-legal-bases": Case(
        RegieError,
        Code.MISUSE,
        registry=lambda w: _narrowed(w, legal_bases=frozenset()),
        claims={"legal_basis": CONSENT},
    ),
}


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(ACCEPTED))
def test_request_accepted_variant(alg: Alg, name: str) -> None:
    verified = _verify(world_for(alg), ACCEPTED[name])
    assert verified.claims.iss == GEMEENTE


def test_minimal_claims_read_with_defaults() -> None:
    payload = good_claims().to_json()
    for name in ("optional_attributes", "retention", "max_uses", "frequency", "purpose_text"):
        del payload[name]
    claims = ConsentRequestClaims.from_json(payload)
    assert claims.optional_attributes == ()
    assert claims.retention == "P0D"
    assert (claims.max_uses, claims.frequency, claims.purpose_text) == (None, None, None)


def test_claim_refusals_name_the_request_field() -> None:
    payload = good_claims().to_json()
    payload["inbox"] = "../x"
    with pytest.raises(ClaimRefused, match="consent request field 'inbox'"):
        ConsentRequestClaims.from_json(payload)


def test_claims_helpers() -> None:
    claims = good_claims()
    assert claims.all_attributes == ("address.locality", "age_over_18", "given_name")
    assert claims.retention_duration.years == 1
    frequency = claims.frequency_duration
    assert frequency is not None and frequency.approx_seconds == 30 * DAY


# --- parse_request: what the host reads before it knows whose key to use ---------------------


def test_parse_request_reads_iss_jti_inbox_without_verifying() -> None:
    world = world_for(Alg.EDDSA)
    token = token_for(world, Case(RegieError, Code.MISUSE, sign_with="bank"))
    unverified = parse_request(token)
    assert (unverified.iss, unverified.jti, unverified.inbox) == (
        GEMEENTE,
        "req-2025-0001",
        "w_Kq3-9aZ",
    )
    assert unverified.header["typ"] == REQUEST_TYP


@pytest.mark.parametrize(
    ("case", "expected", "code"),
    [
        (Case(RegieError, Code.MISUSE, header={"typ": "JWT"}), SignatureRefused, Code.TYP_MISMATCH),
        (Case(RegieError, Code.MISUSE, claims={"inbox": DROP}), ClaimRefused, Code.CLAIM_MISSING),
        (Case(RegieError, Code.MISUSE, claims={"inbox": "a/b"}), ClaimRefused, Code.CLAIM_INVALID),
        (Case(RegieError, Code.MISUSE, claims={"jti": ""}), ClaimRefused, Code.CLAIM_INVALID),
        (Case(RegieError, Code.MISUSE, claims={"iss": 7}), ClaimRefused, Code.CLAIM_INVALID),
    ],
    ids=["typ-JWT", "inbox-missing", "inbox-path", "jti-empty", "iss-integer"],
)
def test_parse_request_refusal(case: Case, expected: type[RegieError], code: Code) -> None:
    with pytest.raises(RegieError) as caught:
        parse_request(token_for(world_for(Alg.EDDSA), case))
    assert type(caught.value) is expected and caught.value.code is code


def test_parse_request_refuses_oversized_tokens() -> None:
    with pytest.raises(MalformedInput) as caught:
        parse_request("a" * (17 * 1024))
    assert caught.value.code is Code.SIZE_EXCEEDED


# --- sign_request refuses what verify would refuse ----------------------------------------

SIGN_MISUSE: dict[str, dict[str, Any]] = {
    "attributes-list": {"attributes": ["age_over_18"]},
    "attributes-empty": {"attributes": ()},
    "overlap": {"optional_attributes": ("age_over_18",)},
    "lifetime-8-days": {"exp": NOW - 10 + 8 * DAY},
    "exp-before-iat": {"exp": NOW - 20},
    "valid_for-0": {"valid_for": 0},
    "inbox-path": {"inbox": "../x"},
    "purpose-unknown": {"purpose": DPV + "Spying"},
    "retention-spelled-twice": {"retention": "P1Y1Y"},
}


@pytest.mark.parametrize("name", list(SIGN_MISUSE))
def test_sign_request_misuse(name: str) -> None:
    key = world_for(Alg.EDDSA).gemeente
    sign_request(good_claims(), key=key)
    with pytest.raises(Misuse):
        sign_request(replace(good_claims(), **SIGN_MISUSE[name]), key=key)


# --- Duration.approx_seconds (the frequency's length) -------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("P1D", DAY),
        ("PT1H", 3600),
        ("PT90M", 5400),
        ("PT1S", 1),
        ("P1W", 7 * DAY),
        ("P1M", 30 * DAY),
        ("P1Y", 365 * DAY),
        ("P1Y2M3W4DT5H6M7S", (365 + 60 + 21 + 4) * DAY + 5 * 3600 + 6 * 60 + 7),
        ("P0D", 0),
    ],
)
def test_duration_approx_seconds(text: str, seconds: int) -> None:
    assert Duration.parse(text).approx_seconds == seconds


# --- properties ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORLD = world_for(Alg.EDDSA)
_segment = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
_claim_names = st.lists(_segment, min_size=1, max_size=3).map(".".join)
_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)
_durations = st.builds(
    lambda y, d, h: "P" + (f"{y}Y" if y else "") + f"{d}D" + (f"T{h}H" if h else ""),
    st.integers(0, 99),
    st.integers(0, 400),
    st.integers(0, 23),
)


@st.composite
def request_claims(draw: st.DrawFn) -> ConsentRequestClaims:
    names = draw(st.lists(_claim_names, min_size=1, max_size=8, unique=True))
    split = draw(st.integers(1, len(names)))
    iat = draw(st.integers(0, 2**40))
    return ConsentRequestClaims(
        iss=draw(
            st.from_regex(r"https://[a-z]{1,10}\.example(/[a-z0-9_-]{1,10})?", fullmatch=True)
        ),
        aud=HOST,
        jti=draw(st.from_regex(r"[A-Za-z0-9._~-]{1,128}", fullmatch=True)),
        iat=iat,
        exp=iat + draw(st.integers(1, REQUEST_MAX_LIFETIME)),
        inbox=draw(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)),
        attributes=tuple(names[:split]),
        optional_attributes=tuple(names[split:]),
        purpose=draw(st.sampled_from(sorted(purposes()))),
        legal_basis=draw(st.sampled_from(sorted(legal_bases()))),
        valid_for=draw(st.integers(1, MAX_LIFETIME)),
        retention=draw(_durations),
        max_uses=draw(st.none() | st.integers(1, 2**31 - 1)),
        frequency=draw(st.none() | st.sampled_from(["P1D", "PT1H", "P1W", "P1M"])),
        purpose_text=draw(st.none() | st.builds(LocalizedText, nl=_text, en=_text)),
    )


@SETTINGS
@given(claims=request_claims())
def test_valid_requests_round_trip(claims: ConsentRequestClaims) -> None:
    token = sign_request(claims, key=WORLD.gemeente)
    assert ConsentRequestClaims.from_json(parse_request(token).unverified_claims) == claims
    assert ConsentRequestClaims.from_json(claims.to_json()) == claims


GOOD_TOKEN = sign_request(good_claims(), key=WORLD.gemeente)


@SETTINGS
@given(data=st.data())
def test_mutated_requests_give_only_regie_errors(data: st.DataObject) -> None:
    raw = mutated(data, GOOD_TOKEN)
    with contextlib.suppress(RegieError):
        verify_request(raw, registry=WORLD.registry(), host_url=HOST, now=NOW)
    with contextlib.suppress(RegieError):
        parse_request(raw)


@SETTINGS
@given(data=st.data())
def test_signed_requests_with_one_value_replaced_give_only_regie_errors(
    data: st.DataObject,
) -> None:
    payload = good_claims().to_json()
    name = data.draw(st.sampled_from(sorted(payload)))
    payload[name] = data.draw(JSON_VALUES)
    with contextlib.suppress(RegieError):
        verify_request(
            forge(header_for(WORLD.gemeente), payload, key=WORLD.gemeente),
            registry=WORLD.registry(),
            host_url=HOST,
            now=NOW,
        )
