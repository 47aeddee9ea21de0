"""Reading a job's changes for the CLI: the service's event stream (resumed with
`Last-Event-ID` when it drops) or the in-process library watch, both with an optional deadline."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import anyio

from gateway.cli.session import JobsSource, LocalJobs, RemoteJobs
from gateway.errors import GatewayError
from gateway.schemas import Job
from gateway.watch import JobEvent, Subscription, WaitTimedOut, change_key


@dataclass(frozen=True)
class Seen:
    """One change of a job: its event id and the job."""

    id: str | None
    job: Job


# -- following a job -------------------------------------------------------------------------


@dataclass(frozen=True)
class Failing:
    """A retryable problem while watching (the vendor is failing): the watch goes on after
    `retry_in` seconds, until the job ends or the watch's own deadline."""

    problem: GatewayError
    retry_in: float


# Backoff between watch attempts while the vendor fails (a Retry-After, when given, wins).
RETRY_INITIAL, RETRY_MAX = 1.0, 15.0


def changes(source: JobsSource, job_id: str, timeout: float | None) -> Iterator[Seen | Failing]:
    """Each change of the job until it ends. A retryable problem (a vendor timeout, 5xx, rate
    limit, open circuit) is yielded as `Failing` and the watch starts again with backoff until
    `timeout`; any other problem (job-not-found, unauthorized...) ends it at once."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last: Job | None = None
    delay = RETRY_INITIAL
    while True:
        try:
            if isinstance(source, RemoteJobs):
                stream = _remote_changes(source, job_id, deadline)
            else:
                stream = _local_changes(source, job_id, deadline)
            for seen in stream:
                if last is None or change_key(seen.job) != change_key(last):
                    yield seen  # a new watch repeats the job as it stands: shown once
                last, delay = seen.job, RETRY_INITIAL
            return
        except WaitTimedOut:
            raise
        except GatewayError as exc:
            if not exc.retryable:
                raise
            left = math.inf if deadline is None else deadline - time.monotonic()
            wait = min(exc.retry_after or delay, RETRY_MAX)
            if wait >= left:  # no time for another try: wait out the deadline, then say so
                time.sleep(max(0.0, left))
                raise _timed_out(job_id, last, deadline, exc) from None
            yield Failing(exc, wait)
            time.sleep(wait)
            delay = min(delay * 2, RETRY_MAX)


def _timed_out(
    job_id: str, last: Job | None, deadline: float | None, failing: GatewayError | None = None
) -> WaitTimedOut:
    status = last.status.value if last is not None else None
    return WaitTimedOut(
        "gave up waiting (--timeout)"
        + (f"; the job is {status}" if status else "")
        + (f"; the vendor is still failing: {failing.detail}" if failing is not None else ""),
        job_id=job_id,
        job_status=status,
        backend=last.backend if last is not None else None,
        retryable=True,
    )


def _remote_changes(source: RemoteJobs, job_id: str, deadline: float | None) -> Iterator[Seen]:
    # The client follows the event stream, resuming with Last-Event-ID when it drops.
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    last: Job | None = None
    try:
        # ride_out_failing=False: a failing vendor's problem is raised, for changes() to show.
        for event in source.client.watch(job_id, timeout=timeout, ride_out_failing=False):
            last = event.job
            yield Seen(event.id, event.job)
    except WaitTimedOut:
        raise _timed_out(job_id, last, deadline) from None


def _local_changes(source: LocalJobs, job_id: str, deadline: float | None) -> Iterator[Seen]:
    # The blocking Gateway runs its AsyncGateway in a portal; a deadline needs the async side.
    portal, stream = source.gw._portal, source.gw._gateway.watch(job_id)
    last: Job | None = None
    try:
        while True:
            left = math.inf if deadline is None else deadline - time.monotonic()
            got = portal.call(_next_event, stream, left)
            if not isinstance(got, JobEvent):
                if got == "timeout":
                    raise _timed_out(job_id, last, deadline)
                return
            last = got.job
            yield Seen(got.id, got.job)
            if got.terminal:
                return
    finally:
        portal.call(stream.aclose)


async def _next_event(stream: Subscription, limit: float) -> JobEvent | Literal["end", "timeout"]:
    with anyio.move_on_after(max(0.0, limit)):
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return "end"
    return "timeout"
