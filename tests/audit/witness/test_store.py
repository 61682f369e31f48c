"""The witness store: durable SQLite settings, trusted keys, atomic steps, evidence kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import audit.witness.store as store_module
from audit.witness.store import LatestCheckpoint, RefusedSubmission, WitnessStore
from regie_protocol.errors import Code, MalformedInput, Misuse, Unavailable
from regie_protocol.tlog.note import CosignerKey, NoteKey

from .world import T0, TestLog

ORIGIN = "wallet.example/log"


def latest(size: int, root: bytes = bytes(32)) -> LatestCheckpoint:
    return LatestCheckpoint(ORIGIN, size, root, b"note", T0)


def refusal(number: int) -> RefusedSubmission:
    return RefusedSubmission(ORIGIN, T0, Code.LOG_SPLIT_VIEW, "two roots", 8, 8, b"%d" % number)


def test_the_database_is_wal_with_full_sync(tmp_path: Path) -> None:
    store = WitnessStore.open(tmp_path / "w.sqlite3")
    plain = sqlite3.connect(tmp_path / "w.sqlite3")
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        plain.close()
    with store._connection() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL


def test_a_log_key_is_trusted_once_and_only_a_log_key(tmp_path: Path) -> None:
    store = WitnessStore.open(tmp_path / "w.sqlite3")
    key = NoteKey.generate(ORIGIN)
    rotated = NoteKey.generate(ORIGIN)
    assert store.trust_log(key.verifier(), now=T0) is True
    assert store.trust_log(key.verifier(), now=T0) is False
    assert store.trust_log(rotated.verifier(), now=T0) is True
    assert set(store.trusted_keys(ORIGIN)) == {key.verifier(), rotated.verifier()}
    assert store.trusted_keys("other.example/log") == []
    with pytest.raises(MalformedInput) as refused:
        store.trust_log(CosignerKey.generate("witness.example/w2").verifier(), now=T0)
    assert refused.value.code is Code.KEY_INVALID


def test_a_step_that_raises_writes_nothing(tmp_path: Path) -> None:
    store = WitnessStore.open(tmp_path / "w.sqlite3")

    def step(_: LatestCheckpoint | None) -> tuple[None, LatestCheckpoint]:
        raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        store.check_and_update(ORIGIN, step)
    assert store.latest(ORIGIN) is None


def test_the_store_itself_refuses_to_roll_back(tmp_path: Path) -> None:
    store = WitnessStore.open(tmp_path / "w.sqlite3")
    store.check_and_update(ORIGIN, lambda _: (None, latest(8)))
    with pytest.raises(Misuse):
        store.check_and_update(ORIGIN, lambda _: (None, latest(5)))
    with pytest.raises(Misuse):
        store.check_and_update("other.example/log", lambda _: (None, latest(9)))
    stored = store.latest(ORIGIN)
    assert stored is not None
    assert stored.size == 8


def test_refusals_are_kept_oldest_first_up_to_a_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_REFUSALS_PER_ORIGIN", 3)
    store = WitnessStore.open(tmp_path / "w.sqlite3")
    for number in range(5):

        def step(_: LatestCheckpoint | None, n: int = number) -> tuple[None, RefusedSubmission]:
            return None, refusal(n)

        store.check_and_update(ORIGIN, step)
    kept = store.refusals(ORIGIN)
    assert [r.body for r in kept] == [b"2", b"3", b"4"]
    assert kept[0].code is Code.LOG_SPLIT_VIEW
    assert store.refusals("other.example/log") == []


def test_the_state_is_in_the_file(tmp_path: Path) -> None:
    log = TestLog.create(ORIGIN, 4)
    first = WitnessStore.open(tmp_path / "w.sqlite3")
    first.trust_log(log.key.verifier(), now=T0)
    first.check_and_update(ORIGIN, lambda _: (None, latest(3, log.root(3))))
    again = WitnessStore.open(tmp_path / "w.sqlite3")
    [trusted] = again.logs()
    assert trusted.keys == (log.key.verifier(),)
    assert trusted.latest == latest(3, log.root(3))


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    WitnessStore.open(tmp_path / "w.sqlite3")
    conn = sqlite3.connect(tmp_path / "w.sqlite3")
    with conn:
        conn.execute("UPDATE witness_meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(Unavailable, match="schema 99"):
        WitnessStore.open(tmp_path / "w.sqlite3")


def test_a_database_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(Unavailable):
        WitnessStore.open(tmp_path / "a-directory")
