"""Interop with ``@sd-jwt/sd-jwt-vc`` (npm), both directions, through ``node/sdjwt_peer.mjs``.

* ``SDJwtVcInstance.verify`` (verifier from the issuer's public JWK: ES256 through
  ``@sd-jwt/crypto-nodejs``, EdDSA through ``node:crypto``; ``requiredClaimKeys``;
  KB-JWT checked with ``cnf.jwk`` and the nonce, ``aud`` checked by the peer since
  the library does not) verifies what Regie issues: a BRP credential from
  :class:`issuer.Issuer`, whose Token Status List (signed by Regie) node fetches
  from the peer and checks, and :func:`sdjwt.issue` output with nested and
  array-element disclosures. The claims node reads equal Regie's.
* Regie verifies what node issues (a ``disclosureFrame`` with nested members, array
  elements and members inside elements, decoys, ``cnf.jwk`` as the library exports
  the holder key, ``kid`` = jose's RFC 7638 thumbprint) and presents with a KB-JWT,
  for ES256 and EdDSA issuers and holders; the claims equal node's own reading.

All node work of this file happens in ONE node process (a module-scoped fixture).
Needs node and ``tests/interop/node/node_modules`` (``npm ci`` there): skipped
when absent on a workstation, a failure under CI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from issuer import CREDENTIAL_TYPES, SOURCES, Issuer, new_state, with_derived_claims
from regie_protocol.errors import Code, RegieError, StatusRefused
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
from tests.conftest import NOW
from tests.interop.node_peer import require_node_package, run_peer

pytestmark = [pytest.mark.interop, pytest.mark.service]

NODE_DIR = Path(__file__).parent / "node"
PEER = NODE_DIR / "sdjwt_peer.mjs"
TODAY = dt.date(2026, 11, 23)
AUDIENCE = "https://verifier.example/rp/7"
NONCE = "n-0S6_WzA2Mj"
BRP = SOURCES["brp"]
ISS = "https://issuer.example/direct"
VCT = "https://credentials.example/vct/person"
NODE_ISS = "https://issuer.node.example"

Trusted = dict[str, dict[str, PublicKey]]


def peer(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send requests to the @sd-jwt peer in one process; one result per request, in order."""
    return run_peer(PEER.name, requests, package="@sd-jwt/sd-jwt-vc")


def regie_verify(
    token: str, trusted: Trusted, *, key_binding: bool, status: StatusResolver | UnsafeSkipStatus
) -> VerifiedSdJwt:
    return verify(
        token,
        issuer_keys=trusted,
        key_binding=KeyBindingRequired(AUDIENCE, NONCE) if key_binding else NoKeyBinding(),
        status=status,
        now=NOW,
        accepted_vcts=None,
    )


def regie_present(token: str, holder: SigningKey, disclose: list[PathSpec]) -> str:
    return present(
        token, disclose=disclose, holder_key=holder, audience=AUDIENCE, nonce=NONCE, now=NOW
    )


# --- what Regie makes for node to verify ---------------------------------------------------

#: (issuer key, holder key) pairs: each algorithm in each role
PAIRS = {
    "Ed25519-issuer-P-256-holder": (Alg.EDDSA, Alg.ES256),
    "P-256-issuer-Ed25519-holder": (Alg.ES256, Alg.EDDSA),
}
BRP_DISCLOSE: list[PathSpec] = ["age_over_18", ("address", "locality"), ("nationalities", 0)]
BRP_REQUIRED = ["age_over_18", "address.locality", "address.country", "nationalities.0", "vct"]


def direct_payload(holder: SigningKey) -> dict[str, Any]:
    return {
        "iss": ISS,
        "vct": VCT,
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "cnf": cnf_for(holder.public_key),
        "given_name": SD("Zoë"),
        "address": SD(
            {"street_address": SD("Dorpsstraat 1"), "locality": SD("Utrecht"), "country": "NL"}
        ),
        "nationalities": [SD("NL"), SD("DE"), "FR"],
        "degrees": [SD({"type": "BSc", "year": SD(2012)}), {"type": "MSc", "year": SD(2014)}],
        "matrix": [[SD(1), 2], [SD([3, SD(4)])]],
    }


