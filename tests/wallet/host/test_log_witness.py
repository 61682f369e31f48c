"""The host has its checkpoints cosigned by a real witness (C2SP tlog-witness) over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from audit.witness.app import create_app as witness_app
from audit.witness.service import Witness as WitnessService
from audit.witness.store import WitnessStore
from regie_protocol.errors import LogRefused
from regie_protocol.tlog.checkpoint import open_checkpoint
from regie_protocol.tlog.note import CosignerKey
from tests.serving import serve_app
from wallet.host import witnessing
from wallet.host.witnessing import Witness

from .world import NOW, World

pytestmark = pytest.mark.service


@pytest.fixture
def cosigner() -> CosignerKey:
    return CosignerKey.generate("witness.regie.example/w1")


@pytest.fixture
def witness_url(sqlite_world: World, cosigner: CosignerKey, tmp_path: Path) -> Iterator[str]:
    store = WitnessStore.open(tmp_path / "witness.sqlite3")
    store.trust_log(sqlite_world.client.app.state.host.log.key.verifier(), now=NOW)
    app: FastAPI = witness_app(
        WitnessService(cosigner, store, lambda: NOW), base_url="http://127.0.0.1"
    )
    with serve_app(app, ready="/v1/logs", name="the witness") as base:
        yield base


def test_checkpoints_are_cosigned_and_the_witness_follows_the_log(
    sqlite_world: World, witness_url: str, cosigner: CosignerKey
) -> None:
    w = sqlite_world
    log = w.client.app.state.host.log
    log.witnesses = (Witness(witness_url, cosigner.verifier()),)
    granted = w.consent()
    w.clock.now = NOW + 60
    assert w.read(granted.token).status_code == 200

    first = open_checkpoint(
        log.sign_now(now=w.clock.now), log.key.verifier(), witnesses=[cosigner.verifier()], quorum=1
    )
    for step in range(3):
        w.clock.now = NOW + 120 + step * 10
        assert w.read(granted.token).status_code == 200
    witnessing._known_sizes.clear()  # a restarted host: the witness's 409 tells it where it is
    served = w.client.get("/v1/log/checkpoint").content
    assert served  # the reads' own checkpoints are signed but not yet cosigned
    second = open_checkpoint(
        log.sign_now(now=w.clock.now), log.key.verifier(), witnesses=[cosigner.verifier()], quorum=1
    )
    assert second.checkpoint.size > first.checkpoint.size
    # what the host serves now carries the cosignature
    latest = w.client.get("/v1/log/checkpoint").content
    assert (
        open_checkpoint(
            latest, log.key.verifier(), witnesses=[cosigner.verifier()], quorum=1
        ).checkpoint
        == second.checkpoint
    )


def test_an_unreachable_witness_leaves_the_checkpoint_uncosigned(sqlite_world: World) -> None:
    w = sqlite_world
    log = w.client.app.state.host.log
    other = CosignerKey.generate("witness.regie.example/down")
    log.witnesses = (Witness("http://127.0.0.1:9", other.verifier()),)
    note = log.sign_now(now=NOW)
    with pytest.raises(LogRefused):
        open_checkpoint(note, log.key.verifier(), witnesses=[other.verifier()], quorum=1)
    open_checkpoint(note, log.key.verifier())


def test_the_interval_signs_only_when_the_log_grew(sqlite_world: World) -> None:
    w = sqlite_world
    log = w.client.app.state.host.log
    granted = w.consent()
    assert log.tick(now=NOW + 1) is True  # the grant is not under a checkpoint yet
    assert log.tick(now=NOW + 2) is False  # nothing new
    w.clock.now = NOW + 60
    assert w.read(granted.token).status_code == 200  # the read's batch signs its own
    assert log.tick(now=NOW + 61) is False
    assert log.state.current() is not None  # the interval's checkpoint is recorded outside
