"""Where a backend's cache and circuit state live: memory, or Redis with memory as fallback.

With Redis, Redis is the truth for anything that can change (running jobs, lists, the
circuit), so replicas agree; immutable entries (terminal jobs, results) are also kept in memory
and served from there without a round trip. Every write also goes to memory, so that when
Redis fails the replica carries on with what it last knew.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

from gateway.resilience.breaker import LocalBreakerStore
from gateway.resilience.cache import CacheEntry, CacheKey, LocalCache
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.codec import decode_entry, decode_time, encode_entry
from gateway.resilience.redis_link import RedisLink, RedisUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

HALF_OPEN_HOLD = 600.0  # seconds a shared open circuit waits for its half-open probe


class CacheStore:
    def __init__(
        self,
        local: LocalCache,
        link: RedisLink | None = None,
        marker_seconds: float = 3600.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.local = local
        self.link = link
        self.marker_seconds = marker_seconds
        self.clock = clock

    def held(self, key: CacheKey) -> CacheEntry[Any] | None:
        """The entry for `key` when this process can answer for it alone: memory only, or an
        immutable entry (a terminal job: no other replica's cancel can change it). Else None,
        and `get` has the last word (it asks Redis)."""
        local = self.local.get(key)
        if self.link is None or (local is not None and local.immutable):
            return local
        return None

    async def get(self, key: CacheKey) -> CacheEntry[Any] | None:
        """The entry for `key` (fresh or only still kept), unless a cancel invalidated it."""
        local = self.local.get(key)
        if self.link is None or (local is not None and local.immutable):
            return local
        keys = self.link.keys
        names = [keys.entry(key)]
        if key.job is not None:
            names.append(keys.invalidated(key.job))
        try:
            raw = await self.link.run(lambda r: r.mget(names))
        except RedisUnavailable:
            return local
        entry = decode_entry(raw[0])
        if entry is None:
            return None
        marker = decode_time(raw[1]) if len(raw) > 1 else None
        if self.local.is_invalidated(key, entry, marker):
            return None
        if entry.immutable:
            self.local.put(key, entry)
        return entry

    async def put(self, key: CacheKey, entry: CacheEntry[Any]) -> None:
        self.local.put(key, entry)
        if self.link is None:
            return
        data = encode_entry(entry)
        ttl_ms = math.ceil((entry.keep_until - self.clock.time()) * 1000)
        if data is None or ttl_ms <= 0:
            return
        name = self.link.keys.entry(key)
        await self.link.best_effort(lambda r: r.set(name, data, px=ttl_ms))

    async def invalidate(self, job: tuple[str, str]) -> None:
        """Hide every entry of the job (all tenants, all replicas) fetched before now."""
        now = self.clock.time()
        self.local.invalidate(job, now)
        if self.link is None:
            return
        name = self.link.keys.invalidated(job)
        ttl_ms = math.ceil(self.marker_seconds * 1000)
        await self.link.best_effort(lambda r: r.set(name, repr(now), px=ttl_ms))


class SharedBreakerStore:
    """The circuit state in Redis (one circuit for all replicas), mirrored in memory."""

    def __init__(self, backend: str, link: RedisLink, clock: Clock = SYSTEM_CLOCK) -> None:
        self.backend = backend
        self.link = link
        self.clock = clock
        self.local = LocalBreakerStore(clock)
        self._owner = uuid.uuid4().hex

    async def read(self) -> float | None:
        name = self.link.keys.breaker(self.backend)
        try:
            raw = await self.link.run(lambda r: r.get(name))
        except RedisUnavailable:
            return await self.local.read()
        until = decode_time(raw)
        self.local.open_until = until
        return until

    async def open(self, until: float) -> None:
        await self.local.open(until)
        name = self.link.keys.breaker(self.backend)
        ttl_ms = math.ceil((until - self.clock.time() + HALF_OPEN_HOLD) * 1000)
        await self.link.best_effort(lambda r: r.set(name, repr(until), px=max(1, ttl_ms)))

    async def close(self) -> None:
        await self.local.close()
        name = self.link.keys.breaker(self.backend)
        await self.link.best_effort(lambda r: r.delete(name))

    async def try_probe(self, slots: int, ttl: float) -> int | None:
        ttl_ms = max(1, math.ceil(ttl * 1000))

        async def take(r: Redis) -> int | None:
            for slot in range(slots):
                if await r.set(
                    self.link.keys.probe(self.backend, slot), self._owner, nx=True, px=ttl_ms
                ):
                    return slot
            return None

        try:
            return await self.link.run(take)
        except RedisUnavailable:
            return await self.local.try_probe(slots, ttl)

    async def end_probe(self, slot: int) -> None:
        await self.local.end_probe(slot)
        name = self.link.keys.probe(self.backend, slot)
        await self.link.best_effort(lambda r: r.delete(name))