DIRECT_DISCLOSE: list[PathSpec] = [
    "given_name",
    ("address", "street_address"),
    ("nationalities", 1),
    ("degrees", 0, "year"),
    ("matrix", 1, 0, 1),
]
DIRECT_SHOWN: dict[str, Any] = {
    "given_name": "Zoë",
    "address": {"street_address": "Dorpsstraat 1", "country": "NL"},
    "nationalities": ["DE", "FR"],
    "degrees": [{"type": "BSc", "year": 2012}, {"type": "MSc"}],
    "matrix": [[2], [[3, 4]]],
}


@dataclass
class RegieMade:
    """One pair's Regie-issued tokens and what Regie itself verifies in them."""

    trusted: Trusted
    status: StatusResolver
    brp_issued: str
    brp_shown: str
    direct_shown: str
    direct_payload: dict[str, Any]
    issuer_jwk: dict[str, Any]
    status_lists: dict[str, str]
    #: the same status list after the BRP credential was revoked
    revoked_lists: dict[str, str]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def make_regie(issuer_alg: Alg, holder_alg: Alg) -> RegieMade:
    key, holder = SigningKey.generate(issuer_alg), SigningKey.generate(holder_alg)
    brp_issuer = Issuer(new_state(BRP.issuer_id), key, CREDENTIAL_TYPES)
    claims = with_derived_claims(BRP.ctype.vct, BRP.sample, TODAY)
    issued = brp_issuer.issue(vct=BRP.ctype.vct, claims=claims, holder=holder.public_key, now=NOW)
    status_token = brp_issuer.status_list_token(now=NOW)
    brp_issuer.set_status(issued.status_index, Status.INVALID)
    revoked_token = brp_issuer.status_list_token(now=NOW)
    keys = brp_issuer.public_keys()
    payload = direct_payload(holder)
    return RegieMade(
        trusted={BRP.issuer_id: keys, ISS: {key.kid: key.public_key}},
        status=lambda uri, idx: verify_status_list(
            status_token, keys=keys, uri=uri, now=NOW
        ).status(idx),
        brp_issued=issued.token,
        brp_shown=regie_present(issued.token, holder, BRP_DISCLOSE),
        direct_shown=regie_present(issue(payload, issuer_key=key), holder, DIRECT_DISCLOSE),
        direct_payload=payload,
        issuer_jwk=key.public_key.to_jwk(),
        status_lists={brp_issuer.status_list_uri: status_token},
        revoked_lists={brp_issuer.status_list_uri: revoked_token},
    )


def verify_requests(made: RegieMade) -> dict[str, dict[str, Any]]:
    """Requests for node, by name; the ``bad-*`` ones are negative controls."""
    base = {"op": "verify", "issuerJwk": made.issuer_jwk, "now": NOW}
    bound = {**base, "nonce": NONCE, "audience": AUDIENCE, "statusLists": made.status_lists}
    signature = made.brp_shown.split("~")[0].rsplit(".", 1)
    tampered = signature[0] + "." + ("A" if signature[1][0] != "A" else "B") + signature[1][1:]
    return {
        "brp-issued": {**base, "token": made.brp_issued, "statusLists": made.status_lists},
        "brp-shown": {**bound, "token": made.brp_shown, "requiredClaimKeys": BRP_REQUIRED},
        "direct-shown": {**bound, "token": made.direct_shown},
        "bad-required-claim": {
            **bound,
            "token": made.brp_shown,
            "requiredClaimKeys": ["birthdate"],
        },
        "bad-nonce": {**bound, "token": made.brp_shown, "nonce": "another-transaction"},
        "bad-audience": {**bound, "token": made.brp_shown, "audience": "https://evil.example"},
        "bad-signature": {
            **bound,
            "token": made.brp_shown.replace(made.brp_shown.split("~")[0], tampered, 1),
        },
        "bad-revoked": {**bound, "token": made.brp_shown, "statusLists": made.revoked_lists},
    }


