"""Request coalescing (single-flight): concurrent identical calls share one upstream call.

`SingleFlight` does it within a process: the first caller starts the fetch as a task of its
own, later callers await the same task. The task is shielded, so a caller that goes away (a
client disconnects) neither cancels the others' answer nor leaves the cache unfilled.

`RemoteFlight` does it across replicas through Redis: the replica whose fetch takes the lock
(SET NX PX) calls the vendor and stores the answer; the others poll for a newer entry (or the
recorded problem) instead of calling too. If Redis fails, each replica fetches for itself.
"""

from __future__ import annotations

import asyncio
import copy
import math
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from gateway.errors import GatewayError
from gateway.resilience.cache import CacheEntry, CacheKey, LocalCache
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.codec import decode_entry, decode_error, decode_time, encode_error
from gateway.resilience.redis_link import RedisLink, RedisUnavailable
from gateway.resilience.retry import Deadline

if TYPE_CHECKING:
    from redis.asyncio import Redis

R = TypeVar("R")
LOCK_MARGIN = 1.0  # seconds a lock outlives its holder's deadline (clock skew, slow release)
ERROR_SHARE_SECONDS = 2.0  # how long a failed shared fetch's problem stays readable
MAX_POLL_INTERVAL = 0.25
_TRY_AGAIN = object()
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class SingleFlight(Generic[R]):
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[R]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    def joinable(self, key: Hashable) -> bool:
        return key in self._flights

    async def run(self, key: Hashable, fetch: Callable[[], Awaitable[R]]) -> tuple[R, bool]:
        """(the fetch's value, whether this caller joined a fetch already running)."""
        task = self._flights.get(key)
        joined = task is not None
        if task is None:
            task = asyncio.ensure_future(fetch())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        try:
            return await asyncio.shield(task), joined
        except GatewayError as exc:
            # One exception object per caller: callers add their own context to it.
            raise _copy(exc) from None

    def _finished(self, key: Hashable, task: asyncio.Task[R]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so no "exception was never retrieved" noise

    async def aclose(self) -> None:
        tasks = list(self._flights.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _copy(exc: GatewayError) -> GatewayError:
    try:
        return copy.copy(exc)
    except Exception:  # an exception that cannot be copied is shared as it is
        return exc


@dataclass(frozen=True)
class Lead:
    """This replica holds the lock and must fetch; `token` identifies its fetch."""

    token: str


class RemoteFlight:
    def __init__(
        self,
        link: RedisLink,
        local: LocalCache,
        clock: Clock = SYSTEM_CLOCK,
        poll_interval: float = 0.02,
    ) -> None:
        self.link = link
        self.local = local
        self.clock = clock
        self.poll_interval = poll_interval

    async def lead_or_wait(
        self, key: CacheKey, seen_token: str | None, deadline: Deadline
    ) -> Lead | CacheEntry[Any] | None:
        """Lead: fetch, then `finish`. An entry: another replica fetched it. None: no Redis,
        fetch without a lock. Raises the other replica's problem if its fetch failed, and
        UpstreamTimeout if its fetch outlasts our deadline."""
        keys = self.link.keys
        lock, token = keys.lock(key), uuid.uuid4().hex
        while True:
            lock_ms = math.ceil((max(0.0, deadline.remaining(self.clock)) + LOCK_MARGIN) * 1000)
            try:
                holder = await self.link.run(
                    partial(_take_lock, lock=lock, token=token, ms=lock_ms)
                )
            except RedisUnavailable:
                return None
            if holder is None:
                # Another fetch may have stored its answer and released the lock between our
                # cache read and taking the lock: use that answer instead of calling again.
                stored = await self._stored_since(key, seen_token)
                if stored is None:
                    return Lead(token)
                await self.link.best_effort(partial(_release, lock=lock, token=token))
                return stored
            waited = await self._wait(key, holder, seen_token, deadline)
            if waited is None or isinstance(waited, CacheEntry):
                return waited
            # The other fetch ended without an answer we can use: try to take the lock.

    async def _stored_since(self, key: CacheKey, seen_token: str | None) -> CacheEntry[Any] | None:
        """A fresh entry written since the caller read `seen_token` (None: none, or Redis
        failed and the caller fetches)."""
        keys = self.link.keys
        names = [keys.entry(key)]
        if key.job is not None:
            names.append(keys.invalidated(key.job))
        try:
            raw = await self.link.run(lambda r: r.mget(names))
        except RedisUnavailable:
            return None
        entry = decode_entry(raw[0])
        marker = decode_time(raw[1]) if len(raw) > 1 else None
        if (
            entry is None
            or entry.token == seen_token
            or not entry.is_fresh(self.clock.time())
            or self.local.is_invalidated(key, entry, marker)
        ):
            return None
        return entry

    async def _wait(
        self, key: CacheKey, holder: str, seen_token: str | None, deadline: Deadline
    ) -> CacheEntry[Any] | object | None:
        """An entry, None (Redis failed: fetch ourselves) or _TRY_AGAIN (the fetch ended)."""
        keys = self.link.keys
        names = [keys.entry(key), keys.lock(key), keys.error(key)]
        if key.job is not None:
            names.append(keys.invalidated(key.job))
        interval = self.poll_interval
        while True:
            if deadline.remaining(self.clock) <= interval:
                raise deadline.error(attempts=0)  # the other replica's fetch is still running
            await self.clock.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_INTERVAL)
            try:
                raw = await self.link.run(lambda r: r.mget(names))
            except RedisUnavailable:
                return None  # caller falls back: Redis said nothing useful, fetch ourselves
            entry = decode_entry(raw[0])
            marker = decode_time(raw[3]) if len(raw) > 3 else None
            if (
                entry is not None
                and entry.token != seen_token
                and not self.local.is_invalidated(key, entry, marker)
            ):
                return entry
            problem = decode_error(raw[2], holder)
            if problem is not None:
                raise problem
            if _text(raw[1]) != holder:
                return _TRY_AGAIN

    async def finish(self, key: CacheKey, lead: Lead, error: GatewayError | None) -> None:
        """Release the lock; first record the problem so waiting replicas answer it too."""
        keys = self.link.keys
        lock, error_name = keys.lock(key), keys.error(key)
        shared = encode_error(error, lead.token) if error is not None else None

        async def release(r: Redis) -> None:
            if shared is not None:
                await r.set(error_name, shared, px=int(ERROR_SHARE_SECONDS * 1000))
            await _release(r, lock=lock, token=lead.token)

        await self.link.best_effort(release)  # if lost, the lock lapses on its own (PX)


async def _release(r: Redis, *, lock: str, token: str) -> None:
    """Delete the lock if it is still ours."""
    await r.eval(_RELEASE, 1, lock, token)


async def _take_lock(r: Redis, *, lock: str, token: str, ms: int) -> str | None:
    """None if we took the lock, else the token of the fetch holding it."""
    if await r.set(lock, token, nx=True, px=ms):
        return None
    holder = _text(await r.get(lock))
    if holder is None:  # released in between: take it now
        return None if await r.set(lock, token, nx=True, px=ms) else ""
    return holder


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)
