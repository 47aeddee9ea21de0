"""A circuit breaker per backend: closed -> open -> half-open -> closed.

Closed: calls go through; outcomes fill a sliding window. A run of `consecutive_failures`, or a
failure share of at least `failure_ratio` over `min_calls` calls in `window`, opens it.
Open: calls are answered at once with `upstream-unavailable` and a Retry-After until
`open_for` has passed. Half-open: up to `half_open_probes` calls go through as probes (without
retries); a successful probe closes the circuit, a failed one opens it again.

Where the open/half-open state lives is a `BreakerStore`: this process's memory, or Redis so
that every replica sees the same circuit (see `shared.SharedBreakerStore`). The failure window
is always local: each replica judges what it sees, and the first to trip opens it for all.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from gateway.errors import (
    GatewayError,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.settings import BreakerSettings
from gateway.resilience.stats import GuardStats

WINDOW_BUCKETS = 10
HALF_OPEN_RETRY_AFTER = 1.0  # what a caller is told while another call probes the vendor


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerStore(Protocol):
    """Where the circuit's open state lives. Times are wall-clock seconds (shared)."""

    async def read(self) -> float | None:
        """When the open period ends (past: half-open), or None when closed."""
        ...

    async def open(self, until: float) -> None: ...

    async def close(self) -> None: ...

    async def try_probe(self, slots: int, ttl: float) -> int | None:
        """Take one of `slots` probe slots for `ttl` seconds; its number, or None if all taken."""
        ...

    async def end_probe(self, slot: int) -> None: ...


class LocalBreakerStore:
    """The circuit state in this process's memory."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self.open_until: float | None = None
        self._probes: dict[int, float] = {}  # slot -> when it lapses (a lost probe frees it)

    async def read(self) -> float | None:
        return self.open_until

    async def open(self, until: float) -> None:
        self.open_until = until

    async def close(self) -> None:
        self.open_until = None
        self._probes.clear()

    async def try_probe(self, slots: int, ttl: float) -> int | None:
        now = self.clock.time()
        for slot in range(slots):
            if self._probes.get(slot, 0.0) <= now:
                self._probes[slot] = now + ttl
                return slot
        return None

    async def end_probe(self, slot: int) -> None:
        self._probes.pop(slot, None)


@dataclass(frozen=True)
class BreakerPermit:
    """Leave to make one call; `probe_slot` is set when the call is a half-open probe."""

    probe_slot: int | None = None

    @property
    def probe(self) -> bool:
        return self.probe_slot is not None


NORMAL_PERMIT = BreakerPermit()


def breaker_verdict(exc: BaseException | None) -> bool | None:
    """True: the vendor failed; False: it answered properly; None: says nothing about it."""
    if exc is None:
        return False
    if isinstance(exc, UpstreamUnavailable | UpstreamTimeout | UpstreamInvalidResponse):
        return True
    if isinstance(exc, UpstreamError):
        code = exc.vendor_status_code
        return code is None or code >= 500  # a 4xx is a vendor that is up and answering
    if isinstance(exc, GatewayError):
        # Rate limits are the vendor pacing us (retries honour them), not an outage.
        return None if exc.problem_type.status == 429 else False
    return None  # our own bugs, cancellations


class CircuitBreaker:
    def __init__(
        self,
        settings: BreakerSettings,
        stats: GuardStats,
        clock: Clock = SYSTEM_CLOCK,
        store: BreakerStore | None = None,
    ) -> None:
        self.settings = settings
        self.stats = stats
        self.clock = clock
        self.store: BreakerStore = store or LocalBreakerStore(clock)
        self._state = BreakerState.CLOSED
        self._consecutive_failures = 0
        self._bucket_seconds = settings.window / WINDOW_BUCKETS
        self._buckets: deque[list[int]] = deque()  # [bucket index, calls, failures]

    @property
    def state(self) -> BreakerState:
        """The state as last seen by this replica (for /v1/backends, /readyz and metrics)."""
        return self._state

    async def admit(self, probe_ttl: float) -> BreakerPermit:
        """Leave to call the vendor, or `UpstreamUnavailable` with a Retry-After if open."""
        if not self.settings.enabled:
            return NORMAL_PERMIT
        open_until = await self.store.read()
        if open_until is None:
            self._observe(BreakerState.CLOSED)
            return NORMAL_PERMIT
        wait = open_until - self.clock.time()
        if wait > 0:
            self._observe(BreakerState.OPEN)
            raise self._rejection(wait)
        self._observe(BreakerState.HALF_OPEN)
        slot = await self.store.try_probe(self.settings.half_open_probes, probe_ttl)
        if slot is None:
            raise self._rejection(HALF_OPEN_RETRY_AFTER)
        return BreakerPermit(slot)

    async def record(self, permit: BreakerPermit, exc: BaseException | None) -> None:
        """The outcome of a call made under `permit` (exc None: success)."""
        if not self.settings.enabled:
            return
        failed = breaker_verdict(exc)
        if permit.probe_slot is not None:
            await self._end_probe(permit.probe_slot, failed)
            return
        if failed is None:
            return
        self._count(failed)
        if failed and self._should_open():
            await self._open()

    async def _end_probe(self, slot: int, failed: bool | None) -> None:
        if failed is True:
            await self._open()
        elif failed is False:
            await self.store.close()
            self._observe(BreakerState.CLOSED)
        await self.store.end_probe(slot)  # neutral outcome: the next call probes again

    async def _open(self) -> None:
        await self.store.open(self.clock.time() + self.settings.open_for)
        self._observe(BreakerState.OPEN)

    def _rejection(self, retry_after: float) -> UpstreamUnavailable:
        self.stats.breaker_rejected += 1
        seconds = max(1, math.ceil(retry_after))
        return UpstreamUnavailable(
            f"the backend's circuit is open after repeated vendor failures; retry in {seconds}s",
            retry_after=float(seconds),
            retryable=True,
            attempts=0,
        )

    def _observe(self, state: BreakerState) -> None:
        if state is self._state:
            return
        self._state = state
        if state is BreakerState.OPEN:
            self.stats.breaker_opened += 1
        elif state is BreakerState.HALF_OPEN:
            self.stats.breaker_half_opened += 1
        else:
            self.stats.breaker_closed += 1
        # A fresh start for the next closed period (or after another replica closed it).
        self._buckets.clear()
        self._consecutive_failures = 0

    def _count(self, failed: bool) -> None:
        index = math.floor(self.clock.monotonic() / self._bucket_seconds)
        while self._buckets and self._buckets[0][0] <= index - WINDOW_BUCKETS:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append([index, 0, 0])
        self._buckets[-1][1] += 1
        if failed:
            self._buckets[-1][2] += 1
            self._consecutive_failures += 1
        else:
            self._consecutive_failures = 0

    def _should_open(self) -> bool:
        if self._consecutive_failures >= self.settings.consecutive_failures:
            return True
        calls = sum(b[1] for b in self._buckets)
        failures = sum(b[2] for b in self._buckets)
        return calls >= self.settings.min_calls and failures / calls >= self.settings.failure_ratio