# --- what node makes for Regie to verify ---------------------------------------------------

NODE_CLAIMS: dict[str, Any] = {
    "iss": NODE_ISS,
    "vct": VCT,
    "iat": NOW - 60,
    "exp": NOW + 3600,
    "given_name": "Zoë",
    "family_name": "Möbius",
    "address": {"street_address": "Dorpsstraat 1", "locality": "Utrecht", "country": "NL"},
    "nationalities": ["NL", "DE", "FR"],
    "degrees": [{"type": "BSc", "year": 2012}, {"type": "MSc", "year": 2014}],
}
DISCLOSURE_FRAME = {
    "_sd": ["given_name", "family_name", "address"],
    "_sd_decoy": 2,
    "address": {"_sd": ["street_address", "locality"]},
    "nationalities": {"_sd": [0, 1]},
    "degrees": {"_sd": [0], "0": {"_sd": ["year"]}, "1": {"_sd": ["year"]}},
}
PRESENTATION_FRAME = {
    "given_name": True,
    "address": {"locality": True},
    "nationalities": {"1": True},
    "degrees": {"0": {"year": True}, "1": {"year": True}},
}
NODE_SHOWN: dict[str, Any] = {
    **{name: NODE_CLAIMS[name] for name in ("iss", "vct", "iat", "exp", "given_name")},
    "address": {"locality": "Utrecht", "country": "NL"},
    "nationalities": ["DE", "FR"],
    "degrees": NODE_CLAIMS["degrees"],
}
NODE_ALGS = [(alg, holder) for alg in ("ES256", "EdDSA") for holder in ("ES256", "EdDSA")]


def issue_request(alg: str, holder_alg: str) -> dict[str, Any]:
    return {
        "op": "issue",
        "alg": alg,
        "holderAlg": holder_alg,
        "claims": NODE_CLAIMS,
        "disclosureFrame": DISCLOSURE_FRAME,
        "presentationFrame": PRESENTATION_FRAME,
        "kb": {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE},
        "now": NOW,
    }


# --- one node process for the whole module -------------------------------------------------


@dataclass
class Exchange:
    regie: dict[str, RegieMade]
    node_issued: dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def exchange() -> Exchange:
    require_node_package("@sd-jwt/sd-jwt-vc")
    regie = {name: make_regie(*algs) for name, algs in PAIRS.items()}
    named: list[tuple[str, str, dict[str, Any]]] = [
        (pair, name, request)
        for pair, made in regie.items()
        for name, request in verify_requests(made).items()
    ]
    issues = [issue_request(*algs) for algs in NODE_ALGS]
    results = peer([request for _, _, request in named] + issues)
    for (pair, name, _), result in zip(named, results[: len(named)], strict=True):
        regie[pair].results[name] = result
    return Exchange(regie, dict(zip(NODE_ALGS, results[len(named) :], strict=True)))


# --- Regie issues and presents, node verifies ----------------------------------------------


@pytest.mark.parametrize("pair", list(PAIRS))
def test_node_verifies_regie_issuer_brp_credential(exchange: Exchange, pair: str) -> None:
    made = exchange.regie[pair]
    issued, shown = made.results["brp-issued"], made.results["brp-shown"]
    assert issued["ok"], issued
    assert shown["ok"], shown
    ours = regie_verify(made.brp_issued, made.trusted, key_binding=False, status=made.status)
    assert issued["payload"] == ours.claims
    assert issued["kb"] is None
    ours = regie_verify(made.brp_shown, made.trusted, key_binding=True, status=made.status)
    assert shown["payload"] == ours.claims
    assert ours.claims["address"] == {"locality": "Utrecht", "country": "NL"}
    assert "birthdate" not in shown["payload"]
    alg = PAIRS[pair][0].value
    assert shown["header"] == {"alg": alg, "typ": "dc+sd-jwt", "kid": made.issuer_jwk["kid"]}
    assert shown["kb"]["header"] == {"alg": PAIRS[pair][1].value, "typ": "kb+jwt"}
    assert shown["kb"]["payload"] == ours.key_binding


