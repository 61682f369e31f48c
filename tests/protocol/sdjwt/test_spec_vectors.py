"""RFC 9901's own examples (tests/vectors/sd-jwt-spec, see SOURCE.md there).

* every (Disclosure, digest) pair printed in the RFC hashes to the printed digest;
* Regie's disclosure spelling reproduces the RFC's Disclosures byte for byte
  wherever the RFC spells JSON the same way (all pairs without ``\\u`` escapes);
* issuing the RFC's example claims with the RFC's salts reproduces its
  Disclosures and digests (§4.2.1, §5.1, §6.1, §6.2, §6.3);
* the RFC's complete tokens verify (signature by the A.5 key, KB-JWTs, decoys)
  and give exactly the Processed SD-JWT Payloads it prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from regie_protocol._encoding import b64url_decode
from regie_protocol.errors import Code, DisclosureRefused, RegieError, SignatureRefused
from regie_protocol.keys import Alg, SigningKey, public_key_from_jwk
from regie_protocol.limits import DEFAULT_LIMITS
from regie_protocol.sdjwt import (
    SD,
    UNSAFE_SKIP_STATUS,
    KeyBindingRequired,
    NoKeyBinding,
    issue,
    verify,
)
from regie_protocol.sdjwt._disclosures import decode_disclosure, digest, encode_disclosure

from .world import decode_payload, split

VECTORS = Path(__file__).parent.parent.parent / "vectors" / "sd-jwt-spec"
PAIRS: list[dict[str, str]] = json.loads((VECTORS / "disclosures.json").read_text("utf-8"))
TOKENS: list[dict[str, Any]] = json.loads((VECTORS / "tokens.json").read_text("utf-8"))
SPELLINGS: dict[str, Any] = json.loads((VECTORS / "equivalent_spellings.json").read_text("utf-8"))
MAX_DEPTH = DEFAULT_LIMITS.max_json_depth + 1


def pair_params() -> Iterator[Any]:
    for n, pair in enumerate(PAIRS):
        label = pair["label"].replace(" ", "-").replace("(", "").replace(")", "")
        yield pytest.param(pair, id=f"{n:02d}-§{pair['section']}-{label}")


@pytest.mark.parametrize("pair", list(pair_params()))
def test_disclosure_digest(pair: dict[str, str]) -> None:
    assert digest(pair["disclosure"]) == pair["digest"]


@pytest.mark.parametrize("pair", list(pair_params()))
def test_regie_spelling_reproduces_disclosure(pair: dict[str, str]) -> None:
    text = b64url_decode(pair["disclosure"]).decode("utf-8")
    decoded = decode_disclosure(pair["disclosure"], max_depth=MAX_DEPTH)
    ours = encode_disclosure(decoded.salt, decoded.name, decoded.value)
    if "\\u" in text:
        # the RFC's generator escaped non-ASCII text here; Regie writes UTF-8 (as §4.2.1
        # does). Both are valid: the value is the same, the digest differs.
        assert json.loads(b64url_decode(ours.encoded)) == json.loads(text)
        assert ours.digest != pair["digest"]
    else:
        assert (ours.encoded, ours.digest) == (pair["disclosure"], pair["digest"])


def test_every_rfc_spelling_count() -> None:
    """Guard against a vector file that silently lost its entries."""
    assert len(PAIRS) == 89
    assert sum("\\u" not in b64url_decode(p["disclosure"]).decode() for p in PAIRS) == 79


@pytest.mark.parametrize("name", sorted(SPELLINGS["other_spellings"]))
def test_equivalent_spellings_decode_alike(name: str) -> None:
    """§4.2.1: escaped Unicode, no white space and newlines are all the same claim."""
    expected = SPELLINGS["contents"]
    encoded = SPELLINGS["other_spellings"][name]
    decoded = decode_disclosure(encoded, max_depth=MAX_DEPTH)
    assert [decoded.salt, decoded.name, decoded.value] == expected
    assert encode_disclosure(*expected).encoded == SPELLINGS["regie_spelling"] != encoded


# --- issuing the RFC's examples with the RFC's salts --------------------------------------

SPEC_HOLDER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
    "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
}
ADDRESS_DE = {
    "street_address": "Schulstr. 12",
    "locality": "Schulpforta",
    "region": "Sachsen-Anhalt",
    "country": "DE",
}
SUB_DE = "6c5c0a49-b589-431d-bae7-219122a9ec2c"
#: the RFC's example claims, with the selective disclosure its prose describes
EXAMPLES: dict[str, dict[str, Any]] = {
    "5.1": {
        "sub": "user_42",
        "given_name": SD("John"),
        "family_name": SD("Doe"),
        "email": SD("johndoe@example.com"),
        "phone_number": SD("+1-202-555-0101"),
        "phone_number_verified": SD(True),
        "address": SD(
            {
                "street_address": "123 Main St",
                "locality": "Anytown",
                "region": "Anystate",
                "country": "US",
            }
        ),
        "birthdate": SD("1940-01-01"),
        "updated_at": SD(1570000000),
        "nationalities": [SD("US"), SD("DE")],
    },
    "6.1": {"sub": SUB_DE, "address": SD(ADDRESS_DE)},
    "6.2": {"sub": SUB_DE, "address": {k: SD(v) for k, v in ADDRESS_DE.items()}},
    "6.3": {"sub": SUB_DE, "address": SD({k: SD(v) for k, v in ADDRESS_DE.items()})},
}


@pytest.mark.parametrize("section", sorted(EXAMPLES))
def test_issue_reproduces_rfc_example(section: str) -> None:
    expected = [p for p in PAIRS if p["section"] == section]
    salts = iter(json.loads(b64url_decode(p["disclosure"]))[0] for p in expected)
    claims = {"iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000}
    claims |= EXAMPLES[section]
    claims["cnf"] = {"jwk": SPEC_HOLDER_JWK}
    token = issue(
        claims,
        issuer_key=SigningKey.generate(Alg.ES256),
        typ="example+sd-jwt",
        salt=lambda: next(salts),
        decoys=0,
    )
    jwt, disclosures, _ = split(token)
    assert disclosures == [p["disclosure"] for p in expected]
    payload = decode_payload(jwt)
    referenced = set(payload.get("_sd", []))
    referenced |= set(payload.get("address", {}).get("_sd", []))
    referenced |= {e["..."] for e in payload.get("nationalities", [])}
    roots = {p["digest"] for p in expected} - {
        d for p in expected for d in _nested_digests(p["disclosure"])
    }
    assert referenced == roots


def _nested_digests(disclosure: str) -> list[str]:
    value = json.loads(b64url_decode(disclosure))[-1]
    return value.get("_sd", []) if isinstance(value, dict) else []


def test_issue_reproduces_section_5_1_payload_digests() -> None:
    """Our §5.1 issuance has the same ``_sd`` and ``nationalities`` as the RFC's signed payload."""
    spec = decode_payload(TOKENS[0]["token"].split("~")[0])
    section = [p for p in PAIRS if p["section"] == "5.1"]
    salts = iter(json.loads(b64url_decode(p["disclosure"]))[0] for p in section)
    claims = {"iss": spec["iss"], "iat": spec["iat"], "exp": spec["exp"], **EXAMPLES["5.1"]}
    token = issue(
        claims,
        issuer_key=SigningKey.generate(Alg.EDDSA),
        typ="example+sd-jwt",
        salt=lambda: next(salts),
        decoys=0,
    )
    ours = decode_payload(split(token)[0])
    assert ours["_sd"] == spec["_sd"]
    assert ours["nationalities"] == spec["nationalities"]
    assert split(token)[1] == split(TOKENS[0]["token"])[1]


