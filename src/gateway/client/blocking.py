"""GatewayClient: Gateway's methods (blocking), answered by a running gateway over HTTP."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from tenacity import Retrying

from gateway.client import wire
from gateway.client.base import MAX_LONG_POLL, ClientSettings, timed_out
from gateway.client.errors import GatewayTimedOut, GatewayUnreachable, error_from_response
from gateway.client.streams import SseParser, StreamState
from gateway.client.wire import Call, M, Many, StatusArg, Statuses
from gateway.core.backends import BackendInfo
from gateway.errors import GatewayError
from gateway.result_tokens import DEFAULT_RESULT_PAGE_SIZE
from gateway.schemas import Job, Page, Result, Submission, SubmitRequest
from gateway.schemas.ledger import JobHistory, LedgerPage, LedgerSort
from gateway.watch import WAIT_POLL_INITIAL, WAIT_POLL_MAX, JobEvent


class GatewayClient:
    """A running gateway, with the same methods, return types and exceptions as Gateway.

    >>> with GatewayClient("http://127.0.0.1:8080", api_key=key) as gw:  # doctest: +SKIP
    ...     job = gw.get_job("ls-sim~mmlu~0")
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = wire.DEFAULT_TIMEOUT,
        retry: wire.RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        auto_idempotency_keys: bool = True,
    ) -> None:
        self.settings = ClientSettings.build(url, api_key, retry, auto_idempotency_keys)
        self._http = httpx.Client(
            base_url=self.settings.url,
            headers=self.settings.headers(headers),
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"GatewayClient({self.settings.describe()})"

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the operations ----------------------------------------------------------------------

    def backends(self) -> list[BackendInfo]:
        return self._run(wire.backends(), wire.BackendListAnswer).backends

    def get_job(self, job_id: str, *, include_raw: bool = False, fresh: bool = False) -> Job:
        return self._run(wire.get_job(job_id, include_raw, fresh), Job)

    def get_result(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        page_size: int = DEFAULT_RESULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Result:
        """One page of rows; pass `result.next_page_token` back as `page_token` for the next."""
        call = wire.get_result(job_id, include_raw, fresh, page_size, page_token)
        return self._run(call, Result)

    def list_jobs(
        self,
        backend: str,
        *,
        status: StatusArg = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_raw: bool = False,
        fresh: bool = False,
    ) -> Page:
        call = wire.list_jobs(backend, status, page_size, page_token, include_raw, fresh)
        return self._run(call, Page)

    def cancel_job(self, job_id: str) -> Job:
        return self._run(wire.cancel_job(job_id), Job)

    def submit(
        self,
        backend: str,
        request: SubmitRequest | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Start an evaluation. Without `idempotency_key` a fresh one is sent (unless the
        client was built with `auto_idempotency_keys=False`), so retries never submit twice."""
        key = self.settings.key_for(idempotency_key)
        return self._run(wire.submit(backend, request, key), Submission)

    def jobs(
        self,
        *,
        status: Statuses = None,
        backend: Many = None,
        vendor: Many = None,
        caller: Many = None,
        alias: Many = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        name_contains: str | None = None,
        sort: LedgerSort | str = "-created",
        page_size: int = 50,
        page_token: str | None = None,
    ) -> LedgerPage:
        """A page of the gateway's job ledger (every job it has seen), newest first. The HTTP
        API takes one `vendor`, `caller` and `alias` each; `status` and `backend` may repeat."""
        call = wire.ledger_jobs(
            status=status, backend=backend, vendor=vendor, caller=caller, alias=alias,
            created_after=created_after, created_before=created_before,
            updated_after=updated_after, updated_before=updated_before,
            name_contains=name_contains, sort=sort, page_size=page_size, page_token=page_token,
        )  # fmt: skip
        return self._run(call, LedgerPage)

    def history(self, job_id: str) -> JobHistory:
        """A job's status timeline as the ledger recorded it, oldest first."""
        return self._run(wire.history(job_id), JobHistory)

    def wait(
        self,
        job_id: str,
        timeout: float | None = None,
        *,
        poll_initial: float = WAIT_POLL_INITIAL,
        poll_max: float = WAIT_POLL_MAX,
    ) -> Job:
        """The job once terminal (long-polls of at most a minute); `WaitTimedOut` at `timeout`."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        last: Job | None = None
        last_error: GatewayError | None = None
        pause = poll_initial
        while True:
            left = math.inf if deadline is None else deadline - time.monotonic()
            try:
                job = self._run(wire.long_poll(job_id, min(left, MAX_LONG_POLL)), Job)
            except GatewayError as exc:
                if not exc.retryable:
                    raise
                last_error = exc
                time.sleep(max(0.0, min(pause, left)))
                pause = min(pause * 1.5, poll_max)
            else:
                if job.terminal:
                    return job
                last = job
            if deadline is not None and time.monotonic() >= deadline:
                if last is None and last_error is not None:
                    raise last_error
                raise timed_out(job_id, last, timeout)

    def watch(
        self,
        job_id: str,
        *,
        last_event_id: str | None = None,
        timeout: float | None = None,
        ride_out_failing: bool = True,
    ) -> Iterator[JobEvent]:
        """The job's changes until it is terminal, resumed with Last-Event-ID whenever the
        connection drops; close the iterator (or read it to the end) to stop. While the vendor
        fails (retryable problem events) it goes on until `timeout`; `ride_out_failing=False`
        raises the first such problem instead."""
        settings = self.settings
        state = StreamState(
            settings.url, job_id, last_event_id, timeout, settings.retry, ride_out_failing
        )
        return self._follow(state)

    # -- the one request path ------------------------------------------------------------------

    def _run(self, call: Call, model: type[M]) -> M:
        for attempt in Retrying(**wire.retrying(self.settings.retry, call)):
            with attempt:
                return wire.decode(self._send(call), model)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _send(self, call: Call, stream: bool = False) -> httpx.Response:
        try:
            return self._http.send(call.request(self._http), stream=stream)
        except httpx.TransportError as exc:
            what = f"{call.method} {call.path}"
            raise wire.transport_error(exc, self.settings.url, what) from None

    def _follow(self, state: StreamState) -> Iterator[JobEvent]:
        while not state.done:
            try:
                response = self._send(state.call(), stream=True)
            except (GatewayUnreachable, GatewayTimedOut) as exc:
                state.dropped(exc)
                time.sleep(state.pause())
                continue
            try:
                refusal = None
                if response.status_code >= 400:
                    response.read()
                    refusal = error_from_response(response)
                if not state.opened(response, refusal):
                    if not state.done:
                        time.sleep(state.pause())
                    continue
                parser = SseParser()
                try:
                    for line in response.iter_lines():
                        frame = parser.feed(line)
                        event = state.frame(frame) if frame is not None else None
                        if event is not None:
                            yield event
                        if state.done:
                            return
                except httpx.TransportError as exc:
                    state.dropped(exc)
                    time.sleep(state.pause())
                    continue
            finally:
                response.close()
            state.ended()
            time.sleep(state.pause())
