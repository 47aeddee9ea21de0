"""Time, injectable: the resilience layer never calls `time` or `asyncio.sleep` directly.

Production uses `SYSTEM_CLOCK`. Tests use `ManualClock`, whose `sleep` moves time forward at
once, so backoffs, TTLs and breaker windows are tested without real waiting.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds (epoch): cache ages and state shared with other replicas."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go backwards: deadlines and local windows."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = SystemClock()


class ManualClock:
    """A clock that only moves when told to (or when someone sleeps on it)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self.slept: list[float] = []  # every sleep asked for, in order (tests assert backoffs)

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)  # still yield, so other tasks run as they would