# --- verifying the RFC's complete tokens --------------------------------------------------


def token_params() -> Iterator[Any]:
    for vector in TOKENS:
        yield pytest.param(vector, id=vector["name"])


def verify_vector(vector: dict[str, Any], token: str | None = None, **overrides: Any) -> Any:
    key = public_key_from_jwk(vector["issuer_jwk"])
    kb = vector["key_binding"]
    options: dict[str, Any] = {
        "issuer_keys": lambda iss: {"A.5": key},
        "key_binding": KeyBindingRequired(**kb) if kb else NoKeyBinding(),
        "status": UNSAFE_SKIP_STATUS,
        "now": vector["now"],
        "accepted_vcts": None,
        "typ": vector["typ"],
    }
    options.update(overrides)
    return verify(token or vector["token"], **options)


@pytest.mark.parametrize("vector", list(token_params()))
def test_rfc_token_verifies(vector: dict[str, Any]) -> None:
    verified = verify_vector(vector)
    if vector["processed_payload"] is not None:
        assert verified.claims == vector["processed_payload"]
    else:  # an issued SD-JWT: every input claim comes back
        issued = {"iss", "iat", "exp", "cnf", "vct"}
        assert {k: v for k, v in verified.claims.items() if k not in issued} == {
            k: v for k, v in vector["input_claims"].items() if k not in issued
        }
    if vector["key_binding"]:
        assert verified.key_binding == vector["key_binding_payload"]
        assert verified.holder_key == public_key_from_jwk(SPEC_HOLDER_JWK)
    else:
        assert verified.key_binding is None


MUTATIONS = [
    pytest.param(
        lambda v: _insert(
            v["token"], next(p for p in PAIRS if p["section"] == "6.1")["disclosure"]
        ),
        DisclosureRefused,
        Code.DISCLOSURE_UNREFERENCED,
        id="foreign-disclosure-added",
    ),
    pytest.param(
        lambda v: _insert(v["token"], split(v["token"])[1][0]),
        DisclosureRefused,
        Code.DIGEST_DUPLICATE,
        id="disclosure-sent-twice",
    ),
]


def _insert(token: str, disclosure: str) -> str:
    cut = token.rindex("~") + 1
    return token[:cut] + disclosure + "~" + token[cut:]


@pytest.mark.parametrize("vector", list(token_params()))
@pytest.mark.parametrize(("mutate", "exc", "code"), MUTATIONS)
def test_rfc_token_mutated(
    vector: dict[str, Any], mutate: Any, exc: type[RegieError], code: Code
) -> None:
    verify_vector(vector)
    with pytest.raises(RegieError) as caught:
        verify_vector(vector, mutate(vector))
    assert type(caught.value) is exc and caught.value.code is code


@pytest.mark.parametrize("vector", list(token_params()))
def test_rfc_token_under_another_key_or_typ(vector: dict[str, Any]) -> None:
    other = SigningKey.generate(Alg.ES256).public_key
    with pytest.raises(SignatureRefused) as caught:
        verify_vector(vector, issuer_keys={"https://x": {}})
    assert caught.value.code is Code.ISSUER_UNTRUSTED
    with pytest.raises(SignatureRefused) as caught:
        verify_vector(vector, issuer_keys=lambda iss: {"k": other})
    assert caught.value.code is Code.SIGNATURE_INVALID
    wrong_typ = "dc+sd-jwt" if vector["typ"] != "dc+sd-jwt" else "example+sd-jwt"
    with pytest.raises(SignatureRefused) as caught:
        verify_vector(vector, typ=wrong_typ)
    assert caught.value.code is Code.TYP_MISMATCH