@pytest.mark.parametrize("pair", list(PAIRS))
def test_node_verifies_regie_nested_and_array_disclosures(exchange: Exchange, pair: str) -> None:
    made = exchange.regie[pair]
    shown = made.results["direct-shown"]
    assert shown["ok"], shown
    ours = regie_verify(
        made.direct_shown, made.trusted, key_binding=True, status=UNSAFE_SKIP_STATUS
    )
    permanent = {name: made.direct_payload[name] for name in ("iss", "vct", "iat", "exp", "cnf")}
    assert ours.claims == {**permanent, **DIRECT_SHOWN}
    assert shown["payload"] == ours.claims


#: negative controls: node is really checking (exact library messages at 0.19.0)
NODE_REFUSALS = {
    "bad-required-claim": ("SDJWTException", "Missing required claim keys: birthdate"),
    "bad-nonce": ("SDJWTException", "Verify Error: Invalid Nonce"),
    "bad-audience": ("PEER_AUDIENCE_MISMATCH", None),
    "bad-signature": ("SDJWTException", "Verify Error: Invalid JWT Signature"),
    "bad-revoked": ("SDJWTException", "Status is not valid"),
}


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("case", list(NODE_REFUSALS))
def test_node_refuses_broken_regie_presentations(exchange: Exchange, pair: str, case: str) -> None:
    made = exchange.regie[pair]
    assert made.results["brp-shown"]["ok"]  # positive control: the unchanged presentation
    result = made.results[case]
    code, message = NODE_REFUSALS[case]
    assert not result["ok"], result
    assert result["code"] == code
    if message is not None:
        assert result["message"] == message


@pytest.mark.parametrize("pair", list(PAIRS))
def test_node_and_regie_agree_on_revocation(exchange: Exchange, pair: str) -> None:
    """Node reads Regie's Token Status List as Regie does: the revoked entry is refused."""
    made = exchange.regie[pair]
    assert made.results["bad-revoked"]["message"] == "Status is not valid"
    ((uri, token),) = made.revoked_lists.items()
    revoked = verify_status_list(token, keys=made.trusted[BRP.issuer_id], uri=uri, now=NOW)
    with pytest.raises(RegieError) as caught:
        regie_verify(
            made.brp_shown,
            made.trusted,
            key_binding=True,
            status=lambda uri, idx: revoked.status(idx),
        )
    assert type(caught.value) is StatusRefused
    assert caught.value.code is Code.REVOKED


# --- node issues and presents, Regie verifies ----------------------------------------------


@pytest.mark.parametrize(
    ("alg", "holder_alg"), NODE_ALGS, ids=[f"{a}-issuer-{h}-holder" for a, h in NODE_ALGS]
)
def test_regie_verifies_node_credential(exchange: Exchange, alg: str, holder_alg: str) -> None:
    made = exchange.node_issued[(alg, holder_alg)]
    assert made["ok"], made
    key = public_key_from_jwk(made["issuerJwk"], registering=True)
    assert made["kid"] == key.thumbprint()  # jose's RFC 7638 thumbprint is ours
    trusted = {NODE_ISS: {key.thumbprint(): key}}
    cnf = {"jwk": made["holderJwk"]}

    issued = regie_verify(made["credential"], trusted, key_binding=False, status=UNSAFE_SKIP_STATUS)
    assert issued.claims == {**NODE_CLAIMS, "cnf": cnf}
    assert issued.header == {"typ": "dc+sd-jwt", "kid": key.thumbprint(), "alg": alg}

    shown = regie_verify(made["presentation"], trusted, key_binding=True, status=UNSAFE_SKIP_STATUS)
    assert shown.claims == {**NODE_SHOWN, "cnf": cnf}
    assert shown.claims == made["claims"]  # what node's own verifier reads
    assert shown.holder_key == public_key_from_jwk(made["holderJwk"])
    assert shown.key_binding is not None
    assert {k: shown.key_binding[k] for k in ("iat", "aud", "nonce")} == {
        "iat": NOW,
        "aud": AUDIENCE,
        "nonce": NONCE,
    }
