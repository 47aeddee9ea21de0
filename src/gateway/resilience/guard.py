"""BackendGuard: everything between VendorCalls.run (gateway.core.vendor_calls) and one adapter.

The layers, outermost first, and why in this order:

1. cache read (+ stale-if-error on the way out): a fresh hit costs nothing, not even a look
   at the circuit, and a failure below can still be answered with the last known job;
2. single-flight coalescing (in-process, then across replicas via Redis): N identical
   concurrent calls become one, so everything below (breaker, retries, budget) sees and
   charges one logical call, not N;
3. circuit breaker: judges whole logical calls (after retries), so one call's retries cannot
   trip it alone, and an open circuit stops the retries from even starting;
4. retry (tenacity: predicate, Retry-After or jittered backoff, deadline, retry budget);
5. the adapter call, bounded by what is left of the call's deadline.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gateway.contract import Operation
from gateway.errors import GatewayError, UpstreamRateLimited
from gateway.resilience.breaker import BreakerState, CircuitBreaker, breaker_verdict
from gateway.resilience.cache import CacheEntry, CacheKey, LocalCache, TtlPolicy, mark_stale
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.flight import Lead, RemoteFlight, SingleFlight
from gateway.resilience.outcome import CacheStatus, Outcome
from gateway.resilience.redis_link import RedisLink
from gateway.resilience.retry import IDEMPOTENT_OPERATIONS, Deadline, RetryRunner
from gateway.resilience.settings import BreakerSettings, CacheSettings, RetrySettings
from gateway.resilience.stats import GuardStats
from gateway.resilience.store import CacheStore, SharedBreakerStore

T = TypeVar("T")
PROBE_MARGIN = 1.0  # seconds a half-open probe slot outlives its call's deadline


@dataclass(frozen=True)
class _Fetched(Generic[T]):
    value: T
    entry: CacheEntry[T] | None  # what was stored (or read from another replica's fetch)
    remote: bool  # another replica fetched it
    attempts: int


def serves_stale(exc: GatewayError) -> bool:
    """Failures that stale-if-error covers: the vendor is down, slow, broken or throttling."""
    return breaker_verdict(exc) is True or isinstance(exc, UpstreamRateLimited)


class BackendGuard:
    """Cache, coalescing, circuit breaker and retries for one backend."""

    def __init__(
        self,
        backend: str,
        *,
        retry: RetrySettings | None = None,
        breaker: BreakerSettings | None = None,
        cache: CacheSettings | None = None,
        deadline: float = 60.0,
        link: RedisLink | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.stats = GuardStats()
        retry = retry or RetrySettings()
        cache = cache or CacheSettings()
        self.deadline = retry.deadline or deadline
        self.policy = TtlPolicy(cache)
        local = LocalCache(cache.max_entries, self.policy.longest_keep, clock)
        self.cache = CacheStore(local, link, self.policy.longest_keep, clock)
        store = SharedBreakerStore(backend, link, clock) if link is not None else None
        self.breaker = CircuitBreaker(breaker or BreakerSettings(), self.stats, clock, store)
        self.retry = RetryRunner(retry, self.stats, clock, rng=rng)
        self.flights: SingleFlight[_Fetched[Any]] = SingleFlight()
        # Concurrent reads of one key share one Redis round trip too (and one pool connection).
        self.lookups: SingleFlight[CacheEntry[Any] | None] = SingleFlight()
        self.shared = link is not None
        self.remote = (
            RemoteFlight(link, local, clock, link.settings.lock_poll_interval)
            if link is not None
            else None
        )

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    async def run(
        self,
        operation: Operation,
        fn: Callable[[], Awaitable[T]],
        *,
        cache_key: str | None = None,
        tenant: str | None = None,
        fresh: bool = False,
        idempotent: bool | None = None,
    ) -> Outcome[T]:
        """Call `fn` (one adapter call) under the backend's policies.

        `cache_key`: the job id for job operations, a canonical form of the query for lists;
        without it nothing is cached or coalesced. `tenant`: whose cache entries these are.
        `fresh`: skip serving from cache (Cache-Control: no-cache) but still coalesce and
        store. `idempotent`: override whether the operation may be retried and coalesced.
        Raises the final GatewayError (with `attempts`) unless a stale answer can be served.
        """
        deadline = Deadline.start(self.deadline, self.clock)
        key = (
            CacheKey(self.backend, tenant, operation, cache_key) if cache_key is not None else None
        )
        caching = key is not None and self.policy.may_cache(operation)
        seen: CacheEntry[Any] | None = None
        try:
            if key is not None and caching:
                if fresh or not self.flights.joinable(key):
                    seen = await self._lookup(key)
                now = self.clock.time()
                if seen is not None and not fresh and seen.is_fresh(now):
                    self.stats.cache_hits += 1
                    return Outcome(
                        seen.value, CacheStatus.HIT, seen.age(now), seen.fresh_until - now
                    )
                self.stats.cache_misses += 1
                if fresh:
                    self.stats.cache_bypasses += 1
            return await self._fetch_or_join(operation, fn, key, seen, deadline, idempotent, fresh)
        except GatewayError as exc:
            stale = await self._stale_answer(key, seen, exc) if caching else None
            if stale is None:
                raise
            return stale
        finally:
            if operation is Operation.CANCEL and key is not None and key.job is not None:
                self.stats.invalidations += 1
                await self.cache.invalidate(key.job)

    def fresh_hit(
        self, operation: Operation, cache_key: str | None, *, tenant: str | None, fresh: bool
    ) -> Outcome[Any] | None:
        """A fresh answer this process holds, found without awaiting anything (no deadline,
        no Redis round trip): the cache read layer's common case, which callers may try before
        setting up a whole call. None: `run` decides (a miss, a flight to join, Redis)."""
        if fresh or cache_key is None or not self.policy.may_cache(operation):
            return None
        key = CacheKey(self.backend, tenant, operation, cache_key)
        if self.flights.joinable(key):
            return None
        entry = self.cache.held(key)
        now = self.clock.time()
        if entry is None or not entry.is_fresh(now):
            return None
        self.stats.cache_hits += 1
        return Outcome(entry.value, CacheStatus.HIT, entry.age(now), entry.fresh_until - now)

    async def invalidate_job(self, job_id: str) -> None:
        """Drop every cached answer about a job (all tenants, all replicas)."""
        self.stats.invalidations += 1
        await self.cache.invalidate((self.backend, job_id))

    async def aclose(self) -> None:
        await self.flights.aclose()
        await self.lookups.aclose()

    # -- the layers ----------------------------------------------------------------------------

    async def _lookup(self, key: CacheKey) -> CacheEntry[Any] | None:
        if not self.shared:
            return await self.cache.get(key)  # memory only: nothing to share
        entry, _ = await self.lookups.run(key, lambda: self.cache.get(key))
        return entry

    async def _fetch_or_join(
        self,
        operation: Operation,
        fn: Callable[[], Awaitable[T]],
        key: CacheKey | None,
        seen: CacheEntry[Any] | None,
        deadline: Deadline,
        idempotent: bool | None,
        fresh: bool,
    ) -> Outcome[T]:
        coalescing = key is not None and (
            idempotent if idempotent is not None else operation in IDEMPOTENT_OPERATIONS
        )
        if key is None or not coalescing:
            fetched = await self._fetch(operation, fn, key, seen, deadline, idempotent)
            joined = False
        else:
            fetched, joined = await self.flights.run(
                key, lambda: self._fetch(operation, fn, key, seen, deadline, idempotent)
            )
        if joined or fetched.remote:
            self.stats.coalesced_waits += 1
            status = CacheStatus.COALESCED
        elif key is None or not self.policy.may_cache(operation):
            status = CacheStatus.UNCACHED
        else:
            status = CacheStatus.BYPASS if fresh else CacheStatus.MISS
        age = fetched.entry.age(self.clock.time()) if fetched.remote and fetched.entry else None
        value: T = fetched.value
        stored = fetched.entry is not None and not fetched.remote
        return Outcome(value, status, age, attempts=fetched.attempts, stored=stored)

    async def _fetch(
        self,
        operation: Operation,
        fn: Callable[[], Awaitable[T]],
        key: CacheKey | None,
        seen: CacheEntry[Any] | None,
        deadline: Deadline,
        idempotent: bool | None,
    ) -> _Fetched[T]:
        """One logical upstream call (runs once per coalesced group); stores what it gets."""
        storing = key is not None and self.policy.may_cache(operation)
        lead: Lead | None = None
        if storing and key is not None and self.remote is not None:
            got = await self.remote.lead_or_wait(key, seen.token if seen else None, deadline)
            if isinstance(got, CacheEntry):
                self.stats.remote_coalesced_waits += 1
                return _Fetched(got.value, got, remote=True, attempts=0)
            lead = got
        error: GatewayError | None = None
        try:
            fetched_at = self.clock.time()
            value, attempts = await self._call_upstream(operation, fn, deadline, idempotent)
            entry = None
            if storing and key is not None:
                entry = self.policy.entry(operation, value, fetched_at, self.clock.time())
                if entry is not None:
                    await self.cache.put(key, entry)
            return _Fetched(value, entry, remote=False, attempts=attempts)
        except GatewayError as exc:
            error = exc
            raise
        finally:
            if lead is not None and key is not None and self.remote is not None:
                await self.remote.finish(key, lead, error)

    async def _call_upstream(
        self,
        operation: Operation,
        fn: Callable[[], Awaitable[T]],
        deadline: Deadline,
        idempotent: bool | None,
    ) -> tuple[T, int]:
        permit = await self.breaker.admit(max(0.0, deadline.remaining(self.clock)) + PROBE_MARGIN)
        try:
            result = await self.retry.run(
                operation,
                fn,
                deadline,
                idempotent=idempotent,
                max_attempts=1 if permit.probe else None,  # a probe asks once
            )
        except BaseException as exc:
            await self.breaker.record(permit, exc)
            raise
        await self.breaker.record(permit, None)
        return result

    async def _stale_answer(
        self, key: CacheKey | None, seen: CacheEntry[Any] | None, exc: GatewayError
    ) -> Outcome[Any] | None:
        if key is None or not serves_stale(exc) or self.policy.settings.stale_if_error <= 0:
            return None
        entry = seen or await self.cache.get(key)
        now = self.clock.time()
        if entry is None or now >= entry.keep_until:
            return None
        self.stats.stale_served += 1
        return Outcome(
            mark_stale(entry.value),
            CacheStatus.STALE,
            entry.age(now),
            attempts=exc.attempts or 0,
            error=exc,
        )
