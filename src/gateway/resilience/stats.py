"""Counters the proxy turns into Prometheus metrics (read-only attributes, no globals here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class GuardStats:
    """Totals since start for one backend; every field only grows."""

    cache_hits: int = 0
    cache_misses: int = 0  # the caller's read found nothing usable (includes fresh=True reads)
    cache_bypasses: int = 0  # fresh=True reads (Cache-Control: no-cache); also counted as misses
    coalesced_waits: int = 0  # callers served by another caller's upstream call
    remote_coalesced_waits: int = 0  # ...whose call ran on another replica (via Redis)
    stale_served: int = 0  # cached answers served because the vendor failed
    upstream_calls: int = 0  # logical calls that reached the retry layer
    upstream_attempts: int = 0  # adapter calls, retries included
    retries: int = 0
    retry_budget_exhausted: int = 0  # retries refused because the budget was spent
    breaker_opened: int = 0
    breaker_half_opened: int = 0
    breaker_closed: int = 0
    breaker_rejected: int = 0  # calls answered at once because the circuit was open
    invalidations: int = 0  # cancels that invalidated a job's cached entries

    def snapshot(self) -> dict[str, int]:
        return asdict(self)
