"""StatusListCache (T19): ttl honoured and bounded, rollback refused, fail closed after ttl.

The lists are real signed Token Status Lists; the clock is moved by hand; the
"network" is the test server's method, which counts every fetch.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from regie_protocol.errors import (
    Code,
    Misuse,
    Refused,
    SignatureRefused,
    StatusRefused,
    TimeRefused,
    Unavailable,
)
from regie_protocol.statuslist import Status
from tests.verifier.world import IDX, OTHER_HOST, STATUS_URI, World, make_world
from verifier.status_cache import StatusListCache


@pytest.fixture
def world() -> World:
    return make_world()


def test_served_from_cache_within_ttl_without_fetching(world: World) -> None:
    cache = world.cache()
    first = cache.get(STATUS_URI)
    world.clock.now += 299
    assert cache.get(STATUS_URI) is first
    assert cache.status(STATUS_URI, IDX) == Status.VALID
    assert world.server.fetches == [STATUS_URI]


def test_ttl_is_honoured_refetched_after_it(world: World) -> None:
    cache = world.cache()
    cache.get(STATUS_URI)
    world.server.set(STATUS_URI, IDX, Status.INVALID)
    world.clock.now += 299
    assert cache.status(STATUS_URI, IDX) == Status.VALID  # the host said: use me for 300 s
    world.clock.now += 1
    assert cache.status(STATUS_URI, IDX) == Status.INVALID
    assert len(world.server.fetches) == 2


@pytest.mark.parametrize(
    ("ttl", "used_for"),
    [
        pytest.param(1, 10, id="too-short-raised-to-min"),
        pytest.param(10 * 86400, 3600, id="too-long-cut-to-max"),
        pytest.param(None, 300, id="no-ttl-default"),
        pytest.param(120, 120, id="within-bounds-as-given"),
    ],
)
def test_ttl_is_bounded(world: World, ttl: int | None, used_for: int) -> None:
    world.server.ttl = ttl
    cache = world.cache(min_ttl=10, max_ttl=3600, default_ttl=300)
    start = world.clock.now
    cache.get(STATUS_URI)
    entry = cache.cached(STATUS_URI)
    assert entry is not None
    assert entry.fresh_until - start == used_for
    world.clock.now = start + used_for - 1
    cache.get(STATUS_URI)
    assert len(world.server.fetches) == 1
    world.clock.now = start + used_for
    cache.get(STATUS_URI)
    assert len(world.server.fetches) == 2


def test_exp_ends_the_window_before_ttl(world: World) -> None:
    world.server.exp_in = 60
    cache = world.cache()
    cache.get(STATUS_URI)
    world.clock.now += 60
    cache.get(STATUS_URI)
    assert len(world.server.fetches) == 2


def test_rollback_to_an_older_list_is_refused(world: World) -> None:
    old = world.server.token(STATUS_URI)  # VALID, issued now
    cache = world.cache()
    world.clock.now += 100
    world.server.set(STATUS_URI, IDX, Status.INVALID)
    assert cache.status(STATUS_URI, IDX) == Status.INVALID  # revoked, issued at now+100
    world.clock.now += 300
    world.server.replay[STATUS_URI] = old  # an attacker serves the older, un-revoked list
    with pytest.raises(StatusRefused) as caught:
        cache.get(STATUS_URI)
    assert caught.value.code is Code.STATUS_LIST_INVALID
    with pytest.raises(StatusRefused):  # and again: the stale newer list is not used either
        cache.status(STATUS_URI, IDX)
    del world.server.replay[STATUS_URI]
    assert cache.status(STATUS_URI, IDX) == Status.INVALID


def test_fails_closed_after_ttl_when_the_list_cannot_be_fetched(world: World) -> None:
    cache = world.cache()
    cache.get(STATUS_URI)
    world.server.down = True
    world.clock.now += 299
    assert cache.status(STATUS_URI, IDX) == Status.VALID  # within ttl: still usable
    world.clock.now += 1
    with pytest.raises(Unavailable):
        cache.get(STATUS_URI)
    world.clock.now += 3600
    with pytest.raises(Unavailable):  # never falls back to the stale list
        cache.get(STATUS_URI)
    world.server.down = False
    assert cache.status(STATUS_URI, IDX) == Status.VALID


def test_fails_closed_when_the_refetched_list_is_not_valid(world: World) -> None:
    cache = world.cache()
    cache.get(STATUS_URI)
    world.clock.now += 300
    world.server.replay[STATUS_URI] = "not.a.token"
    with pytest.raises(Refused):
        cache.get(STATUS_URI)


def test_a_list_issued_in_the_future_is_refused(world: World) -> None:
    world.server.replay[STATUS_URI] = world.server.token(STATUS_URI, iat=world.clock.now + 3600)
    with pytest.raises(TimeRefused):
        world.cache().get(STATUS_URI)


def test_no_trusted_keys_no_fetch(world: World) -> None:
    cache = world.cache()
    uri = OTHER_HOST + "/v1/status-lists/consents-1"
    with pytest.raises(SignatureRefused) as caught:
        cache.get(uri)
    assert caught.value.code is Code.ISSUER_UNTRUSTED
    assert world.server.fetches == []


def test_concurrent_callers_share_one_fetch(world: World) -> None:
    cache = world.cache()
    gate = threading.Event()
    fetch = world.server.fetch

    def slow_fetch(uri: str) -> bytes:
        gate.wait(5)
        return fetch(uri)

    cache._fetch = slow_fetch
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.status(STATUS_URI, IDX)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert results == [Status.VALID] * 8
    assert world.server.fetches == [STATUS_URI]


def test_evicts_the_least_recently_fetched(world: World) -> None:
    second = STATUS_URI.replace("consents-1", "consents-2")
    world.server.add(second, world.host_key)
    cache = world.cache(max_entries=1)
    cache.get(STATUS_URI)
    world.clock.now += 1
    cache.get(second)
    assert cache.cached(STATUS_URI) is None
    assert cache.cached(second) is not None


def test_resolver_refuses_uris_it_is_not_allowed(world: World) -> None:
    cache = world.cache()
    resolve = cache.resolver(lambda uri: uri == STATUS_URI)
    assert resolve(STATUS_URI, IDX) == Status.VALID
    with pytest.raises(SignatureRefused):
        resolve(OTHER_HOST + "/list", 0)


@pytest.mark.parametrize(
    "options",
    [
        {"min_ttl": 0},
        {"min_ttl": 100, "default_ttl": 50},
        {"max_ttl": 10, "default_ttl": 300},
        {"max_entries": 0},
    ],
)
def test_bad_bounds_are_misuse(world: World, options: dict[str, Any]) -> None:
    with pytest.raises(Misuse):
        StatusListCache(
            fetch=world.server.fetch,
            keys_for=world.policy().status_list_keys,
            clock=world.clock,
            **options,
        )
