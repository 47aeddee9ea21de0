"""Reading a job's changes for the CLI: the service's event stream (resumed with
`Last-Event-ID` when it drops) or the in-process library watch, both with an optional deadline."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

import anyio
import httpx

from .cli_jobs import LocalJobs, ProblemAnswer, RemoteJobs, Unreachable, check_answer
from .schemas import Job, Problem
from .watch import JobEvent, Subscription, WaitTimedOut

MAX_RECONNECTS = 5
HEARTBEAT = 15.0


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
    path = f"/v1/jobs/{quote(job_id, safe='')}/events"
    last_id: str | None = None
    last: Job | None = None
    failures = 0
    while True:
        left = math.inf if deadline is None else deadline - time.monotonic()
        if left <= 0:
            raise _timed_out(job_id, last, deadline)
        heartbeat = max(1.0, min(HEARTBEAT, left))
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with source.http.stream(
                "GET",
                path,
                params={"heartbeat": f"{heartbeat:g}"},
                headers=headers,
                timeout=httpx.Timeout(10.0, read=heartbeat + 30.0),
            ) as response:
                if response.status_code == 204:  # we had the terminal event already
                    return
                if response.status_code != 200:
                    response.read()
                    check_answer(response, f"GET {path}")
                    raise Unreachable(f"GET {path}: HTTP {response.status_code}")
                for event, event_id, data in sse_frames(response):
                    failures = 0
                    if event == "status":
                        last, last_id = Job.model_validate_json(data), event_id
                        yield Seen(event_id, last)
                        if last.terminal:
                            return
                    elif event == "problem":
                        raise ProblemAnswer(Problem.model_validate_json(data))
                    if deadline is not None and time.monotonic() > deadline:
                        raise _timed_out(job_id, last, deadline)
        except httpx.TransportError as exc:
            failures += 1
            if failures > MAX_RECONNECTS:
                raise Unreachable(f"lost the event stream of {job_id}: {exc}") from None
        # The stream ended before the job did (a restart, a dropped connection): resume.
        time.sleep(min(5.0, 0.5 * 2**failures))


def sse_frames(response: httpx.Response) -> Iterator[tuple[str | None, str | None, str]]:
    """(event, id, data) of each event; comments (heartbeats) as (None, None, "")."""
    event: str | None = None
    event_id: str | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith(":"):
            yield None, None, ""
        elif not line:
            if data:
                yield event, event_id, "\n".join(data)
            event, event_id, data = None, None, []
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id":
                event_id = value


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
