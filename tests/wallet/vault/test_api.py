"""The public surface of wallet.vault is exactly what ``__all__`` names."""

from __future__ import annotations

import wallet.vault as vault

EXPECTED = {
    "MAX_RECORD_BYTES",
    "MAX_SEALED_BYTES",
    "RECORD_REFUSED",
    "UNLOCK_REFUSED",
    "KdfFloor",
    "KdfParams",
    "MasterKey",
    "Randomness",
    "SealedRecord",
    "VaultPassphrase",
    "WrappedMasterKey",
    "check_passphrase",
    "generate_master_key",
    "open_record",
    "passphrase_problems",
    "reseal",
    "rewrap_master_key",
    "seal",
    "unlock",
    "wrap_master_key",
}


def test_exported_members() -> None:
    assert set(vault.__all__) == EXPECTED
    public = {name for name in vars(vault) if not name.startswith("_")}
    assert public == EXPECTED
