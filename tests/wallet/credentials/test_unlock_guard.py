"""Repeated failures slow down: 2**(n-1) s after n failed unlocks, at most 30 s; success resets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from regie_protocol.errors import Code, KeyRefused
from wallet.core import create_wallet
from wallet.storage import Database
from wallet.unlock_guard import FAILURES_FILE, MAX_DELAY, UnlockGuard, delay_after
from wallet.vault import KdfFloor, KdfParams, VaultPassphrase

from .helpers import PASSPHRASE

FLOOR = KdfFloor.unsafe_accept_test_params()


def test_delays() -> None:
    assert [delay_after(n) for n in range(8)] == [0, 1, 2, 4, 8, 16, 30, 30]
    assert delay_after(10**9) == MAX_DELAY


def test_failures_slow_down_and_success_resets(db: Database, tmp_path: Path, now: int) -> None:
    good = VaultPassphrase(PASSPHRASE)
    create_wallet(db, good, now=now, kdf=KdfParams.unsafe_fast_for_tests())
    slept: list[float] = []
    guard = UnlockGuard(tmp_path, sleep=slept.append)
    guard.unlock(db, good, floor=FLOOR)  # positive control: no wait, no file
    assert slept == [] and not (tmp_path / FAILURES_FILE).exists()
    for _ in range(7):
        with pytest.raises(KeyRefused) as caught:
            guard.unlock(db, VaultPassphrase("wrong " + PASSPHRASE), floor=FLOOR)
        assert caught.value.code is Code.KEY_INVALID
    assert slept == [1, 2, 4, 8, 16, 30]
    assert guard.failures() == 7
    assert stat.S_IMODE((tmp_path / FAILURES_FILE).stat().st_mode) == 0o600
    guard.unlock(db, good, floor=FLOOR)
    assert slept[-1] == 30 and guard.failures() == 0


@pytest.mark.parametrize("content", [b"garbage", b"-1", b"\xff\xfe", b"99999999999"])
def test_unreadable_count_is_one_failure(tmp_path: Path, content: bytes) -> None:
    (tmp_path / FAILURES_FILE).write_bytes(content)
    assert UnlockGuard(tmp_path).failures() == 1
