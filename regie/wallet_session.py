"""Opening the citizen's wallet from the command line: home, database, passphrase.

The passphrase comes from ``REGIE_PASSPHRASE`` (for scripts) or is asked for
without echo. Commands that change nothing still need it: every record is
sealed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import typer

from wallet.config import WalletConfig, config_from_env
from wallet.core import UnlockedWallet
from wallet.unlock_guard import UnlockGuard
from wallet.vault import VaultPassphrase


def read_passphrase(*, confirm: bool = False) -> VaultPassphrase:
    env = os.environ.get("REGIE_PASSPHRASE")
    if env:
        return VaultPassphrase(env)
    text: str = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    return VaultPassphrase(text)


@contextlib.contextmanager
def opened_wallet(home: Path | None) -> Iterator[tuple[WalletConfig, UnlockedWallet]]:
    """The unlocked wallet of ``home``; the database is closed afterwards.

    Failed unlocks are counted in the home directory and slow the next attempt down.
    """
    config = config_from_env(home)
    db = config.open_database()
    try:
        guard = UnlockGuard(config.home)
        yield config, guard.unlock(db, read_passphrase(), floor=config.floor)
    finally:
        db.dispose()


__all__ = ["opened_wallet", "read_passphrase"]
