"""The verifier's small parts: identity (0600, strict), trust, fetch allow-list, problems."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

import verifier
from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyRefused,
    MalformedInput,
    Misuse,
    Refused,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.keys import Alg, EncryptionKey, SigningKey
from regie_protocol.registry import RegisteredVerifier
from verifier.fetch import AllowListFetcher
from verifier.identity import VerifierIdentity, load_identity, save_identity
from verifier.policy import is_under
from verifier.problems import refusal_from_response
from verifier.trust import Trust, load_trust, parse_jwks, save_trust

DESK = "https://parkeren.utrecht.example"
HOST = "https://wallet.example"


def test_public_surface_is_exactly_all() -> None:
    public = {name for name in dir(verifier) if not name.startswith("_")}
    modules = {
        "client",
        "dependency",
        "fetch",
        "identity",
        "policy",
        "problems",
        "purge",
        "settings",
        "status_cache",
        "store",
        "trust",
        "verify",
        "context",
        "example_service",
    }
    assert public - (modules - set(verifier.__all__)) == set(verifier.__all__)


@pytest.mark.parametrize("alg", [Alg.EDDSA, Alg.ES256])
def test_identity_round_trip_is_0600_and_registrable(tmp_path: Path, alg: Alg) -> None:
    identity = VerifierIdentity.generate(DESK, "Gemeente Utrecht — Parkeren", alg=alg)
    path = tmp_path / "identity.json"
    save_identity(identity, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded = load_identity(path)
    assert loaded.jkt == identity.jkt
    assert loaded.encryption_key.public_key.raw == identity.encryption_key.public_key.raw
    entry = RegisteredVerifier.from_json(
        identity.registration(
            attributes={"address"}, purposes={"https://w3id.org/dpv#ServiceProvision"}
        )
    )
    assert entry.keys_by_kid[identity.jkt] == identity.signing_key.public_key
    assert all("d" not in jwk for jwk in identity.public_jwks()["keys"])
    assert str(identity.signing_key.public_key.thumbprint()) in repr(identity)
    private_d = json.loads(path.read_text())["signingKey"]["d"]
    assert private_d not in repr(identity)


def test_identity_file_refusals(tmp_path: Path) -> None:
    identity = VerifierIdentity.generate(DESK, "Parkeren")
    path = tmp_path / "identity.json"
    save_identity(identity, path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyRefused) as caught:
        load_identity(path)
    assert caught.value.code is Code.KEY_FILE_EXPOSED
    os.chmod(path, 0o600)
    value: dict[str, Any] = json.loads(path.read_text())
    for change in ({"extra": 1}, {"version": 2}, {"version": True}):
        with pytest.raises(MalformedInput):
            VerifierIdentity.from_private_json({**value, **change})
    with pytest.raises(Misuse):
        VerifierIdentity.from_private_json({**value, "id": "https://Upper.example"})
    with pytest.raises(KeyRefused):
        VerifierIdentity.from_private_json({**value, "signingKey": "nope"})
    with pytest.raises(Misuse):
        load_identity(tmp_path / "missing.json")
    with pytest.raises(Misuse):
        VerifierIdentity(DESK, "bad\u202ename", SigningKey.generate(), EncryptionKey.generate())


def test_trust_round_trip_and_refusals(tmp_path: Path) -> None:
    key = SigningKey.generate(Alg.ES256)
    path = tmp_path / "trust.json"
    assert load_trust(path) == Trust()
    trust = Trust().with_host(HOST, {key.kid: key.public_key})
    trust = trust.with_issuer("http://127.0.0.1:8001", {"k1": key.public_key})
    save_trust(trust, path)
    loaded = load_trust(path)
    assert loaded.wallet_hosts[HOST][key.kid] == key.public_key
    assert loaded.issuers["http://127.0.0.1:8001"]["k1"] == key.public_key
    with pytest.raises(Misuse):
        Trust().with_host("http://wallet.example", {})  # plain http beyond this machine
    with pytest.raises(KeyRefused):
        parse_jwks({"keys": []}, what="x")
    with pytest.raises(KeyRefused):  # a private key where a public one belongs
        parse_jwks(
            {"keys": [json.loads(key.export_private_jwk(protection=_unprotected()))]}, what="x"
        )
    only_enc = {"keys": [EncryptionKey.generate().public_key.to_jwk()]}
    with pytest.raises(KeyRefused):
        parse_jwks(only_enc, what="x")
    with pytest.raises(MalformedInput):
        Trust.from_json({"version": 1, "walletHosts": {}})


def _unprotected() -> Any:
    from regie_protocol.keys import Unprotected

    return Unprotected()


@pytest.mark.parametrize(
    ("uri", "under"),
    [
        (HOST + "/v1/status-lists/consents-1", True),
        (HOST, False),
        (HOST + ".evil.example/v1/x", False),
        (HOST + "/v1/../x", False),
        (HOST + "/v1/%2e%2e/x", False),
        (HOST + "/v1/x?y=1", False),
        (HOST + "/v1/x#f", False),
        ("https://user@wallet.example/v1/x", False),
    ],
)
def test_is_under(uri: str, under: bool) -> None:
    assert is_under(uri, HOST) is under


def test_fetcher_allow_list_size_and_status() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path.endswith("/big"):
            return httpx.Response(200, content=b"x" * 2048)
        if request.url.path.endswith("/moved"):
            return httpx.Response(302, headers={"Location": "https://evil.example/"})
        return httpx.Response(200, content=b"token")

    fetch = AllowListFetcher(
        [HOST], http=httpx.Client(transport=httpx.MockTransport(handler)), max_bytes=1024
    )
    assert fetch(HOST + "/v1/status-lists/1") == b"token"
    with pytest.raises(Refused) as caught:
        fetch("https://evil.example/v1/status-lists/1")
    assert caught.value.code is Code.URL_REFUSED
    with pytest.raises(Refused) as caught:
        fetch(HOST + "/big")
    assert caught.value.code is Code.SIZE_EXCEEDED
    with pytest.raises(Unavailable):
        fetch(HOST + "/moved")  # redirects are not followed
    assert seen == [HOST + "/v1/status-lists/1", HOST + "/big", HOST + "/moved"]


@pytest.mark.parametrize(
    ("status", "problem", "expected", "code"),
    [
        (403, "revoked", StatusRefused, Code.REVOKED),
        (403, "expired", TimeRefused, Code.EXPIRED),
        (401, "dpop_replayed", SignatureRefused, Code.DPOP_REPLAYED),
        (403, "not_consented", ClaimRefused, Code.NOT_CONSENTED),
        (400, "malformed", MalformedInput, Code.MALFORMED),
        (404, "not_found", ClaimRefused, Code.CONSENT_UNKNOWN),
        (401, "unauthenticated", SignatureRefused, Code.SIGNATURE_INVALID),
        (429, "rate_limited", Unavailable, Code.UNAVAILABLE),
        (503, "unavailable", Unavailable, Code.UNAVAILABLE),
        (403, None, ClaimRefused, Code.CLAIM_INVALID),
    ],
)
def test_problems_become_typed_refusals(
    status: int, problem: str | None, expected: type[Exception], code: Code
) -> None:
    body = (
        {"type": f"https://regie.example/problems/{problem}", "title": "T", "status": status}
        if problem
        else None
    )
    response = (
        httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})
        if body
        else httpx.Response(status, text="<html>")
    )
    error = refusal_from_response(response, what="the read", not_found=Code.CONSENT_UNKNOWN)
    assert type(error) is expected
    assert error.code is code
