"""The connection to Redis, built to fail fast and quietly.

Redis holds state shared by replicas (cache, coalescing locks, circuit state), never anything a
request needs: every use goes through `RedisLink.run`, which bounds the command in time and
turns any failure into `RedisUnavailable`, on which callers fall back to local state. After a
failure the link stays down for `retry_interval` (no connect attempt per request while Redis
is away), and an outage is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from gateway.resilience.cache import CacheKey
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.settings import RedisSettings

if TYPE_CHECKING:  # redis (and the OpenTelemetry it imports) loads only when Redis is used
    from redis.asyncio import Redis

log = logging.getLogger("gateway.resilience")
R = TypeVar("R")


class RedisUnavailable(Exception):
    """Redis could not serve a command in time; use local state instead."""


class RedisKeys:
    """Every key the gateway writes, under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def entry(self, key: CacheKey) -> str:
        return f"{self.prefix}cache:{key.path()}"

    def lock(self, key: CacheKey) -> str:
        return f"{self.prefix}lock:{key.path()}"

    def error(self, key: CacheKey) -> str:
        return f"{self.prefix}err:{key.path()}"

    def invalidated(self, job: tuple[str, str]) -> str:
        return f"{self.prefix}inv:{quote(job[0], safe='')}:{quote(job[1], safe='')}"

    def breaker(self, backend: str) -> str:
        return f"{self.prefix}breaker:{quote(backend, safe='')}"

    def probe(self, backend: str, slot: int) -> str:
        return f"{self.breaker(backend)}:probe:{slot}"


class RedisLink:
    def __init__(
        self,
        settings: RedisSettings,
        clock: Clock = SYSTEM_CLOCK,
        client: Redis | None = None,
    ) -> None:
        # Imported here: a gateway without Redis never loads it (~9 MiB of RSS at idle).
        from redis.exceptions import RedisError

        self._failures: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
        if client is None:
            from redis.asyncio import BlockingConnectionPool, Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            if settings.url is None:
                raise ValueError("RedisLink needs redis.url")
            # A blocking pool: a burst waits briefly for a connection instead of failing.
            pool = BlockingConnectionPool.from_url(
                settings.url.get_secret_value(),
                max_connections=settings.max_connections,
                timeout=settings.socket_timeout,
                socket_timeout=settings.socket_timeout,
                socket_connect_timeout=settings.connect_timeout,
                retry=Retry(NoBackoff(), 0),  # we fall back instead of retrying: stay fast
                health_check_interval=0,
            )
            client = Redis(connection_pool=pool)
        self.client = client
        self.settings = settings
        self.keys = RedisKeys(settings.key_prefix)
        self.clock = clock
        self.failures = 0  # commands that failed (for metrics)
        self.outages = 0  # times Redis went away
        self._down_until: float | None = None

    @property
    def available(self) -> bool:
        """False while waiting out `retry_interval` after a failure."""
        return self._down_until is None or self.clock.monotonic() >= self._down_until

    @property
    def healthy(self) -> bool:
        """Whether the last command succeeded (for /readyz: degraded, not down)."""
        return self._down_until is None

    async def run(self, command: Callable[[Redis], Awaitable[R]]) -> R:
        """Run `command` on the client within the time limit, or raise RedisUnavailable."""
        if not self.available:
            raise RedisUnavailable("redis is down; retrying later")
        try:
            # A command may first have to open a connection: both bounds apply.
            async with asyncio.timeout(
                self.settings.connect_timeout + self.settings.socket_timeout
            ):
                result = await command(self.client)
        except self._failures as exc:
            self._failed(exc)
            raise RedisUnavailable(type(exc).__name__) from None
        if self._down_until is not None:
            self._down_until = None
            log.info("redis is reachable again; shared state is back in use")
        return result

    async def best_effort(self, command: Callable[[Redis], Awaitable[object]]) -> bool:
        """Run a write whose loss is harmless (local state has it); True if it was done."""
        try:
            await self.run(command)
        except RedisUnavailable:
            return False
        return True

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self._down_until is None:
            self.outages += 1
            # Once per outage, and never with the URL (it may carry a password).
            log.warning(
                "redis failed (%s); using local state, retrying every %gs",
                type(exc).__name__,
                self.settings.retry_interval,
            )
        self._down_until = self.clock.monotonic() + self.settings.retry_interval

    async def aclose(self) -> None:
        with contextlib.suppress(*self._failures):  # a dead connection closes quietly
            await self.client.aclose(close_connection_pool=True)
