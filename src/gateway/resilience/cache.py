"""Cache keys, entries, the status-aware TTL policy and the bounded in-memory cache.

Polling is the workload: a running job changes, so it is served from cache only briefly
(`running_ttl`, about 2 s), while a terminal job or a result never changes again and is kept
long. Entries outlive their freshness by `stale_if_error`, so the last known job can still be
served (marked stale) when the vendor fails. Keys carry the backend and the caller's tenant:
one caller never reads another's cached data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Generic, NamedTuple, TypeVar
from urllib.parse import quote

from cachetools import TLRUCache, TTLCache

from gateway.contract import ListedJobs, Operation
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.settings import CacheSettings
from gateway.schemas import Job, Result

T = TypeVar("T")

READ_OPERATIONS = frozenset({Operation.GET_JOB, Operation.GET_RESULT, Operation.LIST})
JOB_OPERATIONS = frozenset({Operation.GET_JOB, Operation.GET_RESULT, Operation.CANCEL})
NO_TENANT = "-"


class CacheKey(NamedTuple):
    """What one upstream answer is cached and coalesced under (a tuple: hashed and compared
    in C, several times per lookup in the caches below)."""

    backend: str
    tenant: str | None
    operation: Operation
    key: str  # the gateway job id for job operations; a canonical form of the query for lists

    @property
    def job(self) -> tuple[str, str] | None:
        """(backend, job id) for job operations: what a cancel invalidates. A result page
        past the first is keyed `<job id>?<query>` (job ids never hold `?`)."""
        if self.operation not in JOB_OPERATIONS:
            return None
        return (self.backend, self.key.partition("?")[0])

    def path(self) -> str:
        """A key-safe string form (for Redis): each part quoted, so ':' cannot be forged."""
        parts = (self.backend, self.tenant or NO_TENANT, self.operation.value, self.key)
        return ":".join(quote(part, safe="") for part in parts)


@dataclass(frozen=True)
class CacheEntry(Generic[T]):
    value: T
    fetched_at: float  # wall-clock time the upstream call started (for Age and invalidation)
    fresh_until: float
    keep_until: float  # fresh_until + the stale-if-error bound
    immutable: bool  # a terminal job or a result: never changes again
    token: str = field(default_factory=lambda: uuid.uuid4().hex)  # tells two writes apart

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until

    def age(self, now: float) -> float:
        return max(0.0, now - self.fetched_at)

    def with_value(self, value: T) -> CacheEntry[T]:
        return replace(self, value=value)


class TtlPolicy:
    """How long an answer stays fresh, by operation and by what the answer says."""

    def __init__(self, settings: CacheSettings) -> None:
        self.settings = settings

    def fresh_seconds(self, operation: Operation, value: object) -> float:
        s = self.settings
        if not s.enabled:
            return 0.0
        if operation is Operation.GET_JOB and isinstance(value, Job):
            return s.terminal_ttl if value.terminal else s.running_ttl
        if operation is Operation.GET_RESULT and isinstance(value, Result):
            return s.result_ttl
        if operation is Operation.LIST and isinstance(value, ListedJobs):
            return s.list_ttl
        return 0.0  # cancels, submissions and anything unforeseen are never cached

    def may_cache(self, operation: Operation) -> bool:
        """Whether any answer of this operation can be cached with these settings."""
        s = self.settings
        if not s.enabled:
            return False
        if operation is Operation.GET_JOB:
            return s.running_ttl > 0 or s.terminal_ttl > 0
        if operation is Operation.GET_RESULT:
            return s.result_ttl > 0
        return operation is Operation.LIST and s.list_ttl > 0

    def is_immutable(self, operation: Operation, value: object) -> bool:
        if operation is Operation.GET_JOB and isinstance(value, Job):
            return value.terminal
        return operation is Operation.GET_RESULT and isinstance(value, Result)

    def entry(
        self, operation: Operation, value: T, fetched_at: float, now: float
    ) -> CacheEntry[T] | None:
        """The entry to store for a fresh answer, or None when it must not be cached."""
        seconds = self.fresh_seconds(operation, value)
        if seconds <= 0:
            return None
        fresh_until = now + seconds
        return CacheEntry(
            value=value,
            fetched_at=fetched_at,
            fresh_until=fresh_until,
            keep_until=fresh_until + self.settings.stale_if_error,
            immutable=self.is_immutable(operation, value),
        )

    @property
    def longest_keep(self) -> float:
        s = self.settings
        return max(s.running_ttl, s.terminal_ttl, s.result_ttl, s.list_ttl) + s.stale_if_error


def mark_stale(value: T) -> T:
    """The value as served from cache after an upstream failure (`stale=True` on jobs)."""
    if isinstance(value, Job):
        marked: Any = value.model_copy(update={"stale": True})
        return marked  # type: ignore[no-any-return]
    if isinstance(value, ListedJobs):
        jobs = [job.model_copy(update={"stale": True}) for job in value.jobs]
        listed: Any = replace(value, jobs=jobs)
        return listed  # type: ignore[no-any-return]
    return value


class LocalCache:
    """Entries in this process's memory, bounded in count (least recently used go first)."""

    def __init__(self, max_entries: int, marker_seconds: float, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self._entries: TLRUCache[CacheKey, CacheEntry[Any]] = TLRUCache(
            maxsize=max_entries, ttu=_keep_until, timer=clock.time
        )
        # (backend, job id) -> when a cancel invalidated its entries; kept as long as any
        # entry it must hide could live.
        self._invalidated: TTLCache[tuple[str, str], float] = TTLCache(
            maxsize=max_entries, ttl=max(marker_seconds, 1.0), timer=clock.time
        )

    def get(self, key: CacheKey) -> CacheEntry[Any] | None:
        entry = self._entries.get(key)
        if entry is None or self.is_invalidated(key, entry, None):
            return None
        return entry

    def put(self, key: CacheKey, entry: CacheEntry[Any]) -> None:
        if entry.keep_until > self.clock.time():
            self._entries[key] = entry

    def invalidate(self, job: tuple[str, str], at: float) -> None:
        self._invalidated[job] = max(at, self._invalidated.get(job, at))

    def invalidated_at(self, job: tuple[str, str]) -> float | None:
        return self._invalidated.get(job)

    def is_invalidated(
        self, key: CacheKey, entry: CacheEntry[Any], shared_marker: float | None
    ) -> bool:
        """Whether a cancel happened after the entry's upstream call started."""
        if shared_marker is None and not self._invalidated:  # no cancel seen: the common case
            return False
        if key.job is None:
            return False
        markers = [m for m in (self.invalidated_at(key.job), shared_marker) if m is not None]
        return bool(markers) and entry.fetched_at <= max(markers)

    def __len__(self) -> int:
        return len(self._entries)


def _keep_until(key: CacheKey, entry: CacheEntry[Any], now: float) -> float:
    return entry.keep_until
