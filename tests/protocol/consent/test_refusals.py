"""CONSENT-*: consent-token refusals as a table (SECURITY.md T1-T8, T14, T23).

Every case starts from a good consent token that verifier A accepts, applies
ONE change (a claim, a header member, the signing key, or what the verifier
passes in) and asserts the exact exception class and code. The generic JWS
attacks (alg none, crit, jku, duplicate members, base64 spellings ...) are
in tests/protocol/test_jws_refusals.py; here they appear only where the
consent profile must carry them through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from regie_protocol.consent import verify_consent
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg
from tests.conftest import NOW
from tests.protocol.consent.world import (
    VCT_PERSON,
    VERIFIER_A,
    VERIFIER_B,
    World,
    header_for,
    make_world,
    payload_of,
    resign,
)

DAY = 86400
Edit = Callable[[dict[str, Any], World], None]


def _nothing(payload: dict[str, Any], world: World) -> None:
    return None


def _set(path: str, value: Any) -> Edit:
    """Set (or, with ``DROP``, remove) the member at a dotted path; ``ad0`` is the first entry."""

    def edit(payload: dict[str, Any], world: World) -> None:
        *parents, last = path.split(".")
        node: Any = payload
        for part in parents:
            node = (
                node["authorization_details"][int(part[2:])]
                if part.startswith("ad")
                else node[part]
            )
        if value is DROP:
            del node[last]
        else:
            node[last] = value(world) if callable(value) else value

    return edit


DROP = object()


@dataclass(frozen=True)
class Case:
    expected: type[RegieError]
    code: Code
    edit: Edit = _nothing
    header: dict[str, Any] = field(default_factory=dict)
    sign_with: str = "holder_a"
    audience: str = VERIFIER_A
    now: int = NOW
    keys: Callable[[World], Any] = lambda w: w.keys_of_a


def _claims(value: Any) -> Edit:
    return _set("ad0.claims", value)


CASES: dict[str, Case] = {
    # --- T6: another token type presented as a consent ---------------------------------
    "typ-kb+jwt": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "kb+jwt"}),
    "typ-dc+sd-jwt": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "dc+sd-jwt"}),
    "typ-statuslist+jwt": Case(
        SignatureRefused, Code.TYP_MISMATCH, header={"typ": "statuslist+jwt"}
    ),
    "typ-JWT": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": "JWT"}),
    "typ-case-changed": Case(
        SignatureRefused, Code.TYP_MISMATCH, header={"typ": "Regie-Consent+JWT"}
    ),
    "typ-missing": Case(SignatureRefused, Code.TYP_MISMATCH, header={"typ": DROP}),
    # --- T1-T3 through the consent profile ---------------------------------------------
    "alg-none": Case(SignatureRefused, Code.ALGORITHM_REFUSED, header={"alg": "none"}),
    "alg-HS256": Case(SignatureRefused, Code.ALGORITHM_REFUSED, header={"alg": "HS256"}),
    "header-jwk": Case(SignatureRefused, Code.HEADER_REFUSED, header={"jwk": {"kty": "OKP"}}),
    # --- T6/T15: audience ----------------------------------------------------------------
    "aud-of-another-verifier": Case(ClaimRefused, Code.AUDIENCE_MISMATCH, audience=VERIFIER_B),
    "token-for-A-used-by-B": Case(
        SignatureRefused,
        Code.KEY_UNKNOWN,
        audience=VERIFIER_B,
        keys=lambda w: {w.holder_b.public_key.thumbprint_uri(): w.holder_b.public_key},
    ),
    "aud-array": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("aud", [VERIFIER_A])),
    "aud-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("aud", DROP)),
    # --- T23 / iss: the pairwise holder key -------------------------------------------
    "iss-of-other-key-signed-by-a": Case(
        SignatureRefused,
        Code.SIGNATURE_INVALID,
        edit=_set("iss", lambda w: w.holder_b.public_key.thumbprint_uri()),
        keys=lambda w: {
            w.holder_a.public_key.thumbprint_uri(): w.holder_a.public_key,
            w.holder_b.public_key.thumbprint_uri(): w.holder_b.public_key,
        },
    ),
    "iss-registered-under-wrong-key": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        keys=lambda w: {w.holder_a.public_key.thumbprint_uri(): w.holder_b.public_key},
    ),
    "iss-not-a-thumbprint-uri": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("iss", "https://wallet.example/holder/42"),
        keys=lambda w: {"https://wallet.example/holder/42": w.holder_a.public_key},
    ),
    "iss-unregistered": Case(SignatureRefused, Code.KEY_UNKNOWN, keys=lambda w: {}),
    "iss-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("iss", DROP)),
    "pairwise-key-of-B-presented-to-A": Case(
        SignatureRefused,
        Code.KEY_UNKNOWN,
        edit=_set("iss", lambda w: w.holder_b.public_key.thumbprint_uri()),
        sign_with="holder_b",
    ),
    "signed-by-pairwise-key-of-B": Case(
        SignatureRefused, Code.SIGNATURE_INVALID, sign_with="holder_b"
    ),
    # --- T8: time -----------------------------------------------------------------------
    "expired": Case(TimeRefused, Code.EXPIRED, now=NOW + 91 * DAY),
    "nbf-in-future": Case(TimeRefused, Code.NOT_YET_VALID, edit=_set("nbf", NOW + 3600)),
    "lifetime-401-days": Case(
        TimeRefused, Code.LIFETIME_TOO_LONG, edit=_set("exp", NOW - 10 + 401 * DAY)
    ),
    "exp-string": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("exp", str(NOW + DAY))),
    "exp-float": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("exp", NOW + DAY + 0.5)),
    "nbf-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("nbf", DROP)),
    "nbf-before-iat": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("nbf", NOW - 20)),
    # --- required members ---------------------------------------------------------------
    "authorization_details-missing": Case(
        ClaimRefused, Code.CLAIM_MISSING, edit=_set("authorization_details", DROP)
    ),
    "authorization_details-empty": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("authorization_details", [])
    ),
    "authorization_details-object": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("authorization_details", {"type": "regie_attributes"}),
    ),
    "cnf-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("cnf", DROP)),
    "cnf-jkt-not-a-thumbprint": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("cnf.jkt", "abc")),
    "status-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("status", DROP)),
    "status-idx-negative": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("status.status_list.idx", -1)
    ),
    "jti-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("jti", DROP)),
    "jti-with-slash": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("jti", "../consent")),
    "ver-2": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ver", 2)),
    "ver-true": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ver", True)),
    "request-sha256-missing": Case(
        ClaimRefused, Code.CLAIM_MISSING, edit=_set("request.sha256", DROP)
    ),
    "notice-lang-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("notice.lang", DROP)),
    "act-without-mandate": Case(
        ClaimRefused, Code.CLAIM_MISSING, edit=_set("act", {"sub": "rep-1"})
    ),
    # --- unknown members (policy: refused at every level) -------------------------------
    "unknown-top-level-claim": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("scope", "openid")),
    "unknown-member-in-detail": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.locations", ["x"])
    ),
    "unknown-member-in-cnf": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("cnf.kid", "k")),
    "unknown-member-in-status": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("status.idx", 1)),
    "detail-type-other": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.type", "openid_credential")
    ),
    # --- vocabularies -------------------------------------------------------------------
    "purpose-unknown": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.purpose", "https://w3id.org/dpv#Spying")
    ),
    "purpose-http-scheme": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("ad0.purpose", "http://w3id.org/dpv#ServiceProvision"),
    ),
    "purpose-lower-case": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("ad0.purpose", "https://w3id.org/dpv#serviceprovision"),
    ),
    "purpose-prefixed": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.purpose", "dpv:ServiceProvision")
    ),
    "purpose-top-concept": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.purpose", "https://w3id.org/dpv#Purpose")
    ),
    "purpose-a-legal-basis": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.purpose", "https://w3id.org/dpv#Consent")
    ),
    "legal-basis-unknown": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("ad0.legal_basis", "https://w3id.org/dpv/legal/eu/gdpr#A6-1-g"),
    ),
    "legal-basis-a-property": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("ad0.legal_basis", "https://w3id.org/dpv#hasLegalBasis"),
    ),
    "legal-basis-a-purpose": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("ad0.legal_basis", "https://w3id.org/dpv#ServiceProvision"),
    ),
    # --- actions and retention ------------------------------------------------------------
    "store-with-retention-P0D": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.retention", "P0D")
    ),
    "store-with-retention-PT0S": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.retention", "PT0S")
    ),
    "retention-without-store": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad1.retention", "P30D")
    ),
    "retention-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("ad0.retention", DROP)),
    **{
        f"retention-{name}": Case(
            ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.retention", value)
        )
        for name, value in {
            "fraction": "P1.5D",
            "no-P": "1Y",
            "bare-P": "P",
            "bare-PT": "PT",
            "dangling-T": "P1DT",
            "negative": "-P1D",
            "trailing-digits": "P1Y2",
            "lower-case": "p1y",
            "arabic-indic-digit": "P\u0661D",
            "six-digits": "P123456D",
            "order-DY": "P1D1Y",
            "alternative-format": "P0001-00-00",
            "integer": 30,
            "with-space": "P1Y ",
        }.items()
    },
    "actions-unknown": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.actions", ["present", "delete"])
    ),
    "actions-empty": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.actions", [])),
    "actions-twice": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.actions", ["present", "present"])
    ),
    # --- T14: attribute ids -------------------------------------------------------------
    **{
        f"claims-{name}": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_claims(value))
        for name, value in {
            "wildcard": ["*"],
            "dotted-wildcard": ["address.*"],
            "upper-case": ["Address"],
            "nfd-accent": ["adre\u0301s"],
            "nfc-accent": ["adr\u00e9s"],
            "cyrillic-a": ["\u0430ddress"],
            "fullwidth": ["\uff41ddress"],
            "jsonpath": ["$.address"],
            "empty-segment": ["address..locality"],
            "leading-space": [" address"],
            "empty-string": [""],
            "duplicate": ["income", "income"],
            "empty-list": [],
            "not-a-list": "address",
            "digit-first": ["1address"],
        }.items()
    },
    "credential-types-same-vct-in-two-entries": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad1.credential_types", [VCT_PERSON])
    ),
    # --- uses, frequency, ranges, recipients ------------------------------------------------
    "max_uses-0": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.max_uses", 0)),
    "max_uses-negative": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.max_uses", -1)),
    "max_uses-true": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.max_uses", True)),
    "max_uses-float": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.max_uses", 3.0)),
    "max_uses-string": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.max_uses", "3")),
    "frequency-zero": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.frequency", "P0D")),
    "frequency-word": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.frequency", "daily")),
    "data_range-reversed": Case(
        ClaimRefused,
        Code.CLAIM_INVALID,
        edit=_set("ad0.data_range", {"from": "2024-12-31", "to": "2024-01-01"}),
    ),
    "data_range-empty": Case(ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.data_range", {})),
    "data_range-bad-date": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.data_range", {"from": "2024-02-30"})
    ),
    "recipients-missing": Case(ClaimRefused, Code.CLAIM_MISSING, edit=_set("ad0.recipients", DROP)),
    "recipients-not-uri": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.recipients", ["the bank"])
    ),
    "purpose_text-en-missing": Case(
        ClaimRefused, Code.CLAIM_MISSING, edit=_set("ad0.purpose_text", {"nl": "Parkeervergunning"})
    ),
    "purpose_text-control-char": Case(
        ClaimRefused, Code.CLAIM_INVALID, edit=_set("ad0.purpose_text.en", "Parking\x1b[31m permit")
    ),
}

ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]
_WORLDS: dict[Alg, World] = {}


def _world(alg: Alg) -> World:
    if alg not in _WORLDS:
        _WORLDS[alg] = make_world(alg)
    return _WORLDS[alg]


def _token(world: World, case: Case) -> str:
    payload = payload_of(world)
    case.edit(payload, world)
    key = getattr(world, case.sign_with)
    header = header_for(key)
    for name, value in case.header.items():
        if value is DROP:
            del header[name]
        else:
            header[name] = value
    return resign(payload, key, header)


@pytest.mark.parametrize("alg", ALGS)
def test_good_consent_is_accepted(alg: Alg) -> None:
    world = _world(alg)
    verified = verify_consent(
        _token(world, Case(RegieError, Code.MISUSE)),
        holder_keys=world.keys_of_a,
        audience=VERIFIER_A,
        now=NOW,
    )
    assert verified.claims.aud == VERIFIER_A
    assert verified.key == world.holder_a.public_key


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(CASES))
def test_consent_refusal(alg: Alg, name: str) -> None:
    world, case = _world(alg), CASES[name]
    good = Case(RegieError, Code.MISUSE)
    verify_consent(_token(world, good), holder_keys=world.keys_of_a, audience=VERIFIER_A, now=NOW)
    with pytest.raises(RegieError) as caught:
        verify_consent(
            _token(world, case), holder_keys=case.keys(world), audience=case.audience, now=case.now
        )
    assert type(caught.value) is case.expected, caught.value
    assert caught.value.code is case.code, caught.value
