"""The shared poller of one watched job, and the subscriptions that read from it."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from gateway.errors import GatewayError, InternalError
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
    from anyio.from_thread import BlockingPortal

    from gateway.watch.watcher import JobWatcher

log = logging.getLogger("gateway.watch")
Ending = Literal["terminal", "failed", "closed", "idle"]


class Poller:
    """Polls one job (for one tenant) for all its subscribers; publishes each change."""

    def __init__(self, watcher: JobWatcher, job_id: str, tenant: str | None) -> None:
        self.watcher = watcher
        self.job_id = job_id
        self.tenant = tenant
        self.epoch = secrets.token_hex(4)
        self.events: deque[JobEvent] = deque(maxlen=watcher.history)
        self.seq = 0
        self.subscribers: weakref.WeakSet[Subscription] = weakref.WeakSet()
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
        watcher = self.watcher
        delay, idle_since = watcher.poll_initial, None
        fail_delay = watcher.poll_initial  # the pause after a failed read: x2 per failure
        try:
            while self.ending is None:
                try:
                    watcher.polls += 1
                    outcome = await watcher._gateway.fetch_job(self.job_id, tenant=self.tenant)
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
                    self.failing, pause, fail_delay = None, 0.0, watcher.poll_initial
                    if self.publish(outcome.value):
                        delay = watcher.poll_initial
                    if outcome.value.terminal:
                        self.end("terminal")
                        return
                if self.subscribers:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= watcher.linger:
                    self.end("idle")
                    return
                await asyncio.sleep(pause or jittered(delay))
                delay = min(delay * BACKOFF, watcher.poll_max)
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
        self.watcher.events += 1
        self._wake()
        return True

    def end(self, how: Ending) -> None:
        if self.ending is None:
            self.ending = how
            self.watcher._forget(self)
            self._wake()

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class Subscription(AsyncIterator[JobEvent]):
    """One watch of one job (see `JobWatcher.watch`)."""

    def __init__(
        self,
        watcher: JobWatcher,
        job_id: str,
        tenant: str | None,
        resume: EventId | None,
        report_problems: bool = False,
    ) -> None:
        self._watcher = watcher
        self._report_problems = report_problems
        self._failures_seen = 0  # the poller's failed reads this watch was told of
        self.job_id = job_id
        self._tenant = tenant
        self._resume = resume
        self._poller: Poller | None = None
        self._after = 0  # the number of the last event delivered (or skipped) on _poller
        self._skip_digest: str | None = None  # a state the caller already has (first one only)
        self._done = False
        self.last_event_id: str | None = str(resume) if resume is not None else None

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> JobEvent:
        while not self._done:
            poller = self._attach()
            event = poller.after(self._after)
            if event is not None:
                self._after = event.seq
                if self._skip_digest is not None:
                    skip, self._skip_digest = self._skip_digest, None
                    if state_digest(event.job) == skip:
                        if event.terminal:
                            break
                        continue
                self.last_event_id = event.id
                if event.terminal:
                    self._finish()
                return event
            failing = poller.failing
            if self._report_problems and failing and poller.failures > self._failures_seen:
                self._failures_seen = poller.failures
                raise StillFailing(_copy(failing.problem), failing.retry_in)
            if poller.ending == "failed" and poller.failure is not None:
                self._finish()
                raise _copy(poller.failure)
            if poller.ending == "closed" or self._watcher.closed:
                self._finish()
                raise WatcherClosed("the gateway closed while the job was being watched")
            if poller.ending is not None:  # ended without us (idle): follow a new poller
                self._resume_elsewhere()
                continue
            await poller.changed.wait()
        self._finish()
        raise StopAsyncIteration

    @property
    def failing(self) -> StillFailing | None:
        """The retryable problem of the latest read of the job, while the vendor fails."""
        return self._poller.failing if self._poller is not None else None

    async def aclose(self) -> None:
        """Release the subscription (no awaiting: safe while being cancelled)."""
        self._finish()

    # -- internals -----------------------------------------------------------------------------

    def _attach(self) -> Poller:
        if self._poller is not None:
            return self._poller
        poller = self._watcher._poller(self.job_id, self._tenant)
        poller.subscribers.add(self)
        self._poller = poller
        self._failures_seen = poller.failures  # told of failed reads from now on (no repeats)
        resume = self._resume
        latest = poller.latest
        if resume is not None and resume.epoch == poller.epoch and resume.seq <= poller.seq:
            self._after = resume.seq  # replay what the caller missed (as far as kept)
        else:
            self._after = latest.seq - 1 if latest is not None else 0
            self._skip_digest = resume.digest if resume is not None else None
        self._resume = None
        return poller

    def _resume_elsewhere(self) -> None:
        old, self._poller = self._poller, None
        if old is not None:
            old.subscribers.discard(self)
        self._resume = EventId.parse(self.last_event_id)

    def _finish(self) -> None:
        self._done = True
        if self._poller is not None:
            self._poller.subscribers.discard(self)


def iterate_blocking(portal: BlockingPortal, stream: Subscription) -> Iterator[JobEvent]:
    """A watch as a blocking iterator, for the sync Gateway (its loop runs in `portal`)."""
    try:
        while True:
            try:
                yield portal.call(stream.__anext__)
            except StopAsyncIteration:
                return
    finally:
        portal.call(stream.aclose)


def _copy(exc: GatewayError) -> GatewayError:
    """The same problem as a new exception (one instance is never raised in two tasks)."""
    return GatewayError.from_problem(exc.problem())
