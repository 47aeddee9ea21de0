"""Reading a job's changes for the CLI: the service's event stream (resumed with
`Last-Event-ID` when it drops) or the in-process library watch, both with an optional deadline."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import anyio

from .cli_jobs import LocalJobs, RemoteJobs
from .schemas import Job
from .watch import JobEvent, Subscription, WaitTimedOut


@dataclass(frozen=True)
class Seen:
    """One change of a job: its event id and the job."""

    id: str | None
    job: Job


# -- following a job -------------------------------------------------------------------------


def changes(source: RemoteJobs | LocalJobs, job_id: str, timeout: float | None) -> Iterator[Seen]:
    deadline = None if timeout is None else time.monotonic() + timeout
    if isinstance(source, RemoteJobs):
        return _remote_changes(source, job_id, deadline)
    return _local_changes(source, job_id, deadline)


def _timed_out(job_id: str, last: Job | None, deadline: float | None) -> WaitTimedOut:
    status = last.status.value if last is not None else None
    return WaitTimedOut(
        "gave up waiting (--timeout)" + (f"; the job is {status}" if status else ""),
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
        for event in source.client.watch(job_id, timeout=timeout):
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
