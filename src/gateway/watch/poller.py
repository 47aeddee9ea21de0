"""The shared pollers of watched jobs: one `Poller` per (job, tenant) polls it for every
subscription and publishes each change; `Pollers` keeps them (bounded) for one JobWatcher."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from gateway.errors import GatewayError, InternalError, UpstreamUnavailable
from gateway.schemas import Job
from gateway.watch.events import (
    BACKOFF,
    FAILING_PAUSE_MAX,
    EventId,
    JobEvent,
    StillFailing,
    WatcherClosed,
    change_key,
    failing_pause,
    jittered,
    state_digest,
)

if TYPE_CHECKING:
    from gateway.resilience import Outcome

WATCH_POLL_INITIAL = 0.5  # the shared poller: first pause, reset on every change
WATCH_POLL_MAX = 1.0  # the shared poller never pauses longer (the cache bounds vendor calls)
HISTORY = 64  # events a poller keeps for Last-Event-ID resumes
LINGER = 5.0  # seconds a poller nobody watches keeps going (clients reconnecting)
MAX_POLLERS = 1000  # jobs polled at once per gateway

log = logging.getLogger("gateway.watch")
Ending = Literal["terminal", "failed", "closed", "idle"]


class JobSource(Protocol):
    """What watching needs of AsyncGateway (a Protocol: no import of gateway.core)."""

    async def fetch_job(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
    ) -> Outcome[Job]: ...


@dataclass(frozen=True)
class PollSettings:
    poll_initial: float = WATCH_POLL_INITIAL
    poll_max: float = WATCH_POLL_MAX
    history: int = HISTORY
    linger: float = LINGER
    max_pollers: int = MAX_POLLERS


class Pollers:
    """The live pollers of one watcher, at most `max_pollers`; counts their reads and events."""

    def __init__(self, source: JobSource, settings: PollSettings) -> None:
        self.source = source
        self.settings = settings
        self._live: dict[tuple[str, str | None], Poller] = {}
        self.closed = False
        self.polls = 0  # cache/vendor reads the pollers made
        self.events = 0  # changes they published

    def __iter__(self) -> Iterator[Poller]:
        return iter(list(self._live.values()))

    def current(self, job_id: str, tenant: str | None) -> Poller | None:
        """The poller of (job, tenant) now, if there is one."""
        return self._live.get((job_id, tenant))

    def poller(self, job_id: str, tenant: str | None) -> Poller:
        """The live poller of (job, tenant), started if there is none."""
        if self.closed:
            raise WatcherClosed("the gateway is closed")
        key = (job_id, tenant)
        poller = self._live.get(key)
        if poller is not None and poller.ending is None:
            return poller
        if len(self._live) >= self.settings.max_pollers:
            raise UpstreamUnavailable(
                f"the gateway is already watching {len(self._live)} jobs; retry later",
                job_id=job_id,
                retry_after=LINGER,
            )
        poller = Poller(self, job_id, tenant)
        self._live[key] = poller
        poller.task = asyncio.create_task(poller.run(), name=f"watch {job_id}")
        return poller

    def forget(self, poller: Poller) -> None:
        key = (poller.job_id, poller.tenant)
        if self._live.get(key) is poller:
            del self._live[key]

    async def aclose(self) -> None:
        """Stop every poller (each ends "closed": its watches end with `WatcherClosed`)."""
        self.closed = True
        pollers = list(self._live.values())
        self._live.clear()
        for poller in pollers:
            poller.end("closed")
        tasks = [p.task for p in pollers if p.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class Poller:
    """Polls one job (for one tenant) for all its subscribers; publishes each change."""

    def __init__(self, pollers: Pollers, job_id: str, tenant: str | None) -> None:
        self.pollers = pollers
        self.job_id = job_id
        self.tenant = tenant
        self.epoch = secrets.token_hex(4)
        self.events: deque[JobEvent] = deque(maxlen=pollers.settings.history)
        self.seq = 0
        # The watches attached (only counted here: a poller nobody watches stops).
        self.subscribers: weakref.WeakSet[object] = weakref.WeakSet()
        self.failure: GatewayError | None = None  # the problem that ended it
        self.failing: StillFailing | None = None  # the vendor fails now (a retryable problem)
        self.failures = 0  # retryable failed reads so far
        self.ending: Ending | None = None
        self.task: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()

    @property
    def latest(self) -> JobEvent | None:
        return self.events[-1] if self.events else None

    def after(self, seq: int) -> JobEvent | None:
        """The first event kept with a number above `seq`."""
        for event in self.events:
            if event.seq > seq:
                return event
        return None

    async def run(self) -> None:
        pollers, settings = self.pollers, self.pollers.settings
        delay, idle_since = settings.poll_initial, None
        fail_delay = settings.poll_initial  # the pause after a failed read: x2 per failure
        try:
            while self.ending is None:
                try:
                    pollers.polls += 1
                    outcome = await pollers.source.fetch_job(self.job_id, tenant=self.tenant)
                except GatewayError as exc:
                    # A problem for good (not found, forbidden...) ends every watch. A
                    # retryable one (before the first answer too) is ridden out with backoff,
                    # Retry-After winning; watches that asked are told (StillFailing).
                    if not exc.retryable:
                        self.failure = exc
                        self.end("failed")
                        return
                    pause = failing_pause(exc, fail_delay)
                    fail_delay = min(fail_delay * 2, FAILING_PAUSE_MAX)
                    self.failures += 1
                    self.failing = StillFailing(exc, pause)
                    self._wake()
                else:
                    self.failing, pause, fail_delay = None, 0.0, settings.poll_initial
                    if self.publish(outcome.value):
                        delay = settings.poll_initial
                    if outcome.value.terminal:
                        self.end("terminal")
                        return
                if self.subscribers:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= settings.linger:
                    self.end("idle")
                    return
                await asyncio.sleep(pause or jittered(delay))
                delay = min(delay * BACKOFF, settings.poll_max)
        except asyncio.CancelledError:
            self.end("closed")
            raise
        except Exception:
            log.exception("bug while watching job %s", self.job_id)
            self.failure = InternalError("the gateway hit an unexpected error watching the job")
            self.end("failed")
        finally:
            self.end("closed")

    def publish(self, job: Job) -> bool:
        """Record `job` as an event if it differs from the latest one; True if it did."""
        latest = self.latest
        if latest is not None and change_key(latest.job) == change_key(job):
            return False
        self.seq += 1
        event_id = EventId(self.epoch, self.seq, state_digest(job))
        self.events.append(JobEvent(str(event_id), self.seq, job.model_copy(update={"raw": None})))
        self.pollers.events += 1
        self._wake()
        return True

    def end(self, how: Ending) -> None:
        if self.ending is None:
            self.ending = how
            self.pollers.forget(self)
            self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()
