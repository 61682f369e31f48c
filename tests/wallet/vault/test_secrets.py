"""Secrets stay opaque: masked repr and str, constant-time equality, no hashing, no pickling."""

from __future__ import annotations

import copy
import pickle

import pytest

from regie_protocol.errors import Misuse
from wallet.vault import MasterKey, VaultPassphrase, generate_master_key

RAW = bytes(range(32))
TEXT = "kat boom huis fiets"


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(MasterKey(RAW), id="master-key"),
        pytest.param(VaultPassphrase(TEXT), id="passphrase"),
    ],
)
def test_secret_is_never_shown(secret: MasterKey | VaultPassphrase) -> None:
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert "***" in shown
        assert TEXT not in shown
        assert RAW.hex() not in shown
        assert repr(RAW) not in shown
    with pytest.raises(TypeError):
        hash(secret)
    with pytest.raises(Misuse):
        pickle.dumps(secret)
    with pytest.raises(Misuse):
        copy.copy(secret)
    assert not hasattr(secret, "__dict__")
    assert not hasattr(secret, "__bytes__")


def test_master_key_repr_shows_only_the_public_key_id() -> None:
    key = MasterKey(RAW)
    assert repr(key) == f"MasterKey(key_id={key.key_id}, ***)"


def test_equality_is_by_value_and_type() -> None:
    assert MasterKey(RAW) == MasterKey(RAW)
    assert MasterKey(RAW) != generate_master_key()
    assert VaultPassphrase(TEXT) == VaultPassphrase(TEXT)
    assert VaultPassphrase(TEXT) != VaultPassphrase(TEXT + "!")
    assert MasterKey(RAW) != RAW
    assert VaultPassphrase(TEXT) != TEXT


@pytest.mark.parametrize(
    "raw", [pytest.param(RAW[:31], id="short"), pytest.param(bytearray(RAW), id="bytearray")]
)
def test_master_key_refuses_wrong_material(raw: object) -> None:
    MasterKey(RAW)  # positive control
    with pytest.raises(Misuse):
        MasterKey(raw)  # type: ignore[arg-type]


def test_passphrase_refuses_non_text() -> None:
    with pytest.raises(Misuse):
        VaultPassphrase(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(Misuse):
        VaultPassphrase("a\ud800b")
