"""Reads started in one turn of the event loop share one committer unit, each in its savepoint.

On SQLite and PostgreSQL, through the host's own :class:`~wallet.host.read_batches.ReadBatches`:
good reads commit and count, a refused read beside them gets its own refusal
and leaves no trace in their transaction, and a read whose caller went away
before its turn is not made. A read with an ``Idempotency-Key`` runs in its
own savepoint: its refusal undoes what it wrote before it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from regie_protocol.errors import Code, Refused
from wallet.host import idempotency
from wallet.host.reads import ReadAttempt, Released, prepare_read
from wallet.storage import Consent, DpopProof

from .world import HOST_URL, World


def _attempt(world: World, token: str, proof: str | None = None) -> ReadAttempt:
    return prepare_read(
        token,
        proof or world.proof(world.a.key, token),
        attributes=None,
        host_url=HOST_URL,
        now=world.clock.now,
    )


def _uses(world: World, consent_id: str) -> int:
    rows = world.db.fetch_all(select(Consent).where(Consent.id == consent_id))  # type: ignore[arg-type]
    return int(rows[0]["uses"])


def test_one_turn_is_one_unit_and_a_refusal_stays_its_own(world: World) -> None:
    granted = world.consent()
    service = world.client.app.state.host
    replayed = world.proof(world.a.key, granted.token)
    attempts = [_attempt(world, granted.token) for _ in range(3)]
    attempts += [_attempt(world, granted.token, replayed), _attempt(world, granted.token, replayed)]
    units_before = service.committer.units

    async def read_all() -> list[Any]:
        futures = [service.reads.read(a, now=world.clock.now) for a in attempts]
        return await asyncio.gather(*futures, return_exceptions=True)

    outcomes = asyncio.run(read_all())
    assert service.committer.units == units_before + 1
    assert [type(o) for o in outcomes[:4]] == [Released] * 4
    assert sorted(o.use for o in outcomes[:4]) == [1, 2, 3, 4]
    assert isinstance(outcomes[4], Refused) and outcomes[4].code is Code.DPOP_REPLAYED
    assert _uses(world, granted.id) == 4


def test_a_read_whose_caller_went_away_is_not_made(world: World) -> None:
    granted = world.consent()
    service = world.client.app.state.host
    kept, dropped = _attempt(world, granted.token), _attempt(world, granted.token)

    async def read_one_cancel_one() -> Released:
        first = service.reads.read(kept, now=world.clock.now)
        second = service.reads.read(dropped, now=world.clock.now)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        return await first

    assert asyncio.run(read_one_cancel_one()).use == 1
    assert _uses(world, granted.id) == 1
    jtis = {row["jti"] for row in world.db.fetch_all(select(DpopProof))}
    assert kept.proof.jti in jtis and dropped.proof.jti not in jtis


def test_a_refused_idempotent_read_rolls_back_only_itself(world: World) -> None:
    granted = world.consent()
    service = world.client.app.state.host
    key = idempotency.IdempotencyKey(scope="s", key="k", request_sha256="a" * 64)
    first = dataclasses.replace(_attempt(world, granted.token), idempotency=key)
    other = idempotency.IdempotencyKey(scope="s", key="k", request_sha256="b" * 64)
    conflicting = dataclasses.replace(_attempt(world, granted.token), idempotency=other)
    plain = _attempt(world, granted.token)

    async def read_all() -> list[Any]:
        futures = [service.reads.read(a, now=world.clock.now) for a in (first, conflicting, plain)]
        return await asyncio.gather(*futures, return_exceptions=True)

    done, refused, also_done = asyncio.run(read_all())
    assert isinstance(refused, Refused) and refused.code is Code.IDEMPOTENCY_CONFLICT
    assert (done.use, also_done.use) == (1, 2)
    assert _uses(world, granted.id) == 2
    jtis = {row["jti"] for row in world.db.fetch_all(select(DpopProof))}
    assert conflicting.proof.jti not in jtis  # nothing of the refused read is kept
