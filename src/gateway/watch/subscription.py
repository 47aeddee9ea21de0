"""One watch of one job: an async iterator over the events of the job's shared poller,
resuming from a `Last-Event-ID`; and its blocking twin for the sync Gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from gateway.errors import GatewayError
from gateway.watch.events import EventId, JobEvent, StillFailing, WatcherClosed, state_digest
from gateway.watch.poller import Poller, Pollers

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal


class Subscription(AsyncIterator[JobEvent]):
    """One watch of one job (see `JobWatcher.watch`)."""

    def __init__(
        self,
        pollers: Pollers,
        job_id: str,
        tenant: str | None,
        resume: EventId | None,
        report_problems: bool = False,
    ) -> None:
        self._pollers = pollers
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
            if poller.ending == "closed" or self._pollers.closed:
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
        poller = self._pollers.poller(self.job_id, self._tenant)
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
