"""Interop with the reference package ``sd-jwt`` (OpenWallet, Python), both directions.

* ``SDJWTVerifier`` verifies what Regie issues: a BRP credential from
  :class:`issuer.Issuer` and :func:`sdjwt.issue` output with nested and
  array-element disclosures, as issued and as key-bound presentations; the payload
  it reads equals Regie's :attr:`VerifiedSdJwt.claims`. Its KB-JWT check is ES256
  only, so holder keys are P-256 there; issuer keys are Ed25519 and P-256.
* Regie verifies what ``SDJWTIssuer`` issues (``SDObj`` markers on names, array
  elements and inside disclosed elements, decoys, ``cnf`` from the holder key,
  ``typ``/``kid`` set through ``extra_header_parameters``) and what
  ``SDJWTHolder.create_presentation`` presents with a KB-JWT (ES256 and EdDSA).
* The reference writes ``typ: example+sd-jwt`` unless told otherwise and cannot
  leave ``typ`` out (``extra_header_parameters`` only overrides it): Regie refuses
  any ``typ`` but ``dc+sd-jwt`` with TYP_MISMATCH.
* Evidence: the reference verifier checks neither ``exp``/``nbf`` nor the KB-JWT's
  ``iat``, ignores unreferenced disclosures and (through jwcrypto) reads
  non-canonical base64url. It is a peer for good cases only; the last test pins
  what it accepts and Regie refuses.

The reference holder stamps the KB-JWT ``iat`` with the wall clock, so this file's
"now" is the wall clock read once; Regie receives it explicitly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from jwcrypto.jwk import JWK  # type: ignore[import-untyped]
from jwcrypto.jws import InvalidJWSSignature  # type: ignore[import-untyped]
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from issuer import CREDENTIAL_TYPES, SOURCES, Issuer, new_state, with_derived_claims
from regie_protocol import jws
from regie_protocol._encoding import b64url_decode, b64url_encode
from regie_protocol.errors import (
    Code,
    DisclosureRefused,
    MalformedInput,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, PublicKey, SigningKey, public_key_from_jwk
from regie_protocol.sdjwt import (
    SD,
    UNSAFE_SKIP_STATUS,
    KeyBindingRequired,
    NoKeyBinding,
    PathSpec,
    StatusResolver,
    UnsafeSkipStatus,
    VerifiedSdJwt,
    cnf_for,
    issue,
    present,
    verify,
)
from regie_protocol.statuslist import Status, verify_status_list

pytestmark = pytest.mark.interop

NOW = int(time.time())
TODAY = dt.date(2026, 11, 23)
AUDIENCE = "https://verifier.example/rp/7"
NONCE = "n-0S6_WzA2Mj"
BRP = SOURCES["brp"]
ISS = "https://issuer.example/direct"
VCT = "https://credentials.example/vct/person"
STATUS_URI = "https://issuer.example/status/1"
ISSUER_ALGS = [pytest.param(Alg.EDDSA, id="Ed25519"), pytest.param(Alg.ES256, id="P-256")]

Trusted = Mapping[str, Mapping[str, PublicKey]]


# --- both sides, configured as a careful caller would --------------------------------------


def reference_verify(token: str, trusted: Trusted, *, key_binding: bool) -> dict[str, Any]:
    """``SDJWTVerifier`` with the issuer key looked up by ``iss`` and ``kid`` in ``trusted``."""

    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        return JWK(**trusted[iss][header["kid"]].to_jwk())

    binding = {"expected_aud": AUDIENCE, "expected_nonce": NONCE} if key_binding else {}
    payload: dict[str, Any] = SDJWTVerifier(token, issuer_key, **binding).get_verified_payload()
    return payload


def regie_verify(
    token: str,
    trusted: Trusted,
    *,
    key_binding: bool,
    status: StatusResolver | UnsafeSkipStatus,
    now: int = NOW,
) -> VerifiedSdJwt:
    return verify(
        token,
        issuer_keys=trusted,
        key_binding=KeyBindingRequired(AUDIENCE, NONCE) if key_binding else NoKeyBinding(),
        status=status,
        now=now,
        accepted_vcts=None,
    )


def regie_present(token: str, holder: SigningKey, disclose: list[PathSpec], now: int = NOW) -> str:
    return present(
        token, disclose=disclose, holder_key=holder, audience=AUDIENCE, nonce=NONCE, now=now
    )


def header_of(token: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(token.split(".")[0]))
    return header


# --- Regie issues and presents, the reference verifies -------------------------------------


def brp_issuer_status(brp_issuer: Issuer) -> StatusResolver:
    """Regie's resolver over the issuer's own signed Status List Token."""
    token = brp_issuer.status_list_token(now=NOW)
    keys = brp_issuer.public_keys()
    return lambda uri, idx: verify_status_list(token, keys=keys, uri=uri, now=NOW).status(idx)


@pytest.mark.parametrize("issuer_alg", ISSUER_ALGS)
def test_reference_verifies_regie_issuer_brp_credential(issuer_alg: Alg) -> None:
    holder = SigningKey.generate(Alg.ES256)
    brp_issuer = Issuer(new_state(BRP.issuer_id), SigningKey.generate(issuer_alg), CREDENTIAL_TYPES)
    claims = with_derived_claims(BRP.ctype.vct, BRP.sample, TODAY)
    issued = brp_issuer.issue(vct=BRP.ctype.vct, claims=claims, holder=holder.public_key, now=NOW)
    shown = regie_present(
        issued.token,
        holder,
        ["age_over_18", ("address", "locality"), ("nationalities", 0)],
    )
    trusted = {BRP.issuer_id: brp_issuer.public_keys()}
    status = brp_issuer_status(brp_issuer)

    ours = regie_verify(issued.token, trusted, key_binding=False, status=status)
    assert reference_verify(issued.token, trusted, key_binding=False) == ours.claims
    assert {name: ours.claims[name] for name in claims} == claims  # everything, as issued

    ours = regie_verify(shown, trusted, key_binding=True, status=status)
    assert reference_verify(shown, trusted, key_binding=True) == ours.claims
    assert ours.claims["age_over_18"] is True
    assert ours.claims["address"] == {"locality": "Utrecht", "country": "NL"}
    assert ours.claims["nationalities"] == ["NL"]
    assert not {"given_name", "family_name", "birthdate", "age_over_65"} & ours.claims.keys()


def test_reference_verifier_checks_signature_and_binding() -> None:
    """Negative controls: the peer is not a no-op (exact reference errors at 0.10.4)."""
    key, holder = SigningKey.generate(Alg.ES256), SigningKey.generate(Alg.ES256)
    trusted = {ISS: {key.kid: key.public_key}}
    good = regie_present(issue(direct_payload(holder), issuer_key=key), holder, ["given_name"])
    assert reference_verify(good, trusted, key_binding=True)["given_name"] == "Zoë"
    issuer_jwt = good.split("~")[0]
    signed, signature = issuer_jwt.rsplit(".", 1)
    flipped = signed + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidJWSSignature):
        reference_verify(good.replace(issuer_jwt, flipped), trusted, key_binding=True)
    other = present(
        issue(direct_payload(holder), issuer_key=key),
        disclose=["given_name"],
        holder_key=holder,
        audience=AUDIENCE,
        nonce="another-transaction",
        now=NOW,
    )
    with pytest.raises(ValueError, match=r"^Invalid nonce in KB-JWT$"):
        reference_verify(other, trusted, key_binding=True)


def direct_payload(holder: SigningKey) -> dict[str, Any]:
    """Every place a marker can go: names, nested members, array elements, inside both."""
    return {
        "iss": ISS,
        "vct": VCT,
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "cnf": cnf_for(holder.public_key),
        "given_name": SD("Zoë"),
        "family_name": SD("Möbius"),
        "address": SD(
            {"street_address": SD("Dorpsstraat 1"), "locality": SD("Utrecht"), "country": "NL"}
        ),
        "nationalities": [SD("NL"), SD("DE"), "FR"],
        "degrees": [SD({"type": "BSc", "year": SD(2012)}), {"type": "MSc", "year": SD(2014)}],
        "matrix": [[SD(1), 2], [SD([3, SD(4)])]],
    }


#: claims every presentation of :func:`direct_payload` shows (besides iss/vct/iat/exp/cnf)
ALWAYS: dict[str, Any] = {
    "nationalities": ["FR"],
    "degrees": [{"type": "MSc"}],
    "matrix": [[2], []],
}
FULL: dict[str, Any] = {
    "given_name": "Zoë",
    "family_name": "Möbius",
    "address": {"street_address": "Dorpsstraat 1", "locality": "Utrecht", "country": "NL"},
    "nationalities": ["NL", "DE", "FR"],
    "degrees": [{"type": "BSc", "year": 2012}, {"type": "MSc", "year": 2014}],
    "matrix": [[1, 2], [[3, 4]]],
}
#: id -> (what the holder discloses, the claims the verifier then sees beyond ALWAYS)
SELECTIONS: dict[str, tuple[list[PathSpec], dict[str, Any]]] = {
    "nothing": ([], {}),
    "top-level-names": (
        ["given_name", "family_name"],
        {"given_name": "Zoë", "family_name": "Möbius"},
    ),
    "nested-member": (
        [("address", "locality")],
        {"address": {"locality": "Utrecht", "country": "NL"}},
    ),
    "array-element": ([("nationalities", 1)], {"nationalities": ["DE", "FR"]}),
    "inside-disclosed-element": (
        [("degrees", 0, "year")],
        {"degrees": [{"type": "BSc", "year": 2012}, {"type": "MSc"}]},
    ),
    "member-of-plain-element": (
        [("degrees", 1, "year")],
        {"degrees": [{"type": "MSc", "year": 2014}]},
    ),
    "nested-arrays": ([("matrix", 1, 0, 1)], {"matrix": [[2], [[3, 4]]]}),
    "everything": (list(FULL), FULL),
}


@pytest.mark.parametrize("issuer_alg", ISSUER_ALGS)
@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_reference_verifies_regie_nested_and_array_disclosures(
    issuer_alg: Alg, selection: str
) -> None:
    key, holder = SigningKey.generate(issuer_alg), SigningKey.generate(Alg.ES256)
    payload = direct_payload(holder)
    disclose, seen = SELECTIONS[selection]
    shown = regie_present(issue(payload, issuer_key=key), holder, disclose)
    trusted = {ISS: {key.kid: key.public_key}}
    ours = regie_verify(shown, trusted, key_binding=True, status=UNSAFE_SKIP_STATUS)
    permanent = {name: payload[name] for name in ("iss", "vct", "iat", "exp", "cnf")}
    assert ours.claims == {**permanent, **ALWAYS, **seen}
    assert reference_verify(shown, trusted, key_binding=True) == ours.claims


# --- the reference issues and presents, Regie verifies -------------------------------------

REF_ISS = "https://issuer.example/reference"
REF_STATUS = {"status_list": {"idx": 3, "uri": STATUS_URI}}
#: ``!sd``-style markers: SDObj on a member name marks the member, on an element the element
REF_CLAIMS: dict[Any, Any] = {
    "iss": REF_ISS,
    "vct": VCT,
    "iat": NOW - 60,
    "exp": NOW + 3600,
    "status": REF_STATUS,
    SDObj("given_name"): "Zoë",
    SDObj("family_name"): "Möbius",
    SDObj("address"): {
        SDObj("street_address"): "Dorpsstraat 1",
        SDObj("locality"): "Utrecht",
        "country": "NL",
    },
    "nationalities": [SDObj("NL"), SDObj("DE"), "FR"],
    "degrees": [SDObj({"type": "BSc", SDObj("year"): 2012}), {"type": "MSc", SDObj("year"): 2014}],
}
REF_FULL: dict[str, Any] = {
    "iss": REF_ISS,
    "vct": VCT,
    "iat": NOW - 60,
    "exp": NOW + 3600,
    "status": REF_STATUS,
    "given_name": "Zoë",
    "family_name": "Möbius",
    "address": {"street_address": "Dorpsstraat 1", "locality": "Utrecht", "country": "NL"},
    "nationalities": ["NL", "DE", "FR"],
    "degrees": [{"type": "BSc", "year": 2012}, {"type": "MSc", "year": 2014}],
}
#: the reference holder's selection: names -> True, arrays position by position
REF_DISCLOSE = {
    "given_name": True,
    "address": {"locality": True},
    "nationalities": [False, True],
    "degrees": [{"year": True}, {"year": True}],
}
REF_SHOWN: dict[str, Any] = {
    **{name: REF_FULL[name] for name in ("iss", "vct", "iat", "exp", "status", "given_name")},
    "address": {"locality": "Utrecht", "country": "NL"},
    "nationalities": ["DE", "FR"],
    "degrees": REF_FULL["degrees"],
}
KEY_KINDS = {
    "Ed25519": ({"kty": "OKP", "crv": "Ed25519"}, "EdDSA"),
    "P-256": ({"kty": "EC", "crv": "P-256"}, "ES256"),
}


def reference_issue(
    issuer_jwk: JWK, holder_jwk: JWK, header: Mapping[str, Any] | None = None
) -> str:
    alg = KEY_KINDS["P-256" if issuer_jwk["kty"] == "EC" else "Ed25519"][1]
    extra = {"typ": "dc+sd-jwt", "kid": issuer_jwk.thumbprint()} if header is None else header
    made = SDJWTIssuer(
        REF_CLAIMS,
        issuer_jwk,
        holder_key=holder_jwk,
        sign_alg=alg,
        add_decoy_claims=True,
        extra_header_parameters=dict(extra),
    )
    issuance: str = made.sd_jwt_issuance
    return issuance


def trusted_reference_key(issuer_jwk: JWK) -> dict[str, dict[str, PublicKey]]:
    key = public_key_from_jwk(issuer_jwk.export_public(as_dict=True), registering=True)
    assert key.thumbprint() == issuer_jwk.thumbprint()  # jwcrypto's RFC 7638 thumbprint is ours
    return {REF_ISS: {key.thumbprint(): key}}


def expect_status(uri: str, idx: int) -> Status:
    assert (uri, idx) == (STATUS_URI, 3)
    return Status.VALID


@pytest.mark.parametrize("issuer_kind", list(KEY_KINDS))
@pytest.mark.parametrize("holder_kind", list(KEY_KINDS))
def test_regie_verifies_reference_credential(issuer_kind: str, holder_kind: str) -> None:
    issuer_jwk = JWK.generate(**KEY_KINDS[issuer_kind][0])
    holder_jwk = JWK.generate(**KEY_KINDS[holder_kind][0])
    issuance = reference_issue(issuer_jwk, holder_jwk)
    holder = SDJWTHolder(issuance)
    holder.create_presentation(
        REF_DISCLOSE,
        nonce=NONCE,
        aud=AUDIENCE,
        holder_key=holder_jwk,
        sign_alg=KEY_KINDS[holder_kind][1],
    )
    shown: str = holder.sd_jwt_presentation
    trusted = trusted_reference_key(issuer_jwk)
    cnf = {"jwk": holder_jwk.export_public(as_dict=True)}
    assert header_of(issuance) == {
        "alg": KEY_KINDS[issuer_kind][1],
        "typ": "dc+sd-jwt",
        "kid": issuer_jwk.thumbprint(),
    }

    issued = regie_verify(issuance, trusted, key_binding=False, status=expect_status)
    assert issued.claims == {**REF_FULL, "cnf": cnf}
    # the reference stamps its key binding JWT with the clock now, not with NOW (module load)
    result = regie_verify(
        shown, trusted, key_binding=True, status=expect_status, now=int(time.time())
    )
    assert result.claims == {**REF_SHOWN, "cnf": cnf}
    assert result.holder_key == public_key_from_jwk(cnf["jwk"])
    assert result.status == (STATUS_URI, 3)
    assert result.key_binding is not None and result.key_binding["aud"] == AUDIENCE
    if holder_kind == "P-256":  # the only KB-JWT the reference verifier checks
        assert reference_verify(shown, trusted, key_binding=True) == result.claims


@pytest.mark.parametrize(
    ("header", "written"),
    [
        pytest.param(None, "example+sd-jwt", id="reference-default-example+sd-jwt"),
        pytest.param({"typ": "vc+sd-jwt"}, "vc+sd-jwt", id="legacy-vc+sd-jwt"),
        pytest.param({"typ": None}, None, id="typ-null"),
        pytest.param({"typ": "JWT"}, "JWT", id="plain-JWT"),
    ],
)
def test_regie_refuses_reference_credential_with_other_typ(
    header: dict[str, Any] | None, written: str | None
) -> None:
    issuer_jwk, holder_jwk = (
        JWK.generate(kty="EC", crv="P-256"),
        JWK.generate(kty="EC", crv="P-256"),
    )
    trusted = trusted_reference_key(issuer_jwk)
    good = reference_issue(issuer_jwk, holder_jwk)
    regie_verify(good, trusted, key_binding=False, status=expect_status)  # positive control
    kid = {"kid": issuer_jwk.thumbprint()}
    bad = reference_issue(issuer_jwk, holder_jwk, {**kid, **(header or {})})
    assert header_of(bad)["typ"] == written
    cnf = {"jwk": holder_jwk.export_public(as_dict=True)}
    assert reference_verify(bad, trusted, key_binding=False) == {**REF_FULL, "cnf": cnf}
    with pytest.raises(RegieError) as caught:
        regie_verify(bad, trusted, key_binding=False, status=expect_status)
    assert type(caught.value) is SignatureRefused
    assert caught.value.code is Code.TYP_MISMATCH


# --- evidence: what the lenient reference verifier accepts and Regie refuses ---------------


def _kb_by_hand(sd_jwt: str, holder: SigningKey) -> str:
    """``sd_jwt`` (ending in ``~``) with a KB-JWT made directly, for a crafted presentation."""
    sd_hash = b64url_encode(hashlib.sha256(sd_jwt.encode("ascii")).digest())
    claims = {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": sd_hash}
    return sd_jwt + jws.sign(claims, key=holder, typ="kb+jwt", kid=False)


def _unreferenced(token: str, holder: SigningKey) -> str:
    """The usual presentation plus a well-formed disclosure no digest names, bound again."""
    plain = present(token, disclose=["given_name"], holder_key=None)
    extra = b64url_encode(json.dumps(["c2FsdA", "role", "admin"]).encode())
    return _kb_by_hand(plain + extra + "~", holder)


def _non_canonical_signature(token: str, holder: SigningKey) -> str:
    """The usual presentation with a spare bit set in the issuer signature's last character.

    64 signature bytes take 86 base64url characters, 4 bits of which are spare: the
    decoded signature is unchanged (still valid), the token's text is not.
    """
    plain = present(token, disclose=["given_name"], holder_key=None)
    issuer_jwt = plain.split("~")[0]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = alphabet[alphabet.index(issuer_jwt[-1]) | 1]
    return _kb_by_hand(plain.replace(issuer_jwt, issuer_jwt[:-1] + spare, 1), holder)


#: id -> (payload changes, build the presentation from the credential, Regie's refusal)
LENIENT: dict[
    str, tuple[dict[str, Any], Callable[[str, SigningKey], str], type[RegieError], Code]
] = {
    "expired-credential": (
        {"iat": NOW - 7200, "exp": NOW - 3600},
        lambda token, holder: regie_present(token, holder, ["given_name"]),
        TimeRefused,
        Code.EXPIRED,
    ),
    "credential-not-yet-valid": (
        {"nbf": NOW + 3600},
        lambda token, holder: regie_present(token, holder, ["given_name"]),
        TimeRefused,
        Code.NOT_YET_VALID,
    ),
    "stale-key-binding-jwt": (
        {},
        lambda token, holder: regie_present(token, holder, ["given_name"], now=NOW - 3600),
        TimeRefused,
        Code.EXPIRED,
    ),
    "non-canonical-base64url-signature": (
        {},
        _non_canonical_signature,
        MalformedInput,
        Code.MALFORMED,
    ),
    "unreferenced-extra-disclosure": (
        {},
        _unreferenced,
        DisclosureRefused,
        Code.DISCLOSURE_UNREFERENCED,
    ),
}


@pytest.mark.parametrize("case", list(LENIENT))
def test_evidence_reference_accepts_what_regie_refuses(case: str) -> None:
    changes, build, exc, code = LENIENT[case]
    key, holder = SigningKey.generate(Alg.ES256), SigningKey.generate(Alg.ES256)
    trusted = {ISS: {key.kid: key.public_key}}
    good = regie_present(issue(direct_payload(holder), issuer_key=key), holder, ["given_name"])
    assert regie_verify(good, trusted, key_binding=True, status=UNSAFE_SKIP_STATUS).claims
    assert reference_verify(good, trusted, key_binding=True)["given_name"] == "Zoë"

    bad = build(issue({**direct_payload(holder), **changes}, issuer_key=key), holder)
    assert reference_verify(bad, trusted, key_binding=True)["given_name"] == "Zoë"
    with pytest.raises(RegieError) as caught:
        regie_verify(bad, trusted, key_binding=True, status=UNSAFE_SKIP_STATUS)
    assert type(caught.value) is exc
    assert caught.value.code is code
