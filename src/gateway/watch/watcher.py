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

import time
from contextlib import suppress
from dataclasses import dataclass

import anyio

from gateway.errors import GatewayError, JobNotReady
from gateway.schemas import Job
from gateway.watch.events import (
    BACKOFF,
    EventId,
    JobEvent,
    StillFailing,
    WatcherClosed,
    change_key,
    failing_pause,
    jittered,
)
from gateway.watch.poller import (
    HISTORY,
    LINGER,
    MAX_POLLERS,
    WATCH_POLL_INITIAL,
    WATCH_POLL_MAX,
    JobSource,
    Pollers,
    PollSettings,
)
from gateway.watch.subscription import Subscription

WAIT_POLL_INITIAL = 1.0  # wait(): first pause between polls (seconds)
WAIT_POLL_MAX = 10.0  # wait(): the pause grows x1.5 up to this


class WaitTimedOut(JobNotReady):
    """`wait()` reached its timeout before the job finished; `job_status` is its last status."""


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
        gateway: JobSource,
        *,
        poll_initial: float = WATCH_POLL_INITIAL,
        poll_max: float = WATCH_POLL_MAX,
        history: int = HISTORY,
        linger: float = LINGER,
        max_pollers: int = MAX_POLLERS,
    ) -> None:
        _check_intervals(poll_initial, poll_max)
        self._gateway = gateway
        settings = PollSettings(
            poll_initial, poll_max, max(1, history), max(0.0, linger), max(1, max_pollers)
        )
        self.pollers = Pollers(gateway, settings)  # one per job (and tenant) being watched

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

        A retryable problem (vendor timeout, 5xx, rate limit, open circuit), before the first
        answer or after, is ridden out with backoff (Retry-After wins) until the timeout.
        Raises `WaitTimedOut` at `timeout` seconds (None: no limit), or the vendor's retryable
        problem if the job could never be read by then, or at once the problem that made the
        job unreachable for good (e.g. `JobNotFound`).
        """
        _check_intervals(poll_initial, poll_max)
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        delay, last, last_error = poll_initial, None, None
        while True:
            job: Job | None = None
            pause: float | None = None
            with anyio.move_on_after(_left(deadline)):
                try:
                    job = (await self._gateway.fetch_job(job_id, tenant=tenant)).value
                except GatewayError as exc:
                    if not exc.retryable:
                        raise
                    last_error, pause = exc, failing_pause(exc, delay)  # Retry-After wins
            if job is not None:
                last_error = None
                if job.terminal:
                    return job
                if last is not None and change_key(job) != change_key(last):
                    delay = poll_initial
                last = job
            left = _left(deadline)
            if left <= 0:
                break
            await anyio.sleep(min(jittered(delay) if pause is None else pause, left))
            delay = min(delay * BACKOFF, poll_max)
        if last is None and last_error is not None:
            raise last_error
        status = last.status.value if last is not None else None
        raise WaitTimedOut(
            f"the job did not finish within {timeout:g}s"
            + (f"; it is {status}" if status else "")
            + (f"; the vendor is still failing: {last_error.detail}" if last_error else ""),
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
        last seen is returned at once (the caller asks again). While the vendor fails
        (retryable problems) it keeps waiting; if the job was never read by `timeout`, the
        latest such problem is raised; a lasting problem (not found...) is raised at once.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        async with self.watch(job_id, tenant=tenant, report_problems=True) as stream:
            first: JobEvent | None = None
            failing: StillFailing | None = None
            with anyio.move_on_after(timeout):
                while first is None:
                    try:
                        first = await stream.__anext__()
                    except StillFailing as exc:
                        failing = exc
            if first is None:
                if failing is not None:
                    raise failing.problem
                return (await self._gateway.fetch_job(job_id, tenant=tenant)).value
            if first.terminal:
                return first.job
            latest = first.job
            with anyio.move_on_after(_left(deadline)):
                with suppress(WatcherClosed, StopAsyncIteration):
                    while True:
                        with suppress(StillFailing):  # the vendor fails: keep waiting
                            latest = (await stream.__anext__()).job
                            break
        return latest

    # -- watching ------------------------------------------------------------------------------

    def watch(
        self,
        job_id: str,
        *,
        last_event_id: str | None = None,
        tenant: str | None = None,
        report_problems: bool = False,
    ) -> Subscription:
        """Follow a job: an async iterator of its changes that ends after the terminal one.

        The first event is the job as it stands (unless `last_event_id` shows the caller has
        it already); then one event per change. Use `async with` (or read it to the end) so
        the subscription is released promptly; an abandoned one is released when collected.
        A lasting problem reading the job (job-not-found, forbidden...) is raised from the
        iteration and ends it; if the gateway closes, `WatcherClosed`. A retryable one (vendor
        timeout, 5xx, rate limit, open circuit), before the first event or after, does not end
        it: the poller reads again with backoff (Retry-After wins) and `failing` tells the
        problem; with `report_problems=True` each failed read is also raised as
        `StillFailing` (iterate again to go on). Bound the watch with your own timeout.
        """
        resume = EventId.parse(last_event_id)
        return Subscription(self.pollers, job_id, tenant, resume, report_problems)

    def stats(self) -> WatchStats:
        pollers = list(self.pollers)
        return WatchStats(
            pollers=len(pollers),
            subscribers=sum(len(p.subscribers) for p in pollers),
            polls=self.pollers.polls,
            events=self.pollers.events,
        )

    @property
    def closed(self) -> bool:
        return self.pollers.closed

    async def aclose(self) -> None:
        """Stop every poller; every watch still running ends with `WatcherClosed`."""
        await self.pollers.aclose()


def _check_intervals(initial: float, maximum: float) -> None:
    if not 0 < initial <= maximum:
        raise ValueError("poll intervals need 0 < poll_initial <= poll_max")


def _left(deadline: float | None) -> float:
    return float("inf") if deadline is None else deadline - time.monotonic()


__all__ = ["WAIT_POLL_INITIAL", "WAIT_POLL_MAX", "JobWatcher", "WaitTimedOut", "WatchStats"]
