"""Crash safety (T30) and concurrent grants, with real processes on SQLite and PostgreSQL.

A child process (``crash_child.py``) grants and revokes in a loop and prints an
acknowledgement after each commit; the parent SIGKILLs it at a random moment,
many times over, and then checks that every acknowledged grant and revocation
is there, that nothing is half-written, that every sealed record opens, and
that no revocation was undone.

The normal suite kills :data:`QUICK_KILLS` times per backend; the ``slow``
soak (``make soak``) :data:`SOAK_KILLS` times.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from regie_protocol.consent import verify_consent
from regie_protocol.statuslist import Status
from tests.wallet.databases import Target
from wallet import consent_status, consents
from wallet.storage import Consent, ConsentEvent, Database, Record, StatusAllocation

from .helpers import VERIFIER, setup_wallet

CHILD = Path(__file__).with_name("crash_child.py")
NOW = 1_790_000_000
QUICK_KILLS = 10
SOAK_KILLS = int(os.environ.get("REGIE_SOAK_KILLS", "200"))


def _child(target: Target, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(target.home), target.url or "-", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _acks(lines: list[str]) -> tuple[dict[str, tuple[str, int]], set[str]]:
    grants: dict[str, tuple[str, int]] = {}
    revocations: set[str] = set()
    for line in lines:
        parts = line.split()
        if parts[:1] == ["G"] and len(parts) == 4:
            grants[parts[1]] = (parts[2], int(parts[3]))
        elif parts[:1] == ["R"] and len(parts) == 2:
            revocations.add(parts[1])
    return grants, revocations


def kill_many(target: Target, kills: int, seed: int) -> tuple[dict[str, tuple[str, int]], set[str]]:
    rng = random.Random(seed)
    grants: dict[str, tuple[str, int]] = {}
    revocations: set[str] = set()
    for round_ in range(kills):
        child = _child(target, "stream", str(rng.randrange(2**32)))
        assert child.stdout is not None
        ready = child.stdout.readline()
        if ready.strip() != "ready":
            child.kill()
            _, err = child.communicate()
            pytest.fail(f"round {round_}: the child did not start: {ready!r} {err[-2000:]}")
        time.sleep(rng.uniform(0.0, 0.12))
        child.send_signal(signal.SIGKILL)
        rest, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err[-2000:]
        got, revoked = _acks(rest.splitlines())
        grants.update(got)
        revocations |= revoked
    return grants, revocations


def check_after_crashes(
    db: Database, grants: dict[str, tuple[str, int]], revocations: set[str]
) -> None:
    from tests.wallet.consents.helpers import PASSPHRASE
    from wallet.core import unlock_wallet
    from wallet.vault import KdfFloor, VaultPassphrase

    db.integrity_check()
    wallet = unlock_wallet(
        db, VaultPassphrase(PASSPHRASE), floor=KdfFloor.unsafe_accept_test_params()
    )
    rows = {r["id"]: r for r in db.fetch_all(select(Consent))}
    allocations = {(a["status_list_id"], a["idx"]) for a in db.fetch_all(select(StatusAllocation))}
    events = db.fetch_all(select(ConsentEvent))
    by_consent: dict[str, Counter[str]] = {}
    for event in events:
        assert event["consent_id"] in rows, "an event without its consent"
        by_consent.setdefault(event["consent_id"], Counter())[event["name"]] += 1
    # every acknowledged grant is present, with the index it was acknowledged with
    for consent_id, (list_id, idx) in grants.items():
        assert consent_id in rows, f"acknowledged grant {consent_id} is missing"
        assert (rows[consent_id]["status_list_id"], rows[consent_id]["status_idx"]) == (
            list_id,
            idx,
        )
    # nothing half-written: each consent has its allocation and exactly one grant event;
    # each withdrawn one its event and its bit; no given one has either
    seen_indices = set()
    for consent_id, row in rows.items():
        place = (row["status_list_id"], row["status_idx"])
        assert place in allocations and place not in seen_indices
        seen_indices.add(place)
        names = by_consent.get(consent_id, Counter())
        assert names["consent.granted"] == 1, f"{consent_id}: {names}"
        bit = wallet.db.run(lambda c, p=place: consent_status.get_status(c, *p), write=False)
        if row["state"] == "withdrawn":
            assert names["consent.withdrawn"] == 1 and row["ended_at"] is not None
            assert bit == Status.INVALID
        else:
            assert row["state"] == "given" and names["consent.withdrawn"] == 0
            assert bit == Status.VALID and row["ended_at"] is None
    # no revocation undone
    for consent_id in revocations:
        assert rows[consent_id]["state"] == "withdrawn", f"revocation of {consent_id} undone"
    # every sealed record opens, and every token verifies with its pairwise key
    kinds = {r["kind"] for r in db.fetch_all(select(Record.kind).distinct())}
    opened = [record for kind in kinds for record in wallet.find(kind)]
    assert len(opened) == len(db.fetch_all(select(Record.id)))
    for row in rows.values():
        view = consents.show(wallet, row["id"], now=NOW)
        key = consents.pairwise_public_key(wallet, VERIFIER, str(view.claims["iss"]))
        verify_consent(
            view.token, holder_keys={key.thumbprint_uri(): key}, audience=VERIFIER, now=NOW
        )


def _run(target: Target, kills: int) -> tuple[int, int, int]:
    with target.open() as db:
        setup_wallet(db, now=NOW)
    grants, revocations = kill_many(target, kills, seed=kills)
    with target.open() as db:
        check_after_crashes(db, grants, revocations)
        total = len(db.fetch_all(select(Consent.id)))
    return len(grants), len(revocations), total


def test_kill_9_during_grants_and_revocations(target: Target) -> None:
    grants, _, total = _run(target, QUICK_KILLS)
    assert grants > 0 and total >= grants


@pytest.mark.slow
def test_kill_9_soak(target: Target) -> None:
    started = time.monotonic()
    grants, revocations, total = _run(target, SOAK_KILLS)
    took = time.monotonic() - started
    print(
        f"\n{target.backend}: {SOAK_KILLS} kills, {grants} grants and {revocations} "
        f"revocations acknowledged, {total} consents stored, all checks passed, {took:.0f} s"
    )


def test_two_processes_never_share_an_index(target: Target) -> None:
    with target.open() as db:
        setup_wallet(db, now=NOW)
    children = [_child(target, "grants", "25", str(seed)) for seed in (1, 2)]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-3000:]
    grants = [_acks(out.splitlines())[0] for out, _ in outputs]
    assert all(len(g) == 25 for g in grants)
    places = [place for g in grants for place in g.values()]
    assert len(set(places)) == 50
    with target.open() as db:
        check_after_crashes(db, {**grants[0], **grants[1]}, set())
