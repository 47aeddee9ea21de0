"""ResilienceHub: builds one BackendGuard per backend and owns the shared Redis connection."""

from __future__ import annotations

import random

from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.guard import BackendGuard
from gateway.resilience.redis_link import RedisLink
from gateway.resilience.settings import BreakerSettings, CacheSettings, RedisSettings, RetrySettings


class ResilienceHub:
    """One per gateway process. `redis.url` null: every guard keeps its state in memory."""

    def __init__(
        self,
        redis: RedisSettings | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        link: RedisLink | None = None,
    ) -> None:
        self.redis = redis or RedisSettings()
        self.clock = clock
        if link is None and self.redis.enabled:
            link = RedisLink(self.redis, clock)
        self.link = link
        self.guards: dict[str, BackendGuard] = {}

    def guard(
        self,
        backend: str,
        *,
        retry: RetrySettings | None = None,
        breaker: BreakerSettings | None = None,
        cache: CacheSettings | None = None,
        deadline: float = 60.0,
        rng: random.Random | None = None,
    ) -> BackendGuard:
        """The backend's guard (built on first use). `deadline`: the backend's timeouts.total,
        used when `retry.deadline` is null."""
        if backend not in self.guards:
            self.guards[backend] = BackendGuard(
                backend,
                retry=retry,
                breaker=breaker,
                cache=cache,
                deadline=deadline,
                link=self.link,
                clock=self.clock,
                rng=rng,
            )
        return self.guards[backend]

    @property
    def redis_state(self) -> str:
        """'off', 'ok' or 'degraded' (Redis failing: replicas run on local state)."""
        if self.link is None:
            return "off"
        return "ok" if self.link.healthy else "degraded"

    async def aclose(self) -> None:
        for guard in self.guards.values():
            await guard.aclose()
        if self.link is not None:
            await self.link.aclose()
