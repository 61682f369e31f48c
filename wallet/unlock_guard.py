"""Repeated failures slow down: a failed unlock makes the next attempt wait (T25).

The count lives in a small file in the wallet's home (``unlock-failures``,
mode 0600, replaced atomically), not in the vault: a wrong passphrase leaves
the database byte-for-byte unchanged. After ``n`` failures the next attempt
first waits ``2**(n-1)`` seconds, at most :data:`MAX_DELAY`; a success resets
the count. An unreadable count file counts as one failure, never as none.

This slows a person or script guessing through Regie; an attacker holding the
database file guesses offline, against Argon2id, and is slowed by that alone.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from regie_protocol.errors import KeyRefused

from .core import UnlockedWallet, unlock_wallet
from .storage import Database
from .vault import KdfFloor, VaultPassphrase

FAILURES_FILE = "unlock-failures"
#: the longest wait before an attempt, in seconds
MAX_DELAY = 30.0
_MAX_COUNT = 1_000_000


def delay_after(failures: int) -> float:
    """Seconds to wait before the next attempt after ``failures`` failed ones."""
    if failures <= 0:
        return 0.0
    return min(MAX_DELAY, float(2 ** min(failures - 1, 16)))


class UnlockGuard:
    """Counts failed unlocks of one home and delays the next attempt.

    ``sleep`` is injected so tests need not wait.
    """

    def __init__(self, home: Path, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = home / FAILURES_FILE
        self._sleep = sleep

    def failures(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError):
            return 1
        if not text.isdigit() or len(text) > 7:
            return 1
        return min(int(text), _MAX_COUNT)

    def unlock(
        self,
        db: Database,
        passphrase: VaultPassphrase,
        *,
        floor: KdfFloor,
        owner: str | None = None,
    ) -> UnlockedWallet:
        """:func:`wallet.core.unlock_wallet`, after the wait the failures so far ask for."""
        count = self.failures()
        wait = delay_after(count)
        if wait:
            self._sleep(wait)
        try:
            unlocked = unlock_wallet(db, passphrase, floor=floor, owner=owner)
        except KeyRefused:
            self._record(count + 1)
            raise
        if count:
            self.reset()
        return unlocked

    def reset(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _record(self, count: int) -> None:
        """Write the count atomically: a temporary file (0600), fsync, rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{FAILURES_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, str(min(count, _MAX_COUNT)).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)


__all__ = ["FAILURES_FILE", "MAX_DELAY", "UnlockGuard", "delay_after"]
