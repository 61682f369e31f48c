"""The vault's AEAD wrapper against Wycheproof and against PyNaCl's own APIs.

All 315 Wycheproof XChaCha20-Poly1305 vectors (C2SP/wycheproof ``testvectors_v1``,
commit in ``tests/vectors/wycheproof/SOURCE_COMMIT``, Apache-2.0) go through
``wallet.vault._aead``: ``valid`` must encrypt to exactly ``ct || tag`` and decrypt
back; ``invalid`` (modified tags, wrong nonce sizes) must raise :class:`KeyRefused`
``key_invalid``. tcId 1 is the test vector of draft-irtf-cfrg-xchacha (§A.3.1,
"draft-arciszewski-xchacha-02"). A sealed record's inner layer is also opened with
PyNaCl's high-level ``nacl.secret.Aead`` and with ``nacl.bindings``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.secret
import pytest

from regie_protocol.errors import Code, KeyRefused, Misuse
from wallet.vault import MasterKey, _aead, open_record, seal

FILE = (
    Path(__file__).parent.parent.parent / "vectors" / "wycheproof" / "xchacha20_poly1305_test.json"
)
REFUSAL = "refused"


def _cases() -> list[Any]:
    data = json.loads(FILE.read_text(encoding="utf-8"))
    assert data["numberOfTests"] == 315
    return [
        pytest.param(test, id=f"tcId-{test['tcId']}-{test['result']}")
        for group in data["testGroups"]
        for test in group["tests"]
    ]


CASES = _cases()


def test_all_vectors_collected() -> None:
    assert len(CASES) == 315


@pytest.mark.parametrize("test", CASES)
def test_wycheproof_xchacha20_poly1305(test: dict[str, Any]) -> None:
    key, nonce = bytes.fromhex(test["key"]), bytes.fromhex(test["iv"])
    aad, msg = bytes.fromhex(test["aad"]), bytes.fromhex(test["msg"])
    sealed = bytes.fromhex(test["ct"]) + bytes.fromhex(test["tag"])
    assert test["result"] in ("valid", "invalid")
    if test["result"] == "valid":
        assert _aead.encrypt(key, nonce, msg, aad) == sealed
        assert _aead.decrypt(key, nonce, sealed, aad, refusal=REFUSAL) == msg
        return
    with pytest.raises(KeyRefused) as caught:
        _aead.decrypt(key, nonce, sealed, aad, refusal=REFUSAL)
    assert caught.value.code is Code.KEY_INVALID
    assert caught.value.message == REFUSAL
    if len(nonce) != _aead.NONCE_BYTES:
        with pytest.raises(Misuse):
            _aead.encrypt(key, nonce, msg, aad)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1024, 65537])
def test_wrapper_matches_pynacl_bindings(size: int) -> None:
    key, nonce, aad, msg = os.urandom(32), os.urandom(24), os.urandom(size % 40), os.urandom(size)
    ours = _aead.encrypt(key, nonce, msg, aad)
    assert ours == nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, aad, nonce, key)
    assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ours, aad, nonce, key) == msg
    assert _aead.decrypt(key, nonce, ours, aad, refusal=REFUSAL) == msg


@pytest.mark.parametrize(
    ("key", "nonce", "aad"),
    [
        pytest.param(b"k" * 31, b"n" * 24, b"", id="short-key"),
        pytest.param(bytearray(32), b"n" * 24, b"", id="key-not-bytes"),
        pytest.param(b"k" * 32, b"n" * 12, b"", id="chacha-sized-nonce"),
        pytest.param(b"k" * 32, b"n" * 24, "aad", id="aad-not-bytes"),
    ],
)
def test_wrapper_refuses_misuse_before_calling_libsodium(key: Any, nonce: Any, aad: Any) -> None:
    _aead.encrypt(b"k" * 32, b"n" * 24, b"m", b"")  # positive control
    with pytest.raises(Misuse):
        _aead.encrypt(key, nonce, b"m", aad)


def test_sealed_inner_layer_opens_with_pynacl_high_level_aead(master: MasterKey) -> None:
    """Independent check: unwrap the DEK and open the data with ``nacl.secret.Aead``."""
    from wallet.vault._seal import _aad

    plaintext = b"BRP: Domstraat 1, Utrecht" * 40
    where: dict[str, Any] = {"table": "credentials", "record_id": "cred-1", "owner": "user-7"}
    sealed = seal(master, schema_version=3, plaintext=plaintext, **where)
    assert open_record(master, sealed, schema_version=3, **where) == plaintext
    aad = _aad(1, where["table"], where["record_id"], where["owner"], 3, master.key_id)
    wrap = nacl.secret.Aead(master._record_wrap_key())
    dek = wrap.decrypt(sealed.dek_nonce + sealed.wrapped_dek, b"\x01" + aad)
    inner = nacl.secret.Aead(dek).decrypt(sealed.nonce + sealed.ciphertext, b"\x02" + aad)
    assert inner == plaintext
