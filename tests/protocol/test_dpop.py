"""DPOP-*: DPoP proofs (RFC 9449) for reads at the wallet host (SECURITY.md T7, T16).

The refusal table starts from a good proof for ``POST /v1/data`` bound to a
consent token, applies ONE change (a header member, a claim, the signing key,
the bytes, or what the host passes in) and asserts the exact exception class
and code. Replay (a ``jti`` seen before) is the host's check; see tests/wallet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie_protocol._encoding import b64url_encode
from regie_protocol.dpop import (
    DPOP_TYP,
    MAX_PROOF_AGE,
    MAX_PROOF_BYTES,
    access_token_hash,
    create_proof,
    normalize_htu,
    verify_proof,
)
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    MalformedInput,
    Misuse,
    RegieError,
    SignatureRefused,
)
from regie_protocol.keys import Alg, SigningKey
from tests.conftest import NOW
from tests.protocol.jws_forge import forge, split
from tests.protocol.mutations import DROP, JSON_VALUES, apply_changes, mutated

HTU = "https://wallet.example/v1/data"
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJjb25zZW50LTEifQ.c2lnbmF0dXJl"
OTHER_TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJjb25zZW50LTIifQ.c2lnbmF0dXJl"
SMALL_ORDER_ED25519 = b64url_encode(b"\x01" + bytes(31))


@dataclass(frozen=True)
class Keys:
    a: SigningKey
    b: SigningKey


_KEYS: dict[Alg, Keys] = {}


def keys_for(alg: Alg) -> Keys:
    if alg not in _KEYS:
        _KEYS[alg] = Keys(SigningKey.generate(alg), SigningKey.generate(alg))
    return _KEYS[alg]


def good_header(key: SigningKey) -> dict[str, Any]:
    return {"typ": DPOP_TYP, "alg": key.alg.value, "jwk": key.public_key.required_members()}


def good_claims() -> dict[str, Any]:
    return {
        "jti": "proof-0001",
        "htm": "POST",
        "htu": HTU,
        "iat": NOW,
        "ath": access_token_hash(TOKEN),
    }


@dataclass(frozen=True)
class Case:
    expected: type[RegieError]
    code: Code
    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    sign_with: str = "a"
    #: changes to what the host passes to verify_proof
    verify: dict[str, Any] = field(default_factory=dict)
    #: a change to the compact proof's text after signing
    mangle: Callable[[str], str] | None = None


def proof_for(keys: Keys, case: Case) -> str:
    header, claims = good_header(keys.a), good_claims()
    apply_changes(header, case.header, keys)
    apply_changes(claims, case.claims, keys)
    token = forge(header, claims, key=getattr(keys, case.sign_with))
    return case.mangle(token) if case.mangle else token


def verify_args(keys: Keys, case: Case) -> dict[str, Any]:
    args: dict[str, Any] = {
        "htm": "POST",
        "htu": HTU,
        "now": NOW,
        "access_token": TOKEN,
        "expected_jkt": keys.a.public_key.thumbprint(),
    }
    apply_changes(args, case.verify, keys)
    return args


def _flip_signature(token: str) -> str:
    header, payload, signature = split(token)
    last = "A" if signature[0] != "A" else "B"
    return f"{header}.{payload}.{last}{signature[1:]}"


def _duplicate_htm(token: str) -> str:
    header, _, signature = split(token)
    body = '{"jti":"p","htm":"GET","htm":"POST","htu":"' + HTU + '","iat":' + str(NOW) + "}"
    return f"{header}.{b64url_encode(body.encode())}.{signature}"


INVALID_SIG = (SignatureRefused, Code.DPOP_INVALID)
INVALID_CLAIM = (ClaimRefused, Code.DPOP_INVALID)

CASES: dict[str, Case] = {
    # --- typ: another token type presented as a proof (T6) -----------------------------
    "typ-missing": Case(*INVALID_SIG, header={"typ": DROP}),
    "typ-JWT": Case(*INVALID_SIG, header={"typ": "JWT"}),
    "typ-at+jwt": Case(*INVALID_SIG, header={"typ": "at+jwt"}),
    "typ-consent": Case(*INVALID_SIG, header={"typ": "regie-consent+jwt"}),
    "typ-upper-case": Case(*INVALID_SIG, header={"typ": "DPOP+JWT"}),
    # --- alg (T1-T3) --------------------------------------------------------------------
    "alg-none": Case(*INVALID_SIG, header={"alg": "none"}),
    "alg-HS256": Case(*INVALID_SIG, header={"alg": "HS256"}),
    "alg-RS256": Case(*INVALID_SIG, header={"alg": "RS256"}),
    "alg-Ed25519-not-in-allow-list": Case(*INVALID_SIG, header={"alg": "Ed25519"}),
    "alg-of-other-key-type": Case(
        *INVALID_SIG, header={"alg": lambda k: "ES256" if k.a.alg is Alg.EDDSA else "EdDSA"}
    ),
    "alg-missing": Case(*INVALID_SIG, header={"alg": DROP}),
    # --- header members: the key comes only from jwk ------------------------------------
    "header-kid": Case(*INVALID_SIG, header={"kid": "k1"}),
    "header-jku": Case(*INVALID_SIG, header={"jku": "https://attacker.example/jwks"}),
    "header-x5c": Case(*INVALID_SIG, header={"x5c": ["MIIB"]}),
    "header-crit": Case(*INVALID_SIG, header={"crit": ["b64"], "b64": False}),
    "jwk-missing": Case(*INVALID_SIG, header={"jwk": DROP}),
    "jwk-not-an-object": Case(*INVALID_SIG, header={"jwk": "eyJrdHkiOiJPS1AifQ"}),
    "jwk-private-key": Case(
        *INVALID_SIG,
        header={"jwk": lambda k: {**k.a.public_key.required_members(), "d": "AAAA"}},
    ),
    "jwk-symmetric": Case(*INVALID_SIG, header={"jwk": {"kty": "oct", "k": "c2VjcmV0"}}),
    "jwk-small-order-ed25519": Case(
        *INVALID_SIG,
        header={"jwk": {"kty": "OKP", "crv": "Ed25519", "x": SMALL_ORDER_ED25519}},
    ),
    "jwk-of-another-key-than-signed": Case(
        *INVALID_SIG, header={"jwk": lambda k: k.b.public_key.required_members()}
    ),
    # --- the key bound to the consent ---------------------------------------------------
    "signed-by-another-key": Case(
        SignatureRefused,
        Code.DPOP_KEY_MISMATCH,
        header={"jwk": lambda k: k.b.public_key.required_members()},
        sign_with="b",
    ),
    "expected-jkt-of-another-key": Case(
        SignatureRefused,
        Code.DPOP_KEY_MISMATCH,
        verify={"expected_jkt": lambda k: k.b.public_key.thumbprint()},
    ),
    "signature-altered": Case(*INVALID_SIG, mangle=_flip_signature),
    "signature-empty": Case(*INVALID_SIG, mangle=lambda t: t[: t.rindex(".") + 1]),
    # --- bytes --------------------------------------------------------------------------
    "not-a-jws": Case(*INVALID_SIG, mangle=lambda t: "not-a-proof"),
    "too-large": Case(*INVALID_SIG, claims={"pad": "x" * MAX_PROOF_BYTES}),
    "duplicate-member": Case(*INVALID_SIG, mangle=_duplicate_htm),
    # --- iat (T8) -----------------------------------------------------------------------
    "iat-too-old": Case(*INVALID_CLAIM, claims={"iat": NOW - MAX_PROOF_AGE - 1}),
    "iat-in-the-future": Case(*INVALID_CLAIM, claims={"iat": NOW + 6}),
    "iat-missing": Case(*INVALID_CLAIM, claims={"iat": DROP}),
    "iat-string": Case(*INVALID_CLAIM, claims={"iat": str(NOW)}),
    "iat-float": Case(*INVALID_CLAIM, claims={"iat": NOW + 0.5}),
    "exp-in-the-past": Case(*INVALID_CLAIM, claims={"exp": NOW - 100}),
    # --- jti ----------------------------------------------------------------------------
    "jti-missing": Case(*INVALID_CLAIM, claims={"jti": DROP}),
    "jti-empty": Case(*INVALID_CLAIM, claims={"jti": ""}),
    "jti-129-chars": Case(*INVALID_CLAIM, claims={"jti": "a" * 129}),
    "jti-with-slash": Case(*INVALID_CLAIM, claims={"jti": "../proof"}),
    "jti-integer": Case(*INVALID_CLAIM, claims={"jti": 7}),
    # --- htm and htu: a proof for one request used for another ---------------------------
    "htm-GET-for-POST": Case(*INVALID_CLAIM, claims={"htm": "GET"}),
    "htm-lower-case": Case(*INVALID_CLAIM, claims={"htm": "post"}),
    "htm-missing": Case(*INVALID_CLAIM, claims={"htm": DROP}),
    "htu-other-path": Case(
        *INVALID_CLAIM, claims={"htu": "https://wallet.example/v1/requests/abc"}
    ),
    "htu-other-host": Case(*INVALID_CLAIM, claims={"htu": "https://evil.example/v1/data"}),
    "htu-http-for-https": Case(*INVALID_CLAIM, claims={"htu": "http://wallet.example/v1/data"}),
    "htu-other-port": Case(*INVALID_CLAIM, claims={"htu": "https://wallet.example:8443/v1/data"}),
    "htu-path-case": Case(*INVALID_CLAIM, claims={"htu": "https://wallet.example/V1/DATA"}),
    "htu-trailing-slash": Case(*INVALID_CLAIM, claims={"htu": HTU + "/"}),
    "htu-relative": Case(*INVALID_CLAIM, claims={"htu": "/v1/data"}),
    "htu-user-info": Case(*INVALID_CLAIM, claims={"htu": "https://a@wallet.example/v1/data"}),
    "htu-not-a-string": Case(*INVALID_CLAIM, claims={"htu": ["https://wallet.example"]}),
    "htu-missing": Case(*INVALID_CLAIM, claims={"htu": DROP}),
    # --- ath: binding to the consent token ----------------------------------------------
    "ath-missing-with-token": Case(*INVALID_SIG, claims={"ath": DROP}),
    "ath-of-another-token": Case(*INVALID_SIG, claims={"ath": access_token_hash(OTHER_TOKEN)}),
    "ath-not-a-digest": Case(*INVALID_CLAIM, claims={"ath": "abc"}),
    "ath-without-token": Case(*INVALID_CLAIM, verify={"access_token": None}),
    "ath-null-without-token": Case(
        *INVALID_CLAIM, claims={"ath": None}, verify={"access_token": None}
    ),
    "token-other-than-ath": Case(*INVALID_SIG, verify={"access_token": OTHER_TOKEN}),
    # --- the request URL holds client input (a path parameter) ---------------------------
    "request-url-with-space": Case(*INVALID_CLAIM, verify={"htu": HTU + "/ x"}),
    "request-url-non-ascii": Case(*INVALID_CLAIM, verify={"htu": HTU + "/\u00e9"}),
    # --- closed claim set ---------------------------------------------------------------
    "claim-nonce": Case(*INVALID_CLAIM, claims={"nonce": "n-1"}),
    "claim-scope": Case(*INVALID_CLAIM, claims={"scope": "openid"}),
}

ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]


@pytest.mark.parametrize("alg", ALGS)
def test_good_proof_is_accepted(alg: Alg) -> None:
    keys = keys_for(alg)
    good = Case(RegieError, Code.MISUSE)
    verified = verify_proof(proof_for(keys, good), **verify_args(keys, good))
    assert verified.jti == "proof-0001"
    assert verified.jkt == keys.a.public_key.thumbprint()
    assert verified.key == keys.a.public_key
    assert (verified.htm, verified.htu, verified.iat) == ("POST", HTU, NOW)


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(CASES))
def test_dpop_refusal(alg: Alg, name: str) -> None:
    keys, case = keys_for(alg), CASES[name]
    good = Case(RegieError, Code.MISUSE)
    verify_proof(proof_for(keys, good), **verify_args(keys, good))
    with pytest.raises(RegieError) as caught:
        verify_proof(proof_for(keys, case), **verify_args(keys, case))
    assert type(caught.value) is case.expected, caught.value
    assert caught.value.code is case.code, caught.value


ACCEPTED: dict[str, Case] = {
    "no-token-no-ath": Case(
        RegieError, Code.MISUSE, claims={"ath": DROP}, verify={"access_token": None}
    ),
    "first-contact-no-expected-jkt": Case(RegieError, Code.MISUSE, verify={"expected_jkt": None}),
    "iat-exactly-max-age-old": Case(RegieError, Code.MISUSE, claims={"iat": NOW - MAX_PROOF_AGE}),
    "iat-within-leeway": Case(RegieError, Code.MISUSE, claims={"iat": NOW + 5}),
    "htu-host-upper-case": Case(
        RegieError, Code.MISUSE, claims={"htu": "HTTPS://Wallet.Example/v1/data"}
    ),
    "htu-default-port": Case(
        RegieError, Code.MISUSE, claims={"htu": "https://wallet.example:443/v1/data"}
    ),
    "htu-with-query": Case(RegieError, Code.MISUSE, claims={"htu": HTU + "?a=1#frag"}),
    "request-url-with-query": Case(RegieError, Code.MISUSE, verify={"htu": HTU + "?page=2"}),
    "jwk-with-kid-and-alg": Case(
        RegieError, Code.MISUSE, header={"jwk": lambda k: k.a.public_key.to_jwk()}
    ),
}


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(ACCEPTED))
def test_dpop_accepted_variant(alg: Alg, name: str) -> None:
    keys, case = keys_for(alg), ACCEPTED[name]
    verified = verify_proof(proof_for(keys, case), **verify_args(keys, case))
    assert verified.htu == HTU


@pytest.mark.parametrize("alg", ALGS)
def test_created_proofs_verify_and_get_fresh_ids(alg: Alg) -> None:
    key = keys_for(alg).a
    first = create_proof(key, htm="POST", htu=HTU, now=NOW, access_token=TOKEN)
    second = create_proof(key, htm="POST", htu=HTU, now=NOW, access_token=TOKEN)
    args = {"htm": "POST", "htu": HTU, "now": NOW + 30, "access_token": TOKEN}
    one = verify_proof(first, **args, expected_jkt=key.public_key.thumbprint())
    two = verify_proof(second, **args, expected_jkt=None)
    assert one.jti != two.jti
    assert len(one.jti) == 22
    bare = create_proof(key, htm="GET", htu=HTU + "?x=1", now=NOW, jti="my-id_1")
    verified = verify_proof(
        bare, htm="GET", htu=HTU, now=NOW, access_token=None, expected_jkt=key.kid
    )
    assert verified.jti == "my-id_1"


def test_created_proof_header_is_exactly_alg_typ_jwk() -> None:
    import json

    from regie_protocol._encoding import b64url_decode

    key = keys_for(Alg.ES256).a
    header = json.loads(b64url_decode(create_proof(key, htm="GET", htu=HTU, now=NOW).split(".")[0]))
    assert header == {"typ": DPOP_TYP, "alg": "ES256", "jwk": key.public_key.required_members()}


CREATE_MISUSE: dict[str, dict[str, Any]] = {
    "htm-lower-case": {"htm": "get"},
    "htm-with-path": {"htm": "GET /"},
    "htu-relative": {"htu": "/v1/data"},
    "htu-ftp": {"htu": "ftp://wallet.example/x"},
    "jti-empty": {"jti": ""},
    "jti-with-slash": {"jti": "a/b"},
    "now-negative": {"now": -1},
    "now-float": {"now": 1.5},
}


@pytest.mark.parametrize("name", list(CREATE_MISUSE))
def test_create_proof_misuse(name: str) -> None:
    args: dict[str, Any] = {"htm": "GET", "htu": HTU, "now": NOW, **CREATE_MISUSE[name]}
    with pytest.raises(Misuse):
        create_proof(keys_for(Alg.EDDSA).a, **args)


@pytest.mark.parametrize(
    "kwargs",
    [{"htm": "post"}, {"leeway": 61}, {"max_age": 0}],
    ids=["htm-lower", "leeway-61", "max-age-0"],
)
def test_verify_proof_misuse(kwargs: dict[str, Any]) -> None:
    keys = keys_for(Alg.EDDSA)
    proof = proof_for(keys, Case(RegieError, Code.MISUSE))
    args = {**verify_args(keys, Case(RegieError, Code.MISUSE)), **kwargs}
    with pytest.raises(Misuse):
        verify_proof(proof, **args)


# --- helpers -----------------------------------------------------------------------------


def test_access_token_hash_is_rfc9449_example() -> None:
    """RFC 9449 §7.1: the ath of its example access token."""
    assert (
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
        == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )
    with pytest.raises(MalformedInput):
        access_token_hash("caf\u00e9")


NORMALIZED = {
    "https://wallet.example/v1/data": "https://wallet.example/v1/data",
    "HTTPS://WALLET.example/v1/data": "https://wallet.example/v1/data",
    "https://wallet.example:443/v1/data": "https://wallet.example/v1/data",
    "http://wallet.example:80/x": "http://wallet.example/x",
    "http://127.0.0.1:8002/v1/data?x=1#y": "http://127.0.0.1:8002/v1/data",
    "https://wallet.example": "https://wallet.example/",
    "https://[::1]:8443/a": "https://[::1]:8443/a",
    "https://wallet.example/A%2Fb": "https://wallet.example/A%2Fb",
}


@pytest.mark.parametrize(("url", "expected"), list(NORMALIZED.items()))
def test_normalize_htu(url: str, expected: str) -> None:
    assert normalize_htu(url) == expected
    assert normalize_htu(expected) == expected


HTU_REFUSED = {
    "empty": "",
    "relative": "/v1/data",
    "ftp": "ftp://wallet.example/",
    "no-host": "https://",
    "user-info": "https://user:pw@wallet.example/",
    "bad-port": "https://wallet.example:99999/",
    "space": "https://wallet.example/ a",
    "non-ascii": "https://wallet.example/\u00e9",
    "too-long": "https://wallet.example/" + "a" * 2048,
    "javascript": "javascript:alert(1)",
}


@pytest.mark.parametrize("name", list(HTU_REFUSED))
def test_normalize_htu_refuses(name: str) -> None:
    with pytest.raises(ClaimRefused) as caught:
        normalize_htu(HTU_REFUSED[name])
    assert caught.value.code is Code.DPOP_INVALID


# --- properties ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_KEY = keys_for(Alg.EDDSA).a
GOOD = create_proof(_KEY, htm="POST", htu=HTU, now=NOW, access_token=TOKEN)


def _verify(proof: str | bytes) -> None:
    verify_proof(proof, htm="POST", htu=HTU, now=NOW, access_token=TOKEN, expected_jkt=_KEY.kid)


@SETTINGS
@given(data=st.data())
def test_mutated_proofs_give_only_regie_errors(data: st.DataObject) -> None:
    with contextlib.suppress(RegieError):
        _verify(mutated(data, GOOD))


@SETTINGS
@given(part=st.sampled_from(["header", "claims"]), data=st.data())
def test_signed_proofs_with_one_value_replaced_give_only_regie_errors(
    part: str, data: st.DataObject
) -> None:
    header, claims = good_header(_KEY), good_claims()
    target = header if part == "header" else claims
    name = data.draw(st.sampled_from(sorted(target)))
    target[name] = data.draw(JSON_VALUES)
    with contextlib.suppress(RegieError):
        _verify(forge(header, claims, key=_KEY))


@SETTINGS
@given(url=st.text(max_size=60) | st.from_regex(r"[hH][tT]{2}[pP][sS]?://[^/]{0,20}/.{0,20}"))
def test_normalize_htu_is_idempotent_or_refuses(url: str) -> None:
    try:
        once = normalize_htu(url)
    except ClaimRefused as exc:
        refused: ClaimRefused | None = exc
    else:
        refused = None
    if refused is not None:
        assert refused.code is Code.DPOP_INVALID
        return
    assert normalize_htu(once) == once
    assert "?" not in once
    assert "#" not in once
