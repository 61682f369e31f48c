"""Where a wallet lives and how strong its passphrase KDF is, validated at start.

Read from the environment (``REGIE_HOME``, ``REGIE_DATABASE_URL``,
``REGIE_KDF``, ``REGIE_WALLET_HOST_URL``) by :func:`config_from_env`, or built
directly. A wrong value is refused with a message that names the variable and
what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from regie_protocol.errors import Misuse

from .storage import Database, open_database
from .vault import KdfFloor, KdfParams

DEFAULT_HOST_URL = "http://127.0.0.1:8002"
#: ``REGIE_KDF=unsafe-fast`` makes Argon2id cheap: for tests and demos only, never a default
UNSAFE_FAST_KDF = "unsafe-fast"


@dataclass(frozen=True, slots=True)
class WalletConfig:
    home: Path
    database_url: str | None
    kdf: KdfParams | None
    floor: KdfFloor
    #: the wallet host's base URL, which serves the consent status list (issue 4)
    host_url: str = DEFAULT_HOST_URL

    def open_database(self) -> Database:
        return open_database(self.database_url, home=self.home)

    def new_kdf(self) -> KdfParams:
        return self.kdf.with_new_salt() if self.kdf is not None else KdfParams.new()


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("regie", appauthor=False))


def config_from_env(
    home: Path | None = None, environ: Mapping[str, str] | None = None
) -> WalletConfig:
    """``home`` (``--home``) wins over ``REGIE_HOME``, which wins over the user data dir."""
    env = os.environ if environ is None else environ
    chosen = home or (Path(env["REGIE_HOME"]) if env.get("REGIE_HOME") else default_home())
    kdf_choice = env.get("REGIE_KDF", "")
    if kdf_choice not in ("", UNSAFE_FAST_KDF):
        raise Misuse(f"REGIE_KDF must be empty or {UNSAFE_FAST_KDF!r}, not {kdf_choice!r}")
    fast = kdf_choice == UNSAFE_FAST_KDF
    return WalletConfig(
        home=chosen,
        database_url=env.get("REGIE_DATABASE_URL") or None,
        kdf=KdfParams.unsafe_fast_for_tests() if fast else None,
        floor=KdfFloor.unsafe_accept_test_params() if fast else KdfFloor.production(),
        host_url=env.get("REGIE_WALLET_HOST_URL") or DEFAULT_HOST_URL,
    )


__all__ = ["DEFAULT_HOST_URL", "UNSAFE_FAST_KDF", "WalletConfig", "config_from_env", "default_home"]
