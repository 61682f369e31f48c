"""No read after revocation: hundreds of parallel reads over real HTTP race a revoke.

On SQLite and PostgreSQL. The host app of :mod:`.world` is served by a real
uvicorn on 127.0.0.1 (:func:`tests.serving.serve_app`); its public URL stays
``HOST_URL`` (as behind a proxy), so DPoP proofs name that. Worker threads,
each with its own ``httpx.Client``, read under one consent (no ``max_uses``)
with a fresh DPoP proof per read, noting ``time.monotonic()`` just before
sending. Once :data:`REVOKE_AFTER` reads have completed, the test thread
revokes the consent (:func:`wallet.consents.revoke`, same database) and
notes when that call returned: the revocation has committed by then. The
workers go on until each has started :data:`READS_AFTER` reads after that
point and at least :data:`MIN_READS` were started in all.

Ordering only, never durations: no read that started after the revoke
returned got data; every refusal is a 403 saying the consent ended; every
200 is recorded (the consent's ``uses`` is the number of 200s, with one
``consent.used`` event per 200 carrying its use number and attributes); and
there were both. The revoke itself must succeed while the reads go on: a
verifier that reads without pause must not keep the citizen from revoking.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from regie_protocol.dpop import create_proof
from regie_protocol.http import PROBLEM_TYPE_BASE
from tests.serving import serve_app
from wallet import consents
from wallet.storage import Consent, ConsentEvent, ReadRefusal

from .world import HOST_URL, World

pytestmark = pytest.mark.service

#: reads started in all, at least
MIN_READS = 240
#: reads completed before the revoke is sent
REVOKE_AFTER = 50
#: reads each worker starts after the revoke returned, at least
READS_AFTER = 3
WORKERS = 16
#: a bound on waiting for the first reads (a hang fails instead of blocking the suite)
WAIT = 60.0
ENDED = {PROBLEM_TYPE_BASE + "consent_ended", PROBLEM_TYPE_BASE + "revoked"}


@dataclass(frozen=True)
class Outcome:
    """One read: when it was sent (monotonic seconds), when it was answered, and how."""

    started: float
    finished: float
    status: int
    body: dict[str, Any]


class Race:
    """The shared state of the readers and the revoking thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = 0
        self.completed = 0
        self.outcomes: list[Outcome] = []
        self.first_reads = threading.Event()
        #: set when the revoke was not made (it failed, or the first reads never came)
        self.stop = threading.Event()
        #: monotonic time the revoke call was sent / returned (set once, under the lock)
        self.revoke_sent: float | None = None
        self.revoked_at: float | None = None

    def take(self, after: int) -> bool:
        """May this worker start another read? Counts it as started when so."""
        with self.lock:
            if self.stop.is_set():
                return False
            if self.revoked_at is not None and after >= READS_AFTER and self.started >= MIN_READS:
                return False
            self.started += 1
            return True

    def done(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)
            self.completed += 1
            if self.completed >= REVOKE_AFTER:
                self.first_reads.set()

    def revoked_before(self, started: float) -> bool:
        with self.lock:
            return self.revoked_at is not None and started > self.revoked_at


def _reader(world: World, base: str, token: str, race: Race) -> None:
    after = 0
    with httpx.Client(base_url=base, timeout=30.0) as client:
        while race.take(after):
            proof = create_proof(
                world.a.key,
                htm="POST",
                htu=HOST_URL + "/v1/data",
                now=world.clock.now,
                access_token=token,
            )
            started = time.monotonic()
            response = client.post(
                "/v1/data", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
            )
            finished = time.monotonic()
            race.done(Outcome(started, finished, response.status_code, response.json()))
            if race.revoked_before(started):
                after += 1


def _run_race(world: World, base: str, token: str, consent_id: str) -> Race:
    race = Race()
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="reader") as pool:
        readers = [pool.submit(_reader, world, base, token, race) for _ in range(WORKERS)]
        try:
            assert race.first_reads.wait(WAIT), f"{REVOKE_AFTER} reads did not complete"
            with race.lock:
                race.revoke_sent = time.monotonic()
            consents.revoke(world.wallet, consent_id, now=world.clock.now)
            with race.lock:
                race.revoked_at = time.monotonic()
        finally:
            if race.revoked_at is None:
                race.stop.set()  # the readers end instead of reading forever
            for reader in readers:
                reader.result()
    return race


def _used_events(world: World, consent_id: str) -> list[dict[str, Any]]:
    rows = world.db.fetch_all(
        select(ConsentEvent).where(
            ConsentEvent.consent_id == consent_id,  # type: ignore[arg-type]
            ConsentEvent.name == "consent.used",  # type: ignore[arg-type]
        )
    )
    return [json.loads(str(row["detail"])) for row in rows]


def test_no_read_after_revocation(world: World) -> None:
    granted = world.consent()
    with serve_app(world.client.app, ready="/v1/keys", name="the host") as base:
        race = _run_race(world, base, granted.token, granted.id)

    revoked_at, revoke_sent = race.revoked_at, race.revoke_sent
    assert revoked_at is not None and revoke_sent is not None
    outcomes = race.outcomes
    assert len(outcomes) == race.started >= MIN_READS
    served = [o for o in outcomes if o.status == 200]
    refused = [o for o in outcomes if o.status != 200]

    # no read that started after the revoke had committed got data
    late = [o for o in outcomes if o.started > revoked_at]
    assert len(late) >= WORKERS * READS_AFTER
    leaked = [o.body.get("use") for o in late if o.status == 200]
    assert not leaked, f"{len(leaked)} read(s) started after the revocation got data: {leaked}"
    # every read answered before the revoke was sent got data; every refusal says "ended"
    assert all(o.status == 200 for o in outcomes if o.finished < revoke_sent)
    assert {(o.status, o.body.get("type")) for o in refused} <= {(403, t) for t in ENDED}
    assert len(served) >= REVOKE_AFTER and refused

    # every 200 is recorded: uses, one consent.used event per use, with its attributes
    uses = sorted(o.body["use"] for o in served)
    assert uses == list(range(1, len(served) + 1))
    (row,) = world.db.fetch_all(select(Consent).where(Consent.id == granted.id))  # type: ignore[arg-type]
    assert (row["uses"], row["last_used_at"], row["state"]) == (
        len(served),
        world.clock.now,
        "withdrawn",
    )
    events = sorted(_used_events(world, granted.id), key=lambda e: int(e["use"]))
    jkt = world.a.key.public_key.thumbprint()
    assert events == [
        {"use": o.body["use"], "attributes": o.body["attributes"], "jkt": jkt}
        for o in sorted(served, key=lambda o: int(o.body["use"]))
    ]
    assert all(o.body["attributes"] == ["address", "given_name"] for o in served)
    # and every refusal is kept with its reason
    kept = world.db.fetch_all(
        select(ReadRefusal).where(ReadRefusal.consent_id == granted.id)  # type: ignore[arg-type]
    )
    assert sorted(str(r["code"]) for r in kept) == sorted(
        str(o.body["type"]).removeprefix(PROBLEM_TYPE_BASE) for o in refused
    )
