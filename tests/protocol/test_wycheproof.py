"""Wycheproof Ed25519 and ECDSA P-256 (IEEE P1363, i.e. JWS r||s) vectors through Regie's keys.

Every vector goes through our verification core, :meth:`Ed25519PublicKey.verify`
(libsodium) and :meth:`P256PublicKey.verify` (OpenSSL via cryptography, with our
length and range checks in front). ``valid`` must verify; ``invalid`` must raise
:class:`SignatureRefused`. Neither file contains ``acceptable`` cases at the
pinned commit; should an update add some, our behaviour is asserted to be
*refusal* (the strict reading) and the test names them.

Source: C2SP/wycheproof ``testvectors_v1`` (commit in ``SOURCE_COMMIT``, Apache-2.0).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from regie_protocol.errors import Code, KeyRefused, SignatureRefused
from regie_protocol.keys import Ed25519PublicKey, P256PublicKey, PublicKey

VECTORS = Path(__file__).parent.parent / "vectors" / "wycheproof"
ED25519_FILE = VECTORS / "ed25519_test.json"
P256_FILE = VECTORS / "ecdsa_secp256r1_sha256_p1363_test.json"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _cases(path: Path) -> list[Any]:
    data = _load(path)
    params = []
    for group in data["testGroups"]:
        for test in group["tests"]:
            comment = test["comment"].replace(" ", "-") or "no-comment"
            params.append(pytest.param(group, test, id=f"tcId-{test['tcId']}-{comment}"))
    return params


def ed25519_key(group: dict[str, Any]) -> PublicKey:
    return Ed25519PublicKey(bytes.fromhex(group["publicKey"]["pk"]))


def p256_key(group: dict[str, Any]) -> PublicKey:
    loaded = load_der_public_key(bytes.fromhex(group["publicKeyDer"]))
    assert isinstance(loaded, ec.EllipticCurvePublicKey)
    return P256PublicKey.from_cryptography(loaded)


def check(key: PublicKey, test: dict[str, Any]) -> None:
    message, signature = bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    if test["result"] == "valid":
        key.verify(message, signature)
        return
    # "invalid", and "acceptable" by our strict choice
    with pytest.raises(SignatureRefused) as caught:
        key.verify(message, signature)
    assert caught.value.code is Code.SIGNATURE_INVALID


@pytest.mark.parametrize(("group", "test"), _cases(ED25519_FILE))
def test_ed25519(group: dict[str, Any], test: dict[str, Any]) -> None:
    check(ed25519_key(group), test)


@pytest.mark.parametrize(("group", "test"), _cases(P256_FILE))
def test_ecdsa_p256_p1363(group: dict[str, Any], test: dict[str, Any]) -> None:
    check(p256_key(group), test)


@pytest.mark.parametrize(
    ("path", "total", "valid", "invalid"),
    [
        pytest.param(ED25519_FILE, 151, 88, 63, id="ed25519"),
        pytest.param(P256_FILE, 262, 173, 89, id="ecdsa-p256-p1363"),
    ],
)
def test_counts(
    path: Path, total: int, valid: int, invalid: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """The files are the ones the figures cite, and every case was run (no silent skips)."""
    data = _load(path)
    results = Counter(t["result"] for g in data["testGroups"] for t in g["tests"])
    assert data["numberOfTests"] == total
    assert sum(results.values()) == total
    assert results == Counter({"valid": valid, "invalid": invalid})
    assert len(_cases(path)) == total
    with capsys.disabled():
        print(f"\nWycheproof {path.name}: {total} cases ({valid} valid, {invalid} invalid)")


def test_every_p256_group_key_imports_and_no_invalid_key_groups() -> None:
    """The P-256 file only has on-curve keys (KeyRefused would be the answer to others)."""
    for group in _load(P256_FILE)["testGroups"]:
        key = p256_key(group)
        assert key.thumbprint()


def test_ed25519_group_keys_and_registration() -> None:
    """All Ed25519 group keys import; none is a small-order point refused at registration."""
    refused = []
    for group in _load(ED25519_FILE)["testGroups"]:
        key = ed25519_key(group)
        assert isinstance(key, Ed25519PublicKey)
        try:
            key.check_strong()
        except KeyRefused:
            refused.append(group["publicKey"]["pk"])
    assert refused == []


def test_source_is_pinned() -> None:
    commit = (VECTORS / "SOURCE_COMMIT").read_text(encoding="utf-8").split()[0]
    assert len(commit) == 40
    assert "Apache License" in (VECTORS / "LICENSE").read_text(encoding="utf-8")
