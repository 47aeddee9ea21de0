"""Following a job over the gateway's server-sent events (`GET /v1/jobs/{id}/events`),
without I/O: the SSE parsing, and the state that resumes a dropped stream with
`Last-Event-ID` so no change is missed or seen twice. The clients drive it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import httpx
from pydantic import ValidationError

from gateway.client.base import timed_out
from gateway.client.errors import GatewayUnreachable, InvalidGatewayResponse, error_from_problem
from gateway.client.wire import Call, RetryPolicy, job_path, may_retry, retry_delay, transport_error
from gateway.errors import GatewayError
from gateway.schemas import Job, Problem
from gateway.watch import EventId, JobEvent, WaitTimedOut

HEARTBEAT = 15.0  # seconds between the server's heartbeat comments on a quiet stream
READ_MARGIN = 15.0  # a stream silent this long past a heartbeat is dead: reconnect
MAX_RECONNECTS = 5  # consecutive failed reconnects before giving up


@dataclass
class Frame:
    """One dispatched event; `comment` for a comment line (the server's heartbeat)."""

    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comment: bool = False


class SseParser:
    """The WHATWG event-stream rules the gateway relies on: fields, comments, blank-line
    dispatch. Feed it lines; it returns a frame when one is complete."""

    def __init__(self) -> None:
        self._current = Frame()

    def feed(self, line: str) -> Frame | None:
        if line.startswith(":"):
            return Frame(comment=True)
        if not line:
            done, self._current = self._current, Frame()
            return done if done.data or done.event else None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._current.data.append(value)
        elif name == "event":
            self._current.event = value
        elif name == "id" and "\0" not in value:
            self._current.id = value
        return None


class StreamState:
    """One watch of one job across however many connections it takes."""

    def __init__(
        self,
        base_url: str,
        job_id: str,
        last_event_id: str | None,
        timeout: float | None,
        policy: RetryPolicy,
        ride_out_failing: bool = True,
    ) -> None:
        self.base_url = base_url
        # A retryable problem event (the vendor failing; the server's stream goes on) is
        # skipped and kept in `failing` (True), or raised as its typed error, ending the watch.
        self.ride_out_failing = ride_out_failing
        self.failing: GatewayError | None = None
        self.job_id = job_id
        self.last_event_id = last_event_id
        self.deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        self.timeout = timeout
        self.policy = policy
        self.failures = 0
        self.done = False
        self.last: Job | None = None
        self._pending: GatewayError | None = None  # why the last connection failed

    def call(self) -> Call:
        """The next connection's request (resuming after the last event seen)."""
        heartbeat = max(1.0, min(HEARTBEAT, self._left()))
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return Call(
            "GET",
            job_path(self.job_id, "/events"),
            [("heartbeat", f"{heartbeat:g}")],
            headers,
            timeout=httpx.Timeout(10.0, read=heartbeat + READ_MARGIN),
        )

    def opened(self, response: httpx.Response, refusal: GatewayError | None) -> bool:
        """True to read this response's frames; False when the job has nothing more (204)
        or the refusal is one to retry after `pause()`. Raises a refusal for good."""
        if response.status_code == 204:  # our last event was the terminal one
            self.done = True
            return False
        if refusal is None and response.status_code != 200:
            refusal = InvalidGatewayResponse(
                f"HTTP {response.status_code} is not an event stream",
                http_status=response.status_code,
            )
        if refusal is not None:
            if not may_retry(refusal, "idempotent", self.policy) or self._give_up():
                raise refusal
            self._pending = refusal
            return False
        self._pending = None
        return True

    def frame(self, frame: Frame) -> JobEvent | None:
        """The event a frame carries (None for heartbeats and others); raises a problem
        event as its typed error, and the timeout once it has passed."""
        event: JobEvent | None = None
        if frame.event == "status":
            try:
                job = Job.model_validate_json("\n".join(frame.data))
            except ValidationError:
                raise InvalidGatewayResponse("an event is not a Job") from None
            parsed = EventId.parse(frame.id)
            event = JobEvent(frame.id or "", parsed.seq if parsed else 0, job)
            self.failures, self.failing = 0, None
            self.last, self.last_event_id = job, frame.id or self.last_event_id
            self.done = job.terminal
        elif frame.event == "problem":
            try:
                problem = Problem.model_validate_json("\n".join(frame.data))
            except ValidationError:
                raise InvalidGatewayResponse("a problem event is not a problem") from None
            error = error_from_problem(problem)
            if not (error.retryable and self.ride_out_failing):
                self.done = True
                raise error
            self.failing = error
        if event is None and not self.done and self._left() <= 0:
            raise self._timed_out()
        return event

    def dropped(self, exc: httpx.TransportError | GatewayError) -> None:
        """The connection failed or broke mid-stream: resume after `pause()`, or give up."""
        if isinstance(exc, httpx.TransportError):
            exc = transport_error(exc, self.base_url, f"GET {job_path(self.job_id, '/events')}")
        self._pending = exc
        if self._give_up():
            raise GatewayUnreachable(f"lost the event stream of {self.job_id}: {exc.detail}")

    def ended(self) -> None:
        """The stream closed before the job ended (a restart, a reload): resume."""
        self._pending = None
        if self._give_up():
            raise GatewayUnreachable(f"the event stream of {self.job_id} keeps ending early")

    def pause(self) -> float:
        """Seconds before the next connection; raises the timeout if none is left."""
        left = self._left()
        if left <= 0:
            raise self._timed_out()
        return min(left, retry_delay(self._pending, self.failures, self.policy))

    def _give_up(self) -> bool:
        self.failures += 1
        return self.failures > MAX_RECONNECTS

    def _left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def _timed_out(self) -> WaitTimedOut:
        return timed_out(self.job_id, self.last, self.timeout)
