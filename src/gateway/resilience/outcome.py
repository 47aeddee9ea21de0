"""What a guarded call returns: the value and where it came from (for Cache-Status and Age)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from gateway.errors import GatewayError

T = TypeVar("T")
CACHE_NAME = "eval-gateway"


class CacheStatus(StrEnum):
    HIT = "hit"  # served from cache, fresh
    MISS = "miss"  # fetched from the vendor by this call
    BYPASS = "bypass"  # fetched because the caller asked for a fresh read (no-cache)
    COALESCED = "coalesced"  # fetched by a concurrent identical call (here or on a replica)
    STALE = "stale"  # the vendor failed; served from cache past freshness
    UNCACHED = "uncached"  # not a cacheable operation (cancel, submit, lists with TTL 0...)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    cache: CacheStatus
    age: float | None = None  # seconds since the vendor produced this answer, when cached
    ttl: float | None = None  # seconds of freshness left (hits)
    attempts: int = 0  # vendor calls behind this answer (0: from cache)
    stored: bool = False  # this answer was written to the cache
    error: GatewayError | None = None  # the vendor's failure behind a stale answer

    def with_value(self, value: T) -> Outcome[T]:
        """The same outcome for another value: dataclasses.replace at a fifth of its cost
        (it re-runs __init__ through every field; a hit makes one of these per answer)."""
        copy: Outcome[T] = object.__new__(Outcome)
        copy.__dict__.update(self.__dict__, value=value)
        return copy

    def cache_status(self, name: str = CACHE_NAME) -> str | None:
        """An RFC 9211 `Cache-Status` field value, or None for uncached operations."""
        parts = [name]
        if self.cache is CacheStatus.HIT:
            parts.append("hit")
            if self.ttl is not None:
                parts.append(f"ttl={max(0, math.floor(self.ttl))}")
        elif self.cache is CacheStatus.STALE:
            parts.append("fwd=stale")
            if self.error is not None:
                parts.append(f"fwd-status={self.error.vendor_status_code or self.error.status}")
            parts.append('detail="stale-if-error"')
        elif self.cache is CacheStatus.UNCACHED:
            return None
        else:
            parts.append("fwd=request" if self.cache is CacheStatus.BYPASS else "fwd=uri-miss")
            if self.cache is CacheStatus.COALESCED:
                parts.append("collapsed")
            if self.stored:
                parts.append("stored")
        return "; ".join(parts)

    def headers(self, name: str = CACHE_NAME) -> dict[str, str]:
        """`Cache-Status` and, for answers served from cache, `Age` (whole seconds)."""
        headers: dict[str, str] = {}
        status = self.cache_status(name)
        if status is not None:
            headers["Cache-Status"] = status
        if self.age is not None:
            headers["Age"] = str(math.floor(self.age))
        return headers
