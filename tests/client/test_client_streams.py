"""Watching over server-sent events through the remote client: a connection dropped
mid-stream is resumed with Last-Event-ID (no change missed, none seen twice), against the real
server; problem events, 204 and timeouts as the library has them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gateway import Forbidden, JobNotFound, JobStatus, WaitTimedOut
from gateway.client import AsyncGatewayClient, GatewayClient
from tests.client.conftest import FAST_RETRY, KEY, create_live_job
from tests.client.test_client_answers import JOB
from tests.server.proc import Proc

QUEUED, RUNNING, DONE = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED
THREE_STAGES = (("scheduled", 1.0), ("in_progress", 1.0), ("completed", None))


class _CutAsync(httpx.AsyncByteStream):
    """An event stream that breaks (connection reset) right after its first event."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = b""
        async for chunk in self.inner:
            seen += chunk
            if b"\n\n" in seen:
                yield seen[: seen.index(b"\n\n") + 2]
                raise httpx.ReadError("connection reset by the test")

    async def aclose(self) -> None:
        await self.inner.aclose()


class DroppingAsync(httpx.AsyncBaseTransport):
    """The real transport, except that the first event stream is cut after one event."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.event_requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/events"):
            self.event_requests.append(request)
            if len(self.event_requests) == 1:
                assert isinstance(response.stream, httpx.AsyncByteStream)
                return httpx.Response(
                    response.status_code,
                    headers=response.headers,
                    stream=_CutAsync(response.stream),
                )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CutSync(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[bytes]:
        seen = b""
        for chunk in self.inner:
            seen += chunk
            if b"\n\n" in seen:
                yield seen[: seen.index(b"\n\n") + 2]
                raise httpx.ReadError("connection reset by the test")

    def close(self) -> None:
        self.inner.close()


class DroppingSync(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.event_requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/events"):
            self.event_requests.append(request)
            if len(self.event_requests) == 1:
                assert isinstance(response.stream, httpx.SyncByteStream)
                return httpx.Response(
                    response.status_code, headers=response.headers, stream=_CutSync(response.stream)
                )
        return response

    def close(self) -> None:
        self.inner.close()


async def test_a_dropped_stream_resumes_after_the_last_event(
    remote: Proc, live_vendor: Proc
) -> None:
    job_id = create_live_job(live_vendor, *THREE_STAGES)
    transport = DroppingAsync()
    async with (
        AsyncGatewayClient(remote.url, api_key=KEY, transport=transport, retry=FAST_RETRY) as gw,
        gw.watch(job_id) as stream,
    ):
        seen = [event async for event in stream]
    assert [e.job.status for e in seen] == [QUEUED, RUNNING, DONE]
    assert [e.seq for e in seen] == [1, 2, 3]  # the same poller: nothing replayed twice
    first, second, *_ = transport.event_requests
    assert "last-event-id" not in first.headers
    assert second.headers["last-event-id"] == seen[0].id


def test_the_blocking_client_resumes_the_same_way(remote: Proc, live_vendor: Proc) -> None:
    job_id = create_live_job(live_vendor, *THREE_STAGES)
    transport = DroppingSync()
    with GatewayClient(remote.url, api_key=KEY, transport=transport, retry=FAST_RETRY) as gw:
        seen = list(gw.watch(job_id))
    assert [e.job.status for e in seen] == [QUEUED, RUNNING, DONE]
    assert transport.event_requests[1].headers["last-event-id"] == seen[0].id


def test_a_watch_gives_up_at_its_timeout(remote: Proc) -> None:
    with GatewayClient(remote.url, api_key=KEY) as gw:
        events = gw.watch("ls-sim~mmlu~eval-in-progress", timeout=1.0)
        first = next(events)
        assert first.job.status is RUNNING
        with pytest.raises(WaitTimedOut) as caught:
            next(events)
    assert caught.value.job_status == "running"


def _stream(*frames: str, status: int = 200) -> httpx.MockTransport:
    body = "".join(frames).encode()
    headers = {"content-type": "text/event-stream"}
    return httpx.MockTransport(
        lambda request: httpx.Response(status, content=body, headers=headers)
    )


def test_a_problem_event_raises_its_typed_error() -> None:
    problem = {"type": "/problems/job-not-found", "title": "Job not found", "status": 404}
    transport = _stream(": heartbeat\n\n", f"event: problem\ndata: {json.dumps(problem)}\n\n")
    with GatewayClient("http://gw.test", transport=transport) as gw, pytest.raises(JobNotFound):
        list(gw.watch("ls-sim~mmlu~x"))


def test_no_content_means_the_caller_has_everything() -> None:
    with GatewayClient("http://gw.test", transport=_stream(status=204)) as gw:
        assert list(gw.watch("ls-sim~mmlu~x", last_event_id="ab.3.cd")) == []


async def test_the_async_watch_raises_a_problem_event_and_releases_the_stream() -> None:
    problem = {"type": "/problems/forbidden", "title": "Forbidden", "status": 403}
    transport = _stream(
        f"id: ab.1.cd\nevent: status\ndata: {json.dumps(JOB)}\n\n",
        f"event: problem\ndata: {json.dumps(problem)}\n\n",
    )
    async with AsyncGatewayClient("http://gw.test", transport=transport) as gw:
        stream = gw.watch(JOB["id"])
        first = await stream.__anext__()
        assert (first.id, first.seq, first.job.status) == ("ab.1.cd", 1, RUNNING)
        with pytest.raises(Forbidden):
            await stream.__anext__()
        assert stream.last_event_id == "ab.1.cd"
        with pytest.raises(StopAsyncIteration):  # released: nothing more
            await stream.__anext__()
