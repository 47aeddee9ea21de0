"""BackendGuard end to end on fake adapter calls: cache, coalescing, stale-if-error, breaker."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from gateway.contract import Operation
from gateway.errors import JobNotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from gateway.resilience import (
    BackendGuard,
    BreakerSettings,
    BreakerState,
    CacheSettings,
    CacheStatus,
    ManualClock,
    RetrySettings,
)
from gateway.schemas import JobStatus
from tests.resilience.fakes import BACKEND, Upstream, make_job, make_listed

JOB_ID = "ls-test~7"


def guard(clock: ManualClock | None = None, **sections: Any) -> BackendGuard:
    return BackendGuard(
        BACKEND,
        retry=sections.get("retry", RetrySettings(backoff_initial=0.01)),
        breaker=sections.get("breaker"),
        cache=sections.get("cache"),
        deadline=sections.get("deadline", 30.0),
        clock=clock or ManualClock(),
        rng=random.Random(1),
    )


async def get(g: BackendGuard, upstream: Upstream, **kw: Any) -> Any:
    return await g.run(Operation.GET_JOB, upstream, cache_key=JOB_ID, **kw)


async def test_a_running_job_is_served_from_cache_for_its_short_ttl() -> None:
    clock = ManualClock()
    g = guard(clock)
    upstream = Upstream(make_job())
    first = await get(g, upstream)
    assert first.cache is CacheStatus.MISS and first.stored and first.attempts == 1
    clock.advance(1.5)
    second = await get(g, upstream)
    assert second.cache is CacheStatus.HIT and second.age == 1.5 and upstream.calls == 1
    clock.advance(1.0)
    assert (await get(g, upstream)).cache is CacheStatus.MISS and upstream.calls == 2
    assert (g.stats.cache_hits, g.stats.cache_misses) == (1, 2)


async def test_a_terminal_job_is_cached_long() -> None:
    clock = ManualClock()
    g = guard(clock)
    upstream = Upstream(make_job(JobStatus.SUCCEEDED))
    await get(g, upstream)
    clock.advance(1800)
    assert (await get(g, upstream)).cache is CacheStatus.HIT and upstream.calls == 1


async def test_a_thousand_concurrent_polls_cost_one_upstream_call() -> None:
    g = guard()
    upstream = Upstream(make_job(), delay=0.05)
    outcomes = await asyncio.gather(*(get(g, upstream) for _ in range(1000)))
    assert upstream.calls == 1
    statuses = [o.cache for o in outcomes]
    assert statuses.count(CacheStatus.MISS) == 1 and statuses.count(CacheStatus.COALESCED) == 999
    assert all(o.value == make_job() for o in outcomes)
    assert g.stats.coalesced_waits == 999 and g.stats.upstream_calls == 1


async def test_coalesced_callers_each_get_their_own_problem() -> None:
    g = guard()
    upstream = Upstream(JobNotFound("no such job", vendor_status_code=404), delay=0.02)
    results = await asyncio.gather(*(get(g, upstream) for _ in range(50)), return_exceptions=True)
    assert upstream.calls == 1
    assert all(isinstance(r, JobNotFound) and r.attempts == 1 for r in results)
    assert len({id(r) for r in results}) == 50  # callers add their own context to it


async def test_a_caller_that_goes_away_does_not_cancel_the_others() -> None:
    g = guard()
    upstream = Upstream(make_job(), delay=0.05)
    leaving = asyncio.create_task(get(g, upstream))
    await asyncio.sleep(0.01)
    staying = asyncio.create_task(get(g, upstream))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert (await staying).value == make_job()
    assert (await get(g, upstream)).cache is CacheStatus.HIT  # and the answer was stored
    assert upstream.calls == 1


async def test_stale_if_error_serves_the_last_job_marked_within_the_bound() -> None:
    clock = ManualClock()
    g = guard(clock, cache=CacheSettings(stale_if_error=60))
    await get(g, Upstream(make_job()))
    clock.advance(30)
    down = Upstream(UpstreamUnavailable("connection refused"))
    stale = await get(g, down)
    assert stale.cache is CacheStatus.STALE and stale.value.stale
    assert stale.age is not None and 30 <= stale.age < 31  # plus the backoffs it waited
    assert stale.attempts == 3 and isinstance(stale.error, UpstreamUnavailable)
    assert g.stats.stale_served == 1
    clock.advance(40)  # 70 s old: past 2 s fresh + 60 s bound
    with pytest.raises(UpstreamUnavailable) as caught:
        await get(g, down)
    assert caught.value.attempts == 3


async def test_a_vendor_answer_is_never_hidden_behind_a_stale_job() -> None:
    clock = ManualClock()
    g = guard(clock)
    await get(g, Upstream(make_job()))
    clock.advance(5)
    with pytest.raises(JobNotFound):
        await get(g, Upstream(JobNotFound("deleted", vendor_status_code=404)))


async def test_tenants_never_see_each_others_entries() -> None:
    clock = ManualClock()
    g = guard(clock)
    upstream = Upstream(make_job(name="A's"), make_job(name="B's"))
    a = await get(g, upstream, tenant="a")
    b = await get(g, upstream, tenant="b")
    assert (a.value.name, b.value.name) == ("A's", "B's") and upstream.calls == 2
    assert (await get(g, upstream, tenant="a")).value.name == "A's"
    clock.advance(5)
    with pytest.raises(UpstreamUnavailable):  # no stale entry of A's leaks to C
        await get(g, Upstream(UpstreamUnavailable("down")), tenant="c")


async def test_fresh_reads_bypass_the_cache_but_store_and_coalesce() -> None:
    g = guard()
    upstream = Upstream(make_job(progress=0.1), make_job(progress=0.2), delay=0.02)
    await get(g, upstream)
    fresh = await asyncio.gather(*(get(g, upstream, fresh=True) for _ in range(10)))
    assert upstream.calls == 2 and fresh[0].cache is CacheStatus.BYPASS
    assert all(o.value.progress == 0.2 for o in fresh)
    cached = await get(g, upstream)
    assert cached.cache is CacheStatus.HIT and cached.value.progress == 0.2
    assert g.stats.cache_bypasses == 10


async def test_a_cancel_invalidates_the_jobs_entries_for_every_tenant() -> None:
    clock = ManualClock()
    g = guard(clock, cache=CacheSettings(running_ttl=60))
    upstream = Upstream(make_job(), make_job(), make_job(JobStatus.CANCELLED))
    await get(g, upstream, tenant="a")
    await get(g, upstream, tenant="b")
    clock.advance(0.1)
    cancelled = await g.run(
        Operation.CANCEL, Upstream(make_job(JobStatus.CANCELLING)), cache_key=JOB_ID, tenant="a"
    )
    assert cancelled.cache is CacheStatus.UNCACHED
    clock.advance(0.1)
    assert (await get(g, upstream, tenant="b")).cache is CacheStatus.MISS
    assert upstream.calls == 3 and g.stats.invalidations == 1


async def test_an_open_circuit_answers_at_once_or_serves_stale() -> None:
    clock = ManualClock()
    g = guard(
        clock,
        retry=RetrySettings(max_attempts=1),
        breaker=BreakerSettings(consecutive_failures=2, open_for=30),
    )
    down = Upstream(UpstreamError("bad gateway", vendor_status_code=502))
    await get(g, Upstream(make_job()), tenant="cached")
    clock.advance(5)
    for tenant in ("x", "y"):
        with pytest.raises(UpstreamError):
            await get(g, down, tenant=tenant)
    assert g.breaker_state is BreakerState.OPEN and down.calls == 2
    with pytest.raises(UpstreamUnavailable) as caught:
        await get(g, down, tenant="z")
    assert caught.value.retry_after == 30 and caught.value.attempts == 0 and down.calls == 2
    stale = await get(g, down, tenant="cached")
    assert stale.cache is CacheStatus.STALE and down.calls == 2


async def test_a_half_open_probe_asks_once() -> None:
    clock = ManualClock()
    g = guard(clock, breaker=BreakerSettings(consecutive_failures=1, open_for=10))
    down = Upstream(UpstreamUnavailable("down"))
    with pytest.raises(UpstreamUnavailable):
        await get(g, down)
    assert down.calls == 3  # retried as usual while closed
    clock.advance(10)
    with pytest.raises(UpstreamUnavailable):
        await get(g, down)
    assert down.calls == 4 and g.breaker_state is BreakerState.OPEN
    clock.advance(10)
    assert (await get(g, Upstream(make_job()))).value == make_job()
    assert g.breaker_state is BreakerState.CLOSED


async def test_submissions_are_neither_coalesced_nor_retried() -> None:
    g = guard()
    upstream = Upstream(make_job(), delay=0.02)
    await asyncio.gather(*(g.run(Operation.SUBMIT, upstream, cache_key="same") for _ in range(3)))
    assert upstream.calls == 3
    failing = Upstream(UpstreamUnavailable("reset"))
    with pytest.raises(UpstreamUnavailable):
        await g.run(Operation.SUBMIT, failing)
    assert failing.calls == 1


async def test_lists_are_coalesced_and_cached_only_when_configured() -> None:
    g = guard()
    upstream = Upstream(make_listed(make_job()), delay=0.02)
    outcomes = await asyncio.gather(
        *(g.run(Operation.LIST, upstream, cache_key="status=running") for _ in range(5))
    )
    assert upstream.calls == 1 and outcomes[0].cache is CacheStatus.UNCACHED
    await g.run(Operation.LIST, upstream, cache_key="status=running")
    assert upstream.calls == 2
    cached = guard(cache=CacheSettings(list_ttl=1))
    await cached.run(Operation.LIST, upstream, cache_key="q")
    assert (await cached.run(Operation.LIST, upstream, cache_key="q")).cache is CacheStatus.HIT


async def test_no_call_outlives_its_deadline() -> None:
    g = BackendGuard(BACKEND, deadline=0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(UpstreamTimeout) as caught:
        await g.run(Operation.GET_JOB, Upstream(hang=True), cache_key=JOB_ID)
    assert loop.time() - started < 0.2 and caught.value.attempts == 1


async def test_calls_without_a_key_are_neither_cached_nor_coalesced() -> None:
    g = guard()
    upstream = Upstream(make_job(), delay=0.01)
    outcomes = await asyncio.gather(*(g.run(Operation.GET_JOB, upstream) for _ in range(3)))
    assert upstream.calls == 3 and {o.cache for o in outcomes} == {CacheStatus.UNCACHED}


async def test_fresh_hit_answers_what_run_would_from_memory_and_nothing_else() -> None:
    """VendorCalls takes a fresh in-memory hit before setting up a whole call: it must be the
    answer `run` gives, for the same tenant only, never for a fresh read or a stale entry."""
    clock = ManualClock()
    g = guard(clock)
    upstream = Upstream(make_job())
    assert g.fresh_hit(Operation.GET_JOB, JOB_ID, tenant="a", fresh=False) is None  # nothing yet
    await get(g, upstream, tenant="a")
    clock.advance(1.0)
    hit = g.fresh_hit(Operation.GET_JOB, JOB_ID, tenant="a", fresh=False)
    assert hit is not None and hit.cache is CacheStatus.HIT and hit.age == 1.0
    assert hit.value == (await get(g, upstream, tenant="a")).value and upstream.calls == 1
    assert g.fresh_hit(Operation.GET_JOB, JOB_ID, tenant="b", fresh=False) is None
    assert g.fresh_hit(Operation.GET_JOB, JOB_ID, tenant="a", fresh=True) is None
    assert g.fresh_hit(Operation.CANCEL, JOB_ID, tenant="a", fresh=False) is None
    clock.advance(5)  # past the running job's freshness: only `run` may serve it (stale)
    assert g.fresh_hit(Operation.GET_JOB, JOB_ID, tenant="a", fresh=False) is None
