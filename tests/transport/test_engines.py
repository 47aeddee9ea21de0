"""The two engines (gateway.transport) send the same request and read the same answer.

Real vendors are reached through aiohttp, simulators and cassettes through httpx: a vendor must
not be able to tell them apart, and adapters must not either.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.transport import (
    AiohttpUpstream,
    ConnectFailed,
    ConnectionDropped,
    Deadlines,
    HttpxUpstream,
    Timeout,
    UpstreamClient,
)
from gateway.transport.aiohttp_engine import AIOHTTP_ERRORS, env_proxy
from tests.support.servers import free_port, serve_in_thread

SECRET = "sk-upstream-secret-123"


async def echo(request: Request) -> Response:
    """What the server saw, as JSON; status and headers as the query asks."""
    seen = {
        "method": request.method,
        "path": request.url.path,
        "query": request.scope["query_string"].decode(),
        "body": (await request.body()).decode(),
        "content_type": request.headers.get("content-type"),
        "authorization": request.headers.get("authorization"),
        "extra": request.headers.get("x-extra"),
        "cookie": request.headers.get("cookie"),
    }
    status = int(request.query_params.get("status", "200"))
    answer = JSONResponse(seen, status_code=status, headers={"Retry-After": "7"})
    if "set_cookie" in request.query_params:
        answer.set_cookie("sessionid", "vendor-session-1", path="/")
    return answer


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "DELETE"])])
    with serve_in_thread(app) as url:
        yield url


def deadlines(read: float = 5.0) -> Deadlines:
    return Deadlines(connect=2.0, read=read, write=5.0, pool=2.0)


def engines(base: str, read: float = 5.0) -> dict[str, UpstreamClient]:
    headers = {"Authorization": f"Bearer {SECRET}"}
    return {
        "httpx": HttpxUpstream(
            httpx.AsyncClient(base_url=base, headers=headers, timeout=deadlines(read).for_httpx())
        ),
        "aiohttp": AiohttpUpstream(
            base, headers=headers, deadlines=deadlines(read), max_connections=10, keepalive_expiry=5
        ),
    }


@pytest.fixture
async def both(server: str) -> AsyncIterator[dict[str, UpstreamClient]]:
    clients = engines(server + "/base")
    yield clients
    for client in clients.values():
        await client.aclose()


CALLS: list[dict[str, Any]] = [
    {"method": "GET", "url": "/v1/jobs/a%2Fb"},
    {"method": "GET", "url": "/v1/jobs", "params": {"limit": 5, "on": True, "off": False}},
    {"method": "GET", "url": "/list", "params": {"ids": ["x", "y z"], "empty": None}},
    {"method": "POST", "url": "/create", "json_body": {"name": "é", "n": [1, 2.5, None]}},
    {"method": "DELETE", "url": "/v1/jobs/1", "headers": {"X-Extra": "yes"}},
    {"method": "GET", "url": "/fail", "params": {"status": 429}},
]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c['method']} {c['url']}")
async def test_both_engines_send_the_same_request_and_read_the_same_answer(
    both: dict[str, UpstreamClient], call: dict[str, Any]
) -> None:
    answers = {name: await client.request(**call) for name, client in both.items()}
    seen = {name: json.loads(a.content) for name, a in answers.items()}
    assert seen["aiohttp"] == seen["httpx"]
    assert seen["httpx"]["path"].startswith("/base/")  # the base URL's path is kept
    assert seen["httpx"]["authorization"] == f"Bearer {SECRET}"
    assert answers["aiohttp"].status_code == answers["httpx"].status_code
    for answer in answers.values():
        assert answer.headers["retry-after"] == "7"  # case-insensitive headers
        assert answer.headers["Content-Type"] == "application/json"


async def test_an_absolute_url_is_used_as_given(server: str) -> None:
    for client in engines(server + "/base").values():
        answer = await client.request("GET", f"{server}/elsewhere")
        assert json.loads(answer.content)["path"] == "/elsewhere"
        await client.aclose()


async def test_an_unreachable_vendor_is_a_connect_error_in_both_engines() -> None:
    for client in engines(f"http://127.0.0.1:{free_port()}").values():
        with pytest.raises(ConnectFailed):
            await client.request("GET", "/v1/jobs")
        await client.aclose()


async def test_a_slow_vendor_is_a_read_timeout_in_both_engines() -> None:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(2)
        return Response("late")

    with serve_in_thread(Starlette(routes=[Route("/slow", slow)])) as url:
        for client in engines(url, read=0.2).values():
            with pytest.raises(Timeout):
                await client.request("GET", "/slow")
            await client.aclose()


def test_the_aiohttp_engine_never_shows_its_credential() -> None:
    client = AiohttpUpstream(
        "https://vendor.example",
        headers={"Authorization": f"Bearer {SECRET}"},
        deadlines=deadlines(),
        max_connections=1,
        keepalive_expiry=1,
    )
    assert SECRET not in repr(client)


def test_mapped_errors_carry_no_message_from_the_library() -> None:
    import aiohttp

    mapped = AIOHTTP_ERRORS.translate(aiohttp.ClientPayloadError(f"https://x/?key={SECRET}"))
    assert isinstance(mapped, ConnectionDropped)
    assert SECRET not in str(mapped)


def test_the_proxy_comes_from_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "https_proxy", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    assert env_proxy("https://vendor.example/v1") == "http://proxy.internal:3128"
    assert env_proxy("https://direct.example/v1") is None
    assert env_proxy("http://vendor.example") is None  # no HTTP_PROXY set


async def test_neither_engine_keeps_a_vendors_cookies(server: str) -> None:
    """Every caller of a backend shares its client: a cookie one answer set must not ride
    along on the next call (the gateway authenticates with the backend's key)."""
    clients: dict[str, UpstreamClient] = {
        "httpx": HttpxUpstream.open(
            server,
            headers={},
            deadlines=deadlines(),
            max_connections=4,
            max_keepalive_connections=4,
            keepalive_expiry=5,
        ),
        "aiohttp": AiohttpUpstream(
            server, headers={}, deadlines=deadlines(), max_connections=4, keepalive_expiry=5
        ),
    }
    try:
        for name, client in clients.items():
            first = await client.request("GET", "/login", params={"set_cookie": "1"})
            assert "sessionid=" in first.headers.get("set-cookie", ""), name
            second = await client.request("GET", "/v1/jobs")
            assert json.loads(second.content)["cookie"] is None, name
    finally:
        for client in clients.values():
            await client.aclose()
