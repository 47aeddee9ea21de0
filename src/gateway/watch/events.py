"""What a watch yields: job events, their ids, and the state digest that lets a resume
anywhere (another poller, replica or config generation) skip a state the caller already has."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from gateway.errors import GatewayError
from gateway.schemas import Job

MAX_EVENT_ID_CHARS = 64
BACKOFF = 1.5
JITTER = 0.1  # +-10% on every pause, so many waiters do not poll in step

ChangeKey = tuple[str, str | None, float | None]


class WatcherClosed(Exception):
    """The gateway (and its watcher) closed while a watch was still following a job."""


class StillFailing(Exception):
    """Raised by a watch made with `report_problems=True` each time a read of the job failed
    with a retryable problem (`problem`: vendor timeout, 5xx, rate limit, open circuit). The
    watch is NOT over: iterate again, it goes on polling with backoff."""

    def __init__(self, problem: GatewayError, retry_in: float) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.retry_in = retry_in


# While the vendor fails the pause between reads grows x2 up to this (a Retry-After wins),
# as `jobs watch` does (gateway.cli.follow.RETRY_MAX).
FAILING_PAUSE_MAX = 15.0


def failing_pause(problem: GatewayError, delay: float) -> float:
    """The pause before the next read after a retryable `problem` (its Retry-After wins)."""
    return min(problem.retry_after or delay, FAILING_PAUSE_MAX)


def change_key(job: Job) -> ChangeKey:
    """What makes two observations of a job different: status, vendor status, progress."""
    return (job.status.value, job.vendor_status, job.progress)


def state_digest(job: Job) -> str:
    text = "|".join("" if part is None else str(part) for part in change_key(job))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class EventId:
    """`<epoch>.<seq>.<digest>`: which poller, which of its events, which job state."""

    epoch: str
    seq: int
    digest: str

    def __str__(self) -> str:
        return f"{self.epoch}.{self.seq}.{self.digest}"

    @classmethod
    def parse(cls, text: str | None) -> EventId | None:
        """The id, or None for anything that is not one of ours (then there is no resume)."""
        if not text or len(text) > MAX_EVENT_ID_CHARS:
            return None
        parts = text.strip().split(".")
        if len(parts) != 3 or not parts[1].isdigit() or not all(_is_hex(p) for p in parts[::2]):
            return None
        return cls(parts[0], int(parts[1]), parts[2])


def _is_hex(text: str) -> bool:
    return 0 < len(text) <= 32 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class JobEvent:
    """One observed change of a job: its SSE id and the canonical job (without `raw`)."""

    id: str
    seq: int
    job: Job

    @property
    def terminal(self) -> bool:
        return self.job.terminal


def jittered(delay: float) -> float:
    return delay * random.uniform(1 - JITTER, 1 + JITTER)
