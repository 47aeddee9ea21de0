"""Waiting for and watching jobs: polite polling through the cache, shared by every watcher.

One `JobWatcher` per AsyncGateway. It offers three ways to follow a job:

- `wait(job_id, timeout)`: the terminal job, polling through the cache (never `fresh`) with
  backoff and jitter; `WaitTimedOut` (a `job-not-ready` problem with `job_status`) at the
  timeout.
- `wait_for_change(job_id, timeout)`: the long-poll; the job as soon as its status, vendor
  status or progress differs from what it was at the start, or at the timeout as it stands.
- `watch(job_id)`: an async iterator of `JobEvent`s, one per change, ending with the terminal
  job. Every watcher of one job (and caller tenant) shares ONE poller task, which keeps a short
  history for `Last-Event-ID` resumes and stops once the job is terminal or nobody has watched
  it for `linger` seconds.

Event ids are `<epoch>.<seq>.<digest>`: the poller that produced the event, its number there,
and a digest of the job's state. A resume on the same poller replays what was missed from its
history; a resume anywhere else (another poller, replica or config generation) skips the
current state if its digest shows the caller already has it.

Memory is bounded: at most `max_pollers` jobs are polled at once, each keeping at most
`history` events. Nothing is global; `aclose()` stops every poller and ends every watch with
`WatcherClosed`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import secrets
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol

import anyio

from .errors import GatewayError, InternalError, JobNotReady, UpstreamUnavailable
from .schemas import Job

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from .resilience import Outcome

log = logging.getLogger("gateway.watch")

WAIT_POLL_INITIAL = 1.0  # wait(): first pause between polls (seconds)
WAIT_POLL_MAX = 10.0  # wait(): the pause grows x1.5 up to this
WATCH_POLL_INITIAL = 0.5  # the shared poller: first pause, reset on every change
WATCH_POLL_MAX = 1.0  # the shared poller never pauses longer (the cache bounds vendor calls)
BACKOFF = 1.5
JITTER = 0.1  # +-10% on every pause, so many waiters do not poll in step
HISTORY = 64  # events a poller keeps for Last-Event-ID resumes
LINGER = 5.0  # seconds a poller nobody watches keeps going (clients reconnecting)
MAX_POLLERS = 1000  # jobs polled at once per gateway
MAX_EVENT_ID_CHARS = 64

ChangeKey = tuple[str, str | None, float | None]
Ending = Literal["terminal", "failed", "closed", "idle"]


class WaitTimedOut(JobNotReady):
    """`wait()` reached its timeout before the job finished; `job_status` is its last status."""


class WatcherClosed(Exception):
    """The gateway (and its watcher) closed while a watch was still following a job."""


class _JobSource(Protocol):
    """What the watcher needs of AsyncGateway (a Protocol: no import cycle with gateway.core)."""

    async def fetch_job(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
    ) -> Outcome[Job]: ...


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


@dataclass(frozen=True)
class WatchStats:
    pollers: int  # jobs being polled now
    subscribers: int  # watches attached to them
    polls: int  # cache/vendor reads the pollers made (since this watcher was created)
    events: int  # changes they published


class JobWatcher:
    """Waiting and watching for one AsyncGateway (see the module docstring)."""

    def __init__(
        self,
        gateway: _JobSource,
        *,
        poll_initial: float = WATCH_POLL_INITIAL,
        poll_max: float = WATCH_POLL_MAX,
        history: int = HISTORY,
        linger: float = LINGER,
        max_pollers: int = MAX_POLLERS,
    ) -> None:
        _check_intervals(poll_initial, poll_max)
        self._gateway = gateway
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self.history = max(1, history)
        self.linger = max(0.0, linger)
        self.max_pollers = max(1, max_pollers)
        self._pollers: dict[tuple[str, str | None], _Poller] = {}
        self._closed = False
        self.polls = 0
        self.events = 0

    # -- waiting -------------------------------------------------------------------------------

    async def wait(
        self,
        job_id: str,
        timeout: float | None,  # noqa: ASYNC109 (not a cancel: the answer changes at the timeout)
        *,
        poll_initial: float = WAIT_POLL_INITIAL,
        poll_max: float = WAIT_POLL_MAX,
        tenant: str | None = None,
    ) -> Job:
        """The job once terminal. Polls through the cache with backoff (reset on a change)
        and jitter; transient upstream failures are ridden out until the timeout.

        Raises `WaitTimedOut` at `timeout` seconds (None: no limit), or the problem that
        made the job unreachable for good (e.g. `JobNotFound`).
        """
        _check_intervals(poll_initial, poll_max)
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        delay, last, last_error = poll_initial, None, None
        while True:
            job: Job | None = None
            with anyio.move_on_after(_left(deadline)):
                try:
                    job = (await self._gateway.fetch_job(job_id, tenant=tenant)).value
                except GatewayError as exc:
                    if not exc.retryable:
                        raise
                    last_error = exc
            if job is not None:
                if job.terminal:
                    return job
                if last is not None and change_key(job) != change_key(last):
                    delay = poll_initial
                last = job
            left = _left(deadline)
            if left <= 0:
                break
            await anyio.sleep(min(_jittered(delay), left))
            delay = min(delay * BACKOFF, poll_max)
        if last is None and last_error is not None:
            raise last_error
        status = last.status.value if last is not None else None
        raise WaitTimedOut(
            f"the job did not finish within {timeout:g}s" + (f"; it is {status}" if status else ""),
            job_id=job_id,
            backend=last.backend if last is not None else None,
            vendor=last.vendor if last is not None else None,
            job_status=status,
            retryable=True,
        )

    async def wait_for_change(
        self,
        job_id: str,
        timeout: float,  # noqa: ASYNC109 (at the timeout it answers the job, not an error)
        *,
        tenant: str | None = None,
    ) -> Job:
        """The long-poll: the job as soon as it differs from the job at the start (status,
        vendor status or progress) or is terminal; at `timeout`, the job as it stands.

        Reads come from the job's shared poller. If the gateway closes meanwhile, the job as
        last seen is returned at once (the caller asks again).
        """
        async with self.watch(job_id, tenant=tenant) as stream:
            first = await stream.__anext__()  # the problem, if the job cannot be read
            if first.terminal:
                return first.job
            latest = first.job
            with anyio.move_on_after(max(0.0, timeout)):
                with suppress(WatcherClosed, StopAsyncIteration):
                    latest = (await stream.__anext__()).job
        return latest

    # -- watching ------------------------------------------------------------------------------

    def watch(
        self, job_id: str, *, last_event_id: str | None = None, tenant: str | None = None
    ) -> Subscription:
        """Follow a job: an async iterator of its changes that ends after the terminal one.

        The first event is the job as it stands (unless `last_event_id` shows the caller has
        it already); then one event per change. Use `async with` (or read it to the end) so
        the subscription is released promptly; an abandoned one is released when collected.
        A problem reading the job is raised from the iteration; if the gateway closes,
        `WatcherClosed`.
        """
        return Subscription(self, job_id, tenant, EventId.parse(last_event_id))

    def stats(self) -> WatchStats:
        pollers = list(self._pollers.values())
        return WatchStats(
            pollers=len(pollers),
            subscribers=sum(len(p.subscribers) for p in pollers),
            polls=self.polls,
            events=self.events,
        )

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Stop every poller; every watch still running ends with `WatcherClosed`."""
        self._closed = True
        pollers = list(self._pollers.values())
        self._pollers.clear()
        for poller in pollers:
            poller.end("closed")
        tasks = [p.task for p in pollers if p.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- internals -----------------------------------------------------------------------------

    def _poller(self, job_id: str, tenant: str | None) -> _Poller:
        """The live poller of (job, tenant), started if there is none."""
        if self._closed:
            raise WatcherClosed("the gateway is closed")
        key = (job_id, tenant)
        poller = self._pollers.get(key)
        if poller is not None and poller.ending is None:
            return poller
        if len(self._pollers) >= self.max_pollers:
            raise UpstreamUnavailable(
                f"the gateway is already watching {len(self._pollers)} jobs; retry later",
                job_id=job_id,
                retry_after=LINGER,
            )
        poller = _Poller(self, job_id, tenant)
        self._pollers[key] = poller
        poller.task = asyncio.create_task(poller.run(), name=f"watch {job_id}")
        return poller

    def _forget(self, poller: _Poller) -> None:
        key = (poller.job_id, poller.tenant)
        if self._pollers.get(key) is poller:
            del self._pollers[key]


class _Poller:
    """Polls one job (for one tenant) for all its subscribers; publishes each change."""

    def __init__(self, watcher: JobWatcher, job_id: str, tenant: str | None) -> None:
        self.watcher = watcher
        self.job_id = job_id
        self.tenant = tenant
        self.epoch = secrets.token_hex(4)
        self.events: deque[JobEvent] = deque(maxlen=watcher.history)
        self.seq = 0
        self.subscribers: weakref.WeakSet[Subscription] = weakref.WeakSet()
        self.failure: GatewayError | None = None
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
        try:
            while self.ending is None:
                try:
                    watcher.polls += 1
                    outcome = await watcher._gateway.fetch_job(self.job_id, tenant=self.tenant)
                except GatewayError as exc:
                    # Before the first answer, or for good (not found, forbidden...): the
                    # watchers get the problem. A passing upstream failure is ridden out.
                    if not self.events or not exc.retryable:
                        self.failure = exc
                        self.end("failed")
                        return
                else:
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
                await asyncio.sleep(_jittered(delay))
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
        self, watcher: JobWatcher, job_id: str, tenant: str | None, resume: EventId | None
    ) -> None:
        self._watcher = watcher
        self.job_id = job_id
        self._tenant = tenant
        self._resume = resume
        self._poller: _Poller | None = None
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

    async def aclose(self) -> None:
        """Release the subscription (no awaiting: safe while being cancelled)."""
        self._finish()

    # -- internals -----------------------------------------------------------------------------

    def _attach(self) -> _Poller:
        if self._poller is not None:
            return self._poller
        poller = self._watcher._poller(self.job_id, self._tenant)
        poller.subscribers.add(self)
        self._poller = poller
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


def _check_intervals(initial: float, maximum: float) -> None:
    if not 0 < initial <= maximum:
        raise ValueError("poll intervals need 0 < poll_initial <= poll_max")


def _left(deadline: float | None) -> float:
    return float("inf") if deadline is None else deadline - time.monotonic()


def _jittered(delay: float) -> float:
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


__all__ = [
    "EventId",
    "JobEvent",
    "JobWatcher",
    "Subscription",
    "WaitTimedOut",
    "WatchStats",
    "WatcherClosed",
    "change_key",
    "iterate_blocking",
    "state_digest",
]
