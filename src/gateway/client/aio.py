"""AsyncGatewayClient: AsyncGateway's methods, answered by a running gateway over HTTP."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import anyio
import httpx
from tenacity import AsyncRetrying

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


class AsyncGatewayClient:
    """A running gateway, with the same methods, return types and exceptions as AsyncGateway.

    >>> async with AsyncGatewayClient("http://127.0.0.1:8080", api_key=key) as gw:  # doctest: +SKIP
    ...     job = await gw.get_job("ls-sim~mmlu~0")
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = wire.DEFAULT_TIMEOUT,
        retry: wire.RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        auto_idempotency_keys: bool = True,
    ) -> None:
        self.settings = ClientSettings.build(url, api_key, retry, auto_idempotency_keys)
        self._http = httpx.AsyncClient(
            base_url=self.settings.url,
            headers=self.settings.headers(headers),
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"AsyncGatewayClient({self.settings.describe()})"

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the operations ----------------------------------------------------------------------

    async def backends(self) -> list[BackendInfo]:
        return (await self._run(wire.backends(), wire.BackendListAnswer)).backends

    async def get_job(self, job_id: str, *, include_raw: bool = False, fresh: bool = False) -> Job:
        return await self._run(wire.get_job(job_id, include_raw, fresh), Job)

    async def get_result(
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
        return await self._run(call, Result)

    async def list_jobs(
        self,
        backend_name: str,
        *,
        status: StatusArg = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_raw: bool = False,
        fresh: bool = False,
    ) -> Page:
        call = wire.list_jobs(backend_name, status, page_size, page_token, include_raw, fresh)
        return await self._run(call, Page)

    async def cancel_job(self, job_id: str) -> Job:
        return await self._run(wire.cancel_job(job_id), Job)

    async def submit(
        self,
        backend_name: str,
        request: SubmitRequest | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Submission:
        """Start an evaluation. Without `idempotency_key` a fresh one is sent (unless the
        client was built with `auto_idempotency_keys=False`), so retries never submit twice."""
        key = self.settings.key_for(idempotency_key)
        return await self._run(wire.submit(backend_name, request, key), Submission)

    async def jobs(
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
        return await self._run(call, LedgerPage)

    async def history(self, job_id: str) -> JobHistory:
        """A job's status timeline as the ledger recorded it, oldest first."""
        return await self._run(wire.history(job_id), JobHistory)

    async def wait(
        self,
        job_id: str,
        timeout: float | None = None,  # noqa: ASYNC109 (an answer, not a cancellation)
        *,
        poll_initial: float = WAIT_POLL_INITIAL,
        poll_max: float = WAIT_POLL_MAX,
    ) -> Job:
        """The job once terminal (long-polls of at most a minute); `WaitTimedOut` at `timeout`.
        Passing upstream failures are ridden out, pausing `poll_initial` growing to `poll_max`."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        last: Job | None = None
        last_error: GatewayError | None = None
        pause = poll_initial
        while True:
            left = math.inf if deadline is None else deadline - time.monotonic()
            try:
                job = await self._run(wire.long_poll(job_id, min(left, MAX_LONG_POLL)), Job)
            except GatewayError as exc:
                if not exc.retryable:
                    raise
                last_error = exc
                await anyio.sleep(max(0.0, min(pause, left)))
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
    ) -> RemoteSubscription:
        """Every change of a job until it is terminal (`async with gw.watch(id) as events:`),
        resumed with Last-Event-ID whenever the connection drops; `WaitTimedOut` at `timeout`.
        While the vendor fails (retryable problem events) it goes on (`ride_out_failing=False`
        raises the first such problem instead)."""
        settings = self.settings
        state = StreamState(
            settings.url, job_id, last_event_id, timeout, settings.retry, ride_out_failing
        )
        return RemoteSubscription(self, state)

    # -- the one request path ------------------------------------------------------------------

    async def _run(self, call: Call, model: type[M]) -> M:
        async for attempt in AsyncRetrying(**wire.retrying(self.settings.retry, call)):
            with attempt:
                response = await self._send(call)
                return wire.decode(response, model)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _send(self, call: Call, stream: bool = False) -> httpx.Response:
        try:
            return await self._http.send(call.request(self._http), stream=stream)
        except httpx.TransportError as exc:
            what = f"{call.method} {call.path}"
            raise wire.transport_error(exc, self.settings.url, what) from None


class RemoteSubscription:
    """One remote watch: an async iterator of JobEvents (like the library's Subscription)."""

    def __init__(self, client: AsyncGatewayClient, state: StreamState) -> None:
        self._client = client
        self._state = state
        self._response: httpx.Response | None = None
        self._lines: Any = None
        self._parser = SseParser()

    @property
    def job_id(self) -> str:
        return self._state.job_id

    @property
    def last_event_id(self) -> str | None:
        return self._state.last_event_id

    async def __aenter__(self) -> RemoteSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> RemoteSubscription:
        return self

    async def __anext__(self) -> JobEvent:
        try:
            return await self._next()
        except BaseException:  # a problem event, the timeout, a cancel: release the stream
            await self.aclose()
            raise

    async def _next(self) -> JobEvent:
        state = self._state
        while not state.done:
            if self._lines is None and not await self._connect():
                continue
            try:
                line = await self._lines.__anext__()
            except StopAsyncIteration:
                await self._disconnect()
                if not state.done:
                    state.ended()
                    await anyio.sleep(state.pause())
                continue
            except httpx.TransportError as exc:
                await self._disconnect()
                state.dropped(exc)
                await anyio.sleep(state.pause())
                continue
            frame = self._parser.feed(line)
            event = state.frame(frame) if frame is not None else None
            if event is not None:
                return event
        await self.aclose()
        raise StopAsyncIteration

    async def _connect(self) -> bool:
        state = self._state
        try:
            response = await self._client._send(state.call(), stream=True)
        except (GatewayUnreachable, GatewayTimedOut) as exc:
            state.dropped(exc)
            await anyio.sleep(state.pause())
            return False
        refusal = None
        if response.status_code >= 400:
            await response.aread()
            refusal = error_from_response(response)
        if not state.opened(response, refusal):
            await response.aclose()
            if not state.done:
                await anyio.sleep(state.pause())
            return False
        self._response, self._lines, self._parser = response, response.aiter_lines(), SseParser()
        return True

    async def _disconnect(self) -> None:
        response, self._response, self._lines = self._response, None, None
        if response is not None:
            await response.aclose()

    async def aclose(self) -> None:
        self._state.done = True
        await self._disconnect()
