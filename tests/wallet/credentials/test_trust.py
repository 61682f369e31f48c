"""Trust: issuers from a JWKS or from their metadata, and the verifier registry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from regie_protocol.errors import (
    ClaimRefused,
    Code,
    KeyRefused,
    Misuse,
    RegieError,
    SignatureRefused,
    TimeRefused,
)
from regie_protocol.keys import Alg, SigningKey, Unprotected
from regie_protocol.registry import RegisteredVerifier, Registry
from wallet.core import UnlockedWallet
from wallet.registry_store import add_registry, load_registry
from wallet.trust import (
    add_issuer,
    fetch_issuer_jwks,
    issuer_keys,
    metadata_url,
    trusted_issuers,
)

from .helpers import ISSUER_ID, AsgiFetcher, IssuerWorld

DPV = "https://w3id.org/dpv#"
REGISTRAR = "https://registrar.example"


def test_metadata_url() -> None:
    assert metadata_url("https://a.example") == "https://a.example/.well-known/jwt-vc-issuer"
    assert (
        metadata_url("https://a.example/t/1") == "https://a.example/.well-known/jwt-vc-issuer/t/1"
    )
    given = "https://a.example/.well-known/jwt-vc-issuer"
    assert metadata_url(given) == given


def test_issuer_from_metadata(
    wallet: UnlockedWallet, world: IssuerWorld, fetcher: AsgiFetcher, now: int
) -> None:
    jwks = fetch_issuer_jwks(ISSUER_ID, ISSUER_ID, fetcher=fetcher)
    info, replaced = add_issuer(wallet, ISSUER_ID, jwks, now=now)
    assert not replaced and info.kids == (world.key.kid,)
    assert fetcher.fetched == [ISSUER_ID + "/.well-known/jwt-vc-issuer"]
    assert issuer_keys(wallet) == {ISSUER_ID: {world.key.kid: world.key.public_key}}
    _, replaced = add_issuer(wallet, ISSUER_ID, jwks, now=now + 1)
    assert replaced
    assert [i.issuer_id for i in trusted_issuers(wallet)] == [ISSUER_ID]


def test_metadata_for_another_issuer_is_refused(world: IssuerWorld, fetcher: AsgiFetcher) -> None:
    with pytest.raises(ClaimRefused) as caught:
        fetch_issuer_jwks("https://other.example", ISSUER_ID, fetcher=fetcher)
    assert caught.value.code is Code.CLAIM_INVALID


def _jwk(**changes: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = SigningKey.generate(Alg.EDDSA).public_key.to_jwk()
    jwk.update(changes)
    return {k: v for k, v in jwk.items() if v is not None}


def _private_jwk() -> dict[str, Any]:
    text = SigningKey.generate(Alg.EDDSA).export_private_jwk(protection=Unprotected())
    jwk: dict[str, Any] = json.loads(text)
    return jwk


JWKS_CASES: dict[str, tuple[Any, type[RegieError], Code]] = {
    "private key": ({"keys": [_private_jwk()]}, KeyRefused, Code.PRIVATE_KEY_REFUSED),
    "small-order Ed25519 key": (
        {"keys": [_jwk(x="AQ" + "A" * 41)]}, KeyRefused, Code.KEY_WEAK),
    "no keys": ({"keys": []}, KeyRefused, Code.KEY_INVALID),
    "not a JWKS": ([], KeyRefused, Code.KEY_INVALID),
    "same kid twice": ({"keys": [_jwk(kid="a"), _jwk(kid="a")]}, KeyRefused, Code.KEY_INVALID),
}  # fmt: skip


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("jwks", "error", "code"), JWKS_CASES.values(), ids=JWKS_CASES.keys())
def test_bad_jwks_is_refused(
    wallet: UnlockedWallet, now: int, jwks: Any, error: type[RegieError], code: Code
) -> None:
    add_issuer(wallet, ISSUER_ID, {"keys": [_jwk()]}, now=now)  # positive control
    with pytest.raises(error) as caught:
        add_issuer(wallet, ISSUER_ID + "x", jwks, now=now)
    assert caught.value.code is code
    assert [i.issuer_id for i in trusted_issuers(wallet)] == [ISSUER_ID]


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "issuer_id", ["http://issuer.example", "https://issuer.example/", "ftp://x", "https://a?b=1"]
)
def test_bad_issuer_id_is_refused(wallet: UnlockedWallet, now: int, issuer_id: str) -> None:
    with pytest.raises(Misuse):
        add_issuer(wallet, issuer_id, {"keys": [_jwk()]}, now=now)


def _registry(key: SigningKey, *, version: int, now: int) -> str:
    registry = Registry.new(REGISTRAR, now=now)
    verifier = RegisteredVerifier(
        id="https://gemeente.example/parkeren",
        name="Parkeren",
        signing_keys=(SigningKey.generate(Alg.EDDSA).public_key,),
        attributes=frozenset({"address"}),
        purposes=frozenset({DPV + "ServiceProvision"}),
    )
    for _ in range(version):
        registry = registry.with_verifier(verifier, now=now)
    return registry.sign(key)


def test_registry_lifecycle(wallet: UnlockedWallet, now: int) -> None:
    registrar = SigningKey.generate(Alg.EDDSA)
    public = registrar.public_key.to_jwk()
    with pytest.raises(Misuse):
        load_registry(wallet, now=now)
    with pytest.raises(Misuse):  # the first time needs the registrar key
        add_registry(wallet, _registry(registrar, version=2, now=now), now=now)
    first, previous = add_registry(
        wallet, _registry(registrar, version=2, now=now), now=now, registrar_jwk=public
    )
    assert (first.version, previous) == (3, None)
    assert load_registry(wallet, now=now) == first
    newer, previous = add_registry(wallet, _registry(registrar, version=4, now=now), now=now)
    assert (newer.version, previous) == (5, 3)
    with pytest.raises(ClaimRefused) as rollback:
        add_registry(wallet, _registry(registrar, version=2, now=now), now=now)
    assert rollback.value.code is Code.VERSION_ROLLBACK
    other = SigningKey.generate(Alg.EDDSA)
    with pytest.raises(SignatureRefused):
        add_registry(wallet, _registry(other, version=9, now=now), now=now)
    with pytest.raises(KeyRefused) as swapped:
        add_registry(
            wallet,
            _registry(other, version=9, now=now),
            now=now,
            registrar_jwk=other.public_key.to_jwk(),
        )
    assert swapped.value.code is Code.KEY_UNKNOWN
    assert load_registry(wallet, now=now) == newer
    with pytest.raises(TimeRefused):
        load_registry(wallet, now=now + 400 * 86400)
