"""Fixtures for the vault tests: cheap Argon2id (named unsafe) and one unlocked vault."""

from __future__ import annotations

import pytest

from wallet.vault import (
    KdfFloor,
    KdfParams,
    MasterKey,
    VaultPassphrase,
    generate_master_key,
    wrap_master_key,
)

PASSPHRASE = "kat boom huis fiets"


@pytest.fixture
def test_floor() -> KdfFloor:
    return KdfFloor.unsafe_accept_test_params()


@pytest.fixture
def passphrase() -> VaultPassphrase:
    return VaultPassphrase(PASSPHRASE)


@pytest.fixture
def master() -> MasterKey:
    return generate_master_key()


@pytest.fixture
def stored_master(master: MasterKey, passphrase: VaultPassphrase) -> bytes:
    return wrap_master_key(master, passphrase, KdfParams.unsafe_fast_for_tests()).to_bytes()
