"""A witness on a real SQLite file, trusting one test log, reached through its ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from audit.witness.app import create_app
from audit.witness.service import Witness
from audit.witness.store import WitnessStore
from regie_protocol.tlog.note import CosignerKey
from tests.verifier.asgi import SyncAsgiTransport

from .world import T0, Clock, TestLog

WITNESS_NAME = "witness.example/w1"
LOG_ORIGIN = "wallet.example/log"
BASE_URL = "http://witness.test"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def witness_key() -> CosignerKey:
    return CosignerKey.generate(WITNESS_NAME)


@pytest.fixture
def log() -> TestLog:
    return TestLog.create(LOG_ORIGIN, 16)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "witness.sqlite3"


@pytest.fixture
def store(db_path: Path, log: TestLog) -> WitnessStore:
    store = WitnessStore.open(db_path)
    store.trust_log(log.key.verifier(), now=T0)
    return store


@pytest.fixture
def witness(witness_key: CosignerKey, store: WitnessStore, clock: Clock) -> Witness:
    return Witness(witness_key, store, clock)


@pytest.fixture
def app(witness: Witness) -> FastAPI:
    return create_app(witness, base_url=BASE_URL)


def client_for(app: FastAPI) -> httpx.Client:
    return httpx.Client(transport=SyncAsgiTransport(app), base_url=BASE_URL)


@pytest.fixture
def client(app: FastAPI) -> Iterator[httpx.Client]:
    with client_for(app) as client:
        yield client
