"""Shared state on a real redis-server: two hubs in one process stand for two replicas."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.contract import Operation
from gateway.errors import JobNotFound, UpstreamTimeout, UpstreamUnavailable
from gateway.resilience import (
    SYSTEM_CLOCK,
    BackendGuard,
    BreakerSettings,
    CacheEntry,
    CacheKey,
    CacheSettings,
    CacheStatus,
    Deadline,
    RedisSettings,
    ResilienceHub,
    RetrySettings,
)
from gateway.schemas import JobStatus
from tests.resilience.conftest import RedisServer
from tests.resilience.fakes import BACKEND, Upstream, make_job
from tests.support.servers import free_port

JOB_ID = "ls-test~7"


def settings(url: str, retry_interval: float = 0.1) -> RedisSettings:
    return RedisSettings(
        url=url,
        key_prefix=f"test-{uuid.uuid4().hex[:8]}:",
        socket_timeout=0.1,
        connect_timeout=0.1,
        retry_interval=retry_interval,
        lock_poll_interval=0.01,
    )


class Replicas:
    def __init__(self, url: str, count: int = 2, retry_interval: float = 0.1) -> None:
        shared = settings(url, retry_interval)
        self.hubs = [ResilienceHub(shared) for _ in range(count)]

    def guards(self, **sections: Any) -> list[BackendGuard]:
        sections.setdefault("retry", RetrySettings(backoff_initial=0.01))
        return [
            hub.guard(BACKEND, deadline=5.0, rng=random.Random(3), **sections) for hub in self.hubs
        ]

    async def aclose(self) -> None:
        for hub in self.hubs:
            await hub.aclose()


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[Replicas]:
    pair = Replicas(redis_server.url)
    yield pair
    await pair.aclose()


async def get(g: BackendGuard, upstream: Upstream, **kw: Any) -> Any:
    return await g.run(Operation.GET_JOB, upstream, cache_key=JOB_ID, **kw)


async def test_replicas_share_the_cache(replicas: Replicas) -> None:
    one, two = replicas.guards()
    upstream = Upstream(make_job())
    assert (await get(one, upstream)).cache is CacheStatus.MISS
    hit = await get(two, upstream)
    assert hit.cache is CacheStatus.HIT and hit.value == make_job() and upstream.calls == 1
    assert replicas.hubs[0].redis_state == "ok"


async def test_concurrent_polls_spread_over_two_replicas_reach_the_vendor_once(
    replicas: Replicas,
) -> None:
    guards = replicas.guards()
    upstream = Upstream(make_job(), delay=0.1)
    outcomes = await asyncio.gather(*(get(guards[i % 2], upstream) for i in range(1000)))
    assert upstream.calls == 1
    statuses = [o.cache for o in outcomes]
    assert statuses.count(CacheStatus.MISS) == 1
    assert statuses.count(CacheStatus.COALESCED) == 999
    assert sum(g.stats.remote_coalesced_waits for g in guards) == 1  # one flight per replica


async def test_a_fetch_that_ended_between_a_read_and_the_lock_is_not_repeated(
    replicas: Replicas,
) -> None:
    # Replica one reads the cache (nothing), then replica two fetches, stores and releases
    # its lock before replica one takes the lock: one must use two's answer, not call again.
    one, two = replicas.guards()
    upstream = Upstream(make_job())
    key = CacheKey(BACKEND, None, Operation.GET_JOB, JOB_ID)
    assert await one.cache.get(key) is None
    await get(two, upstream)
    assert one.remote is not None
    got = await one.remote.lead_or_wait(key, None, Deadline.start(5.0, SYSTEM_CLOCK))
    assert isinstance(got, CacheEntry) and got.value == make_job()
    assert upstream.calls == 1
    # ...and the lock it took for that check is free again for the next window's fetch.
    assert not isinstance(
        await two.remote.lead_or_wait(key, got.token, Deadline.start(5.0, SYSTEM_CLOCK))
        if two.remote is not None
        else None,
        CacheEntry,
    )


async def test_a_failed_fetch_is_shared_not_repeated(replicas: Replicas) -> None:
    one, two = replicas.guards()
    upstream = Upstream(JobNotFound("no such job", vendor_status_code=404), delay=0.05)
    results = await asyncio.gather(
        *(get(g, upstream) for g in (one, two) * 10), return_exceptions=True
    )
    assert upstream.calls == 1
    assert all(isinstance(r, JobNotFound) and r.vendor_status_code == 404 for r in results)


async def test_a_cancel_on_one_replica_invalidates_the_others(replicas: Replicas) -> None:
    one, two = replicas.guards(cache=CacheSettings(running_ttl=60))
    upstream = Upstream(make_job(), make_job(JobStatus.CANCELLED))
    await get(one, upstream, tenant="a")
    assert (await get(two, upstream, tenant="a")).cache is CacheStatus.HIT
    await one.run(Operation.CANCEL, Upstream(make_job()), cache_key=JOB_ID, tenant="b")
    again = await get(two, upstream, tenant="a")
    assert again.cache is CacheStatus.MISS and upstream.calls == 2


async def test_the_circuit_is_shared(replicas: Replicas) -> None:
    breaker = BreakerSettings(consecutive_failures=1, open_for=30)
    one, two = replicas.guards(breaker=breaker, retry=RetrySettings(max_attempts=1))
    down = Upstream(UpstreamUnavailable("connection refused"))
    with pytest.raises(UpstreamUnavailable):
        await get(one, down, tenant="x")
    with pytest.raises(UpstreamUnavailable) as caught:
        await get(two, down, tenant="y")
    assert down.calls == 1 and caught.value.attempts == 0 and caught.value.retry_after == 30


async def test_without_redis_from_the_start_calls_succeed_and_it_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pair = Replicas(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    one, _ = pair.guards()
    upstream = Upstream(make_job())
    with caplog.at_level(logging.WARNING, logger="gateway.resilience"):
        for _ in range(5):
            await get(one, upstream, fresh=True)
        await asyncio.sleep(0.12)  # past retry_interval: it tries Redis again, fails again
        await get(one, upstream, fresh=True)
        assert (await get(one, upstream)).cache is CacheStatus.HIT  # local cache still works
    assert upstream.calls == 6
    assert pair.hubs[0].redis_state == "degraded"
    assert len([r for r in caplog.records if "redis failed" in r.message]) == 1
    await pair.aclose()


async def test_redis_killed_mid_run_fails_no_call(redis_server: RedisServer) -> None:
    pair = Replicas(redis_server.url, retry_interval=0.05)
    guards = pair.guards(cache=CacheSettings(running_ttl=0.01))
    upstream = Upstream(make_job(), delay=0.002)
    failures: list[BaseException] = []
    for round_number in range(16):
        if round_number == 6:  # while this round's calls are talking to Redis
            asyncio.get_running_loop().call_soon(redis_server.kill)
        results = await asyncio.gather(
            *(get(guards[i % 2], upstream) for i in range(20)), return_exceptions=True
        )
        failures += [r for r in results if isinstance(r, BaseException)]
        await asyncio.sleep(0.011)
    assert failures == []
    assert pair.hubs[0].redis_state == "degraded" and pair.hubs[0].link is not None
    assert pair.hubs[0].link.outages == 1
    redis_server.start()  # back on the same port: shared state is used again
    await asyncio.sleep(0.06)
    await get(guards[0], upstream)
    assert pair.hubs[0].redis_state == "ok"
    await pair.aclose()


async def test_a_frozen_redis_costs_a_bounded_delay(redis_server: RedisServer) -> None:
    pair = Replicas(redis_server.url)
    one, _ = pair.guards()
    upstream = Upstream(make_job())
    await get(one, upstream)
    redis_server.freeze()
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await get(one, upstream, fresh=True)
    elapsed = loop.time() - started
    redis_server.thaw()
    assert outcome.value == make_job() and elapsed < 0.5
    assert pair.hubs[0].redis_state == "degraded"
    await pair.aclose()


async def test_waiting_on_another_replicas_slow_fetch_ends_at_the_deadline(
    redis_server: RedisServer,
) -> None:
    pair = Replicas(redis_server.url)
    one, two = (
        hub.guard(BACKEND, deadline=0.15, retry=RetrySettings(max_attempts=1)) for hub in pair.hubs
    )
    upstream = Upstream(hang=True)
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(get(one, upstream), get(two, upstream), return_exceptions=True)
    assert loop.time() - started < 0.3 and upstream.calls == 1
    assert all(isinstance(r, UpstreamTimeout) for r in results)
    assert sorted(r.attempts for r in results if isinstance(r, UpstreamTimeout)) == [0, 1]
    await pair.aclose()
