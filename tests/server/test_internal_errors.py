"""Our own bugs: a 500 internal-error problem with the request id, the details only in the log.

These run in-process (httpx over ASGI) because they need a bug planted in the app.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.server import create_app
from gateway.server.logs import JsonFormatter, RequestIdFilter

SECRET_DETAIL = "db password is hunter2"


class ExplodingTransport(httpx.AsyncBaseTransport):
    """A vendor connection that hits a bug (not a network error) on every call."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise ZeroDivisionError(SECRET_DETAIL)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The gateway's log pipeline as `eval-gateway serve` sets it up, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gateway")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_bug_in_a_route_is_a_problem_and_a_logged_traceback(
    json_log: io.StringIO,
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError(SECRET_DETAIL)

    app = create_app()
    app.router.routes.append(Route("/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get("/broken", headers={"X-Request-ID": "bug-1"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "bug-1"
    problem = response.json()
    assert problem["type"] == "/problems/internal-error" and problem["request_id"] == "bug-1"
    assert SECRET_DETAIL not in response.text and "RuntimeError" not in response.text

    (logged,) = [r for r in records(json_log) if r["level"] == "error"]
    assert logged["request_id"] == "bug-1"
    assert "RuntimeError: " + SECRET_DETAIL in str(logged["exception"])


async def test_a_bug_below_an_adapter_is_an_internal_error_problem(
    json_log: io.StringIO,
) -> None:
    app = create_app(transports={"do-sim": ExplodingTransport()})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        response = await client.get("/v1/jobs/do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4")
        health = (await client.get("/v1/backends")).json()

    assert response.status_code == 500
    problem = response.json()
    assert problem["type"] == "/problems/internal-error"
    assert problem["backend"] == "do-sim" and problem["request_id"]
    assert SECRET_DETAIL not in response.text
    logged = [r for r in records(json_log) if r["level"] == "error"]
    assert logged and logged[0]["request_id"] == problem["request_id"]
    # Our bug is not the vendor's failure: the backend is not reported as failing.
    (do_sim,) = [b for b in health["backends"] if b["name"] == "do-sim"]
    assert do_sim["health"]["state"] == "ok"
    assert do_sim["health"]["last_outcome"] == "internal-error"
