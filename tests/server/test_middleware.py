"""The server's own middleware stack, concern by concern, in-process (httpx over ASGI).

What the real-server tests do not pin: the access line and the request counter of refusals,
bugs and disconnects, `server.access_log: false`, the request id outside a request, and a
bug after the answer has started.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message

from gateway.config import GatewayConfig, default_config
from gateway.server import create_app
from gateway.server.logs import REQUEST_ID
from gateway.server.metrics import Metrics

UNMATCHED = "<unmatched>"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.request_ids: list[str | None] = []  # what each line's RequestIdFilter would read

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.request_ids.append(REQUEST_ID.get())

    def access(self) -> list[dict[str, Any]]:
        return [r.fields for r in self.records if r.name == "gateway.access"]  # type: ignore[attr-defined]


@pytest.fixture
def logged() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger("gateway")
    before = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(before)


def config(**server: Any) -> GatewayConfig:
    base = default_config()
    return base.model_copy(update={"server": base.server.model_copy(update=server)})


async def bug(request: Request) -> Response:
    raise RuntimeError("planted")


async def echo_length(request: Request) -> Response:
    return Response(str(len(await request.body())))


async def bug_mid_answer(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first part"
        raise RuntimeError("planted after the start")

    return StreamingResponse(chunks())


def planted(cfg: GatewayConfig | None = None) -> Starlette:
    app = create_app(cfg or config())
    app.router.routes += [
        Route("/bug", bug),
        Route("/echo", echo_length, methods=["POST"]),
        Route("/bug-mid-answer", bug_mid_answer),
    ]
    return app


def client(app: Starlette, *, raise_app_exceptions: bool = False) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://gw")


async def two_chunks_of(size: int) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked): only its reading can find it too large."""
    for _ in range(2):
        yield b"x" * size


def request_count(app: Starlette, route: str, backend: str, status: int) -> float:
    metrics: Metrics = app.state.metrics
    value = metrics.registry.get_sample_value(
        "gateway_http_requests_total",
        {"route": route, "backend": backend, "status": str(status)},
    )
    return value or 0.0


async def test_a_bug_is_logged_and_counted_as_a_500_of_its_route(logged: Captured) -> None:
    app = planted()
    async with client(app) as http:
        response = await http.get("/bug", headers={"X-Request-ID": "mw-bug-1"})
    assert response.status_code == 500
    (line,) = logged.access()
    assert line["route"] == "/bug" and line["status"] == 500
    assert line["outcome"] == "internal-error" and line["method"] == "GET"
    (record,) = [r for r in logged.records if r.name == "gateway.access"]
    assert record.levelno == logging.INFO and record.getMessage() == "GET /bug 500"
    assert request_count(app, "/bug", "", 500) == 1


async def test_an_oversized_body_is_refused_before_routing_with_the_request_id(
    logged: Captured,
) -> None:
    app = planted(config(max_body_bytes=10))
    async with client(app) as http:
        declared = await http.post("/echo", content=b"x" * 11, headers={"X-Request-ID": "big-1"})
        streamed = await http.post("/echo", content=two_chunks_of(6))
        fits = await http.post("/echo", content=b"x" * 10)
    assert declared.status_code == 413 and declared.headers["x-request-id"] == "big-1"
    assert declared.headers["content-type"] == "application/problem+json"
    assert declared.json()["request_id"] == "big-1"
    assert streamed.status_code == 413 and streamed.json()["type"].endswith("/payload-too-large")
    assert (fits.status_code, fits.text) == (200, "10")
    lines = logged.access()
    assert [(x["status"], x["outcome"]) for x in lines] == [
        (413, "payload-too-large"),
        (413, "payload-too-large"),
        (200, "ok"),
    ]
    # Refused on its Content-Length, before the router matched a route.
    assert lines[0]["route"] == UNMATCHED and lines[1]["route"] == "/echo"
    assert request_count(app, UNMATCHED, "", 413) == 1
    assert request_count(app, "/echo", "", 413) == 1


async def test_access_log_off_still_counts_and_still_names_the_request(logged: Captured) -> None:
    app = planted(config(access_log=False))
    async with client(app) as http:
        response = await http.get("/healthz", headers={"X-Request-ID": "quiet-1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "quiet-1"
    assert logged.access() == []
    assert request_count(app, "/healthz", "", 200) == 1


async def test_a_client_that_leaves_mid_body_is_a_499_not_a_bug(logged: Captured) -> None:
    app = planted()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gw"), (b"x-request-id", b"gone-1")],
        "client": ("127.0.0.1", 1),
        "server": ("gw", 80),
    }
    incoming: list[Message] = [
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent == []  # nobody left to answer
    assert not [r for r in logged.records if r.levelno >= logging.ERROR]
    (line,) = logged.access()
    assert (line["status"], line["outcome"]) == (499, "client-disconnected")
    assert request_count(app, "/echo", "", 499) == 1


async def test_a_bug_after_the_answer_started_is_not_a_second_answer(logged: Captured) -> None:
    app = planted()
    async with client(app, raise_app_exceptions=True) as http:
        with pytest.raises(RuntimeError, match="planted after the start"):
            await http.get("/bug-mid-answer", headers={"X-Request-ID": "late-1"})
    errors = [r for r in logged.records if r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info is not None
    (line,) = logged.access()
    assert (line["status"], line["outcome"]) == (200, "internal-error")
    assert request_count(app, "/bug-mid-answer", "", 200) == 1
    assert REQUEST_ID.get() is None  # the id does not leak past its request


async def test_log_lines_below_the_stack_and_the_access_line_carry_the_request_id(
    logged: Captured,
) -> None:
    seen: list[str | None] = []

    async def note_id(request: Request) -> Response:
        seen.append(REQUEST_ID.get())
        return Response("ok")

    app = planted()
    app.router.routes.append(Route("/note-id", note_id))
    async with client(app) as http:
        given = await http.get("/note-id", headers={"X-Request-ID": "mine-1"})
        junk = await http.get("/note-id", headers={"X-Request-ID": "no spaces allowed"})
    assert seen[0] == "mine-1" == given.headers["x-request-id"]
    assert seen[1] == junk.headers["x-request-id"] and len(seen[1] or "") == 32
    assert REQUEST_ID.get() is None
    access_ids = [
        rid
        for r, rid in zip(logged.records, logged.request_ids, strict=True)
        if r.name == "gateway.access"
    ]
    assert access_ids == seen
