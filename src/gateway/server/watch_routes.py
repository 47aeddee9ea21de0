"""Waiting on a job over HTTP: the long-poll (`GET /v1/jobs/{id}?wait=`) and server-sent
events (`GET /v1/jobs/{id}/events`). Both read from the job's shared poller
(gateway.watch): any number of waiting clients cost one poll loop per job.

A long-poll holds its config generation for at most `wait` seconds (60 at most), like any
request. An event stream must not hold one for hours: it holds the generation only to
authenticate and read the first event, then follows the job on whichever generation is
serving. After a reload it re-authenticates the caller against the new config (a revoked key
or removed backend ends the stream with a `problem` event) and resumes there from its last
event id; the old generation, which no stream holds, closes at once. On shutdown the watchers
close, so streams end instead of holding the server for its whole grace period.

While the vendor fails with a retryable problem (upstream-timeout, -unavailable, -error,
-rate-limited, an open circuit), before the job's first answer or after, the shared poller reads
again with backoff (Retry-After wins): an event stream sends each failed read as a `problem`
event whose `retryable` is true and goes on; a long-poll keeps waiting until its `wait`. A
problem that will not pass (job-not-found, unauthorized, forbidden, a revoked key) is the
stream's last event, or, before the stream starts, its HTTP answer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Literal

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from gateway.contract import Operation
from gateway.errors import GatewayError, InvalidRequest, UpstreamUnavailable
from gateway.ids import JobRef
from gateway.schemas import FieldError, Problem
from gateway.server.auth import Caller
from gateway.server.holder import GatewayHolder, Generation
from gateway.server.models import MAX_EVENT_ID_CHARS, EventsQuery, GetJobQuery
from gateway.server.plumbing import (
    holder_of,
    job_answer,
    job_ref,
    parse_query,
    serving,
    upstream,
)
from gateway.server.problems import problem_base, request_id_of
from gateway.watch import JobEvent, StillFailing, Subscription, WatcherClosed

SSE_MEDIA_TYPE = "text/event-stream"
RETRY_MS = 3000  # how long an EventSource waits before reconnecting
LAST_EVENT_ID = "last-event-id"
Step = JobEvent | Problem | StillFailing | Literal["heartbeat", "end", "switch"]


def _reloaded() -> UpstreamUnavailable:
    return UpstreamUnavailable(
        "the gateway is reloading its config or shutting down; ask again",
        retryable=True,
        retry_after=1,
    )


async def long_poll(
    request: Request,
    gen: Generation,
    caller: Caller,
    ref: JobRef,
    job_id: str,
    query: GetJobQuery,
) -> Response:
    """The job once it changed or is terminal, or after `query.wait` seconds as it stands."""
    assert query.wait is not None
    try:
        await gen.gateway.watcher.wait_for_change(job_id, query.wait, tenant=caller.name)
    except WatcherClosed:
        if gen.retired:
            raise _reloaded() from None
    # The poller just read it through the cache: this is a cache hit that also brings the
    # Cache-Status/Age headers and, for include=raw, the vendor payload.
    return await job_answer(request, gen, caller, ref, job_id, query.include)


async def job_events(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        ref = job_ref(gen, caller, job_id)
        query = parse_query(request, EventsQuery)
        resume = request.headers.get(LAST_EVENT_ID) or query.last_event_id
        if resume is not None and len(resume) > MAX_EVENT_ID_CHARS:  # as the query's bound
            raise InvalidRequest(
                f"invalid header: Last-Event-ID is longer than {MAX_EVENT_ID_CHARS} characters",
                errors=[FieldError(loc=["header", "Last-Event-ID"], msg="too long")],
            )
        stream = gen.gateway.watcher.watch(
            job_id, last_event_id=resume, tenant=caller.name, report_problems=True
        )
        try:
            backend = gen.gateway.backend(ref.backend)  # UnknownBackend, 404
            first = await upstream(request, gen, backend, Operation.GET_JOB, lambda: _first(stream))
        except BaseException as exc:
            await stream.aclose()
            if isinstance(exc, WatcherClosed):
                raise _reloaded() from None
            raise
        if first is None:  # the caller's last event was the terminal one: nothing more
            await stream.aclose()
            return Response(status_code=204)  # (204 also stops an EventSource reconnecting)
    feed = _Feed(request, holder_of(request), gen, ref, stream, query.heartbeat)
    return EventStreamResponse(feed.frames(first))


async def _first(stream: Subscription) -> JobEvent | StillFailing | None:
    """The first event, or the vendor failing (the stream starts with that problem)."""
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None
    except StillFailing as failing:
        return failing


class EventStreamResponse(StreamingResponse):
    """`text/event-stream`, its generator closed when the stream ends however it ends."""

    def __init__(self, frames: AsyncGenerator[bytes, None]) -> None:
        super().__init__(
            frames,
            media_type=SSE_MEDIA_TYPE,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._frames = frames

    async def stream_response(self, send: Send) -> None:
        async with aclosing(self._frames):
            await super().stream_response(send)


class _Feed:
    """One client's event stream, following the job across config generations."""

    def __init__(
        self,
        request: Request,
        holder: GatewayHolder,
        gen: Generation,
        ref: JobRef,
        stream: Subscription,
        heartbeat: float,
    ) -> None:
        self.request = request
        self.holder = holder
        self.gen = gen
        self.ref = ref  # the job id, parsed once for the stream's whole life
        self.stream = stream
        self.heartbeat = heartbeat

    async def frames(self, first: JobEvent | StillFailing) -> AsyncGenerator[bytes, None]:
        try:
            if isinstance(first, StillFailing):
                yield problem_frame(self._problem(first.problem), retry=RETRY_MS)
            else:
                yield event_frame(first, retry=RETRY_MS)
                if first.terminal:
                    return
            while True:
                refused = await self._switch() if self.holder.current is not self.gen else None
                step: Step = refused if refused is not None else await self._next()
                if isinstance(step, JobEvent):
                    yield event_frame(step)
                    if step.terminal:
                        return
                elif isinstance(step, StillFailing):  # the vendor fails; the poller goes on
                    yield problem_frame(self._problem(step.problem))
                elif isinstance(step, Problem):
                    yield problem_frame(step)
                    return
                elif step == "heartbeat":
                    yield b": heartbeat\n\n"
                elif step == "end":
                    return
        finally:
            await self.stream.aclose()

    async def _next(self) -> Step:
        with anyio.move_on_after(self.heartbeat):
            try:
                return await self.stream.__anext__()
            except StopAsyncIteration:
                return "end"
            except StillFailing as failing:
                return failing
            except WatcherClosed:
                # Closed by a reload (follow the new generation) or by shutdown (end).
                return "switch" if self.holder.current is not self.gen else "end"
            except GatewayError as exc:
                return self._problem(exc)
        return "heartbeat"

    async def _switch(self) -> Problem | None:
        """Move to the serving generation, checking the caller against its config."""
        gen = self.holder.current
        job_id = self.stream.job_id
        try:
            caller = gen.keys.authenticate(self.request.headers)
            caller.check(gen.config, self.ref.backend)
            gen.gateway.backend(self.ref.backend)
            stream = gen.gateway.watcher.watch(
                job_id,
                last_event_id=self.stream.last_event_id,
                tenant=caller.name,
                report_problems=True,
            )
        except GatewayError as exc:
            return self._problem(exc)
        old, self.stream, self.gen = self.stream, stream, gen
        await old.aclose()
        return None

    def _problem(self, exc: GatewayError) -> Problem:
        update = {
            "request_id": request_id_of(self.request),
            "instance": self.request.url.path[:512],
        }
        return exc.problem(problem_base(self.request)).model_copy(update=update)


def event_frame(event: JobEvent, retry: int | None = None) -> bytes:
    lines = [f"retry: {retry}"] if retry is not None else []
    lines += [f"id: {event.id}", "event: status", f"data: {event.job.model_dump_json()}"]
    return ("\n".join(lines) + "\n\n").encode()


def problem_frame(problem: Problem, retry: int | None = None) -> bytes:
    lines = [f"retry: {retry}"] if retry is not None else []
    lines += ["event: problem", f"data: {problem.model_dump_json(exclude_none=True)}"]
    return ("\n".join(lines) + "\n\n").encode()
