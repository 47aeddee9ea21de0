"""The resilience layer: retries, circuit breakers, caching with coalescing, shared state.

Build a `ResilienceHub` once per gateway (from the `redis` config), ask it for each backend's
`BackendGuard` (from that backend's `retry`, `breaker` and `cache` config), and run every
adapter call through `BackendGuard.run`, which returns an `Outcome` (value + cache metadata).
The order of the layers, and why, is in `guard`.
"""

from __future__ import annotations

from gateway.resilience.breaker import BreakerState, CircuitBreaker
from gateway.resilience.budget import RetryBudget
from gateway.resilience.cache import CacheEntry, CacheKey, TtlPolicy
from gateway.resilience.clock import SYSTEM_CLOCK, Clock, ManualClock, SystemClock
from gateway.resilience.guard import BackendGuard
from gateway.resilience.hub import ResilienceHub
from gateway.resilience.outcome import CacheStatus, Outcome
from gateway.resilience.redis_link import RedisLink, RedisUnavailable
from gateway.resilience.retry import IDEMPOTENT_OPERATIONS, Deadline, RetryRunner, should_retry
from gateway.resilience.settings import BreakerSettings, CacheSettings, RedisSettings, RetrySettings
from gateway.resilience.stats import GuardStats

__all__ = [
    "IDEMPOTENT_OPERATIONS",
    "SYSTEM_CLOCK",
    "BackendGuard",
    "BreakerSettings",
    "BreakerState",
    "CacheEntry",
    "CacheKey",
    "CacheSettings",
    "CacheStatus",
    "CircuitBreaker",
    "Clock",
    "Deadline",
    "GuardStats",
    "ManualClock",
    "Outcome",
    "RedisLink",
    "RedisSettings",
    "RedisUnavailable",
    "ResilienceHub",
    "RetryBudget",
    "RetryRunner",
    "RetrySettings",
    "SystemClock",
    "TtlPolicy",
    "should_retry",
]
