"""A retry budget: retries stay under a share of calls over a sliding window.

Without it, a vendor outage turns every call into `max_attempts` calls and the gateway
triples the load on a vendor that is already struggling. With it, retries in any window stay
below `ratio` x calls (plus a small floor so a quiet backend still gets its retries).
"""

from __future__ import annotations

import math
from collections import deque

from gateway.resilience.clock import SYSTEM_CLOCK, Clock

BUCKETS_PER_WINDOW = 10  # window resolution; memory is O(buckets), whatever the traffic


class RetryBudget:
    def __init__(
        self,
        ratio: float = 0.2,
        window: float = 10.0,
        min_retries: int = 5,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.ratio = ratio
        self.window = window
        self.min_retries = min_retries
        self._clock = clock
        self._bucket_seconds = window / BUCKETS_PER_WINDOW
        # (bucket index, calls, retries), oldest first
        self._buckets: deque[list[int]] = deque()

    def record_call(self) -> None:
        """One logical call started (its first attempt)."""
        self._current()[1] += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget; False if the budget is spent (nothing is taken)."""
        calls, retries = self.totals()
        allowed = max(self.min_retries, math.floor(calls * self.ratio))
        if retries >= allowed:
            return False
        self._current()[2] += 1
        return True

    def totals(self) -> tuple[int, int]:
        """(calls, retries) in the window."""
        self._expire()
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def _current(self) -> list[int]:
        self._expire()
        index = math.floor(self._clock.monotonic() / self._bucket_seconds)
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append([index, 0, 0])
        return self._buckets[-1]

    def _expire(self) -> None:
        oldest = math.floor(self._clock.monotonic() / self._bucket_seconds) - BUCKETS_PER_WINDOW
        while self._buckets and self._buckets[0][0] <= oldest:
            self._buckets.popleft()
