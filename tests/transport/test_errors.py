"""Whatever goes wrong on the wire, an engine raises only gateway.transport's error family.

Adapters catch nothing else (gateway.adapters.base), so a library exception escaping an engine
would reach the caller as an internal error instead of a typed, retryable upstream problem.
Each case is a loopback server that answers with exactly the bytes under test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from gateway.config import BackendConfig, Timeouts
from gateway.core.backends import open_backend
from gateway.transport import (
    AiohttpUpstream,
    ConnectFailed,
    ConnectionDropped,
    Deadlines,
    HttpxUpstream,
    InvalidResponse,
    Timeout,
    TransportError,
    UpstreamClient,
)
from tests.support.servers import free_port

SECRET = "sk-transport-secret-456"
DEADLINES = Deadlines(connect=2.0, read=0.2, write=2.0, pool=2.0)
FAMILY = (ConnectFailed, Timeout, ConnectionDropped, InvalidResponse, TransportError)
SILENT = b""  # read the request, never answer


def redirect(location: bytes) -> bytes:
    return b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"


@dataclass(frozen=True)
class Case:
    answer: bytes | None  # None: close the connection without a byte of answer
    # What each engine raises (one class where both agree).
    expected: dict[str, type[TransportError]]
    keep_alive: bool = False  # redirects: answer the next request on the same connection


def both(error: type[TransportError]) -> dict[str, type[TransportError]]:
    return {"httpx": error, "aiohttp": error}


CASES: dict[str, Case] = {
    "read timeout": Case(SILENT, both(Timeout)),
    "dropped before an answer": Case(None, both(ConnectionDropped)),
    "garbage instead of HTTP": Case(b"NOT HTTP AT ALL\r\n\r\n", both(ConnectionDropped)),
    "body cut short": Case(
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":', both(ConnectionDropped)
    ),
    "redirect loop": Case(redirect(b"/again"), both(InvalidResponse), keep_alive=True),
    # httpx reports an unparsable Location as a RemoteProtocolError; aiohttp as InvalidURL.
    "unparsable redirect": Case(
        redirect(b"http://127.0.0.1:port/"),
        {"httpx": ConnectionDropped, "aiohttp": InvalidResponse},
        keep_alive=True,
    ),
    "redirect to a non-HTTP scheme": Case(
        redirect(b"ftp://127.0.0.1/x"), both(TransportError), keep_alive=True
    ),
    # httpx decodes the body itself (DecodingError); aiohttp reports a payload error.
    "broken gzip body": Case(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
        {"httpx": InvalidResponse, "aiohttp": ConnectionDropped},
    ),
}


class CannedServer:
    """Answers every request with `case.answer`, then closes unless `case.keep_alive`."""

    def __init__(self) -> None:
        self.case = CASES["read timeout"]
        self.stop = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await _request_head(reader):
                answer = self.case.answer
                if answer is None:
                    break
                if answer == SILENT:
                    await self.stop.wait()
                    break
                writer.write(answer)
                await writer.drain()
                if not self.case.keep_alive:
                    break
        finally:
            writer.close()


async def _request_head(reader: asyncio.StreamReader) -> bool:
    try:
        await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return False
    return True


@pytest.fixture
async def canned() -> AsyncIterator[tuple[CannedServer, str]]:
    served = CannedServer()
    server = await asyncio.start_server(served.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield served, f"http://127.0.0.1:{port}"
    served.stop.set()
    server.close()
    await server.wait_closed()


ENGINES: dict[str, Callable[[str], UpstreamClient]] = {
    "httpx": lambda base: HttpxUpstream.open(
        base,
        headers={},
        deadlines=DEADLINES,
        max_connections=4,
        max_keepalive_connections=4,
        keepalive_expiry=1,
    ),
    "aiohttp": lambda base: AiohttpUpstream(
        base, headers={}, deadlines=DEADLINES, max_connections=4, keepalive_expiry=1
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
async def test_a_broken_answer_is_one_of_our_transport_errors(
    canned: tuple[CannedServer, str], engine: str, case: str
) -> None:
    served, base = canned
    served.case = CASES[case]
    client = ENGINES[engine](base)
    try:
        with pytest.raises(TransportError) as raised:
            await client.request("GET", f"/v1/jobs?key={SECRET}", follow_redirects=True)
    finally:
        await client.aclose()
    assert type(raised.value) is CASES[case].expected[engine]
    assert type(raised.value) in FAMILY
    assert SECRET not in str(raised.value) and "127.0.0.1" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_refused_connection_is_connect_failed(engine: str) -> None:
    client = ENGINES[engine](f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(ConnectFailed):
            await client.request("GET", "/v1/jobs")
    finally:
        await client.aclose()


def test_the_deadlines_reach_each_engine_in_its_own_terms() -> None:
    deadlines = Deadlines(connect=1.5, read=7.0, write=3.0, pool=0.5)
    as_httpx = deadlines.for_httpx()
    assert (as_httpx.connect, as_httpx.read, as_httpx.write, as_httpx.pool) == (1.5, 7.0, 3.0, 0.5)
    as_aiohttp = deadlines.for_aiohttp()
    assert as_aiohttp.total is None  # the whole call's deadline is the resilience layer's
    assert (as_aiohttp.connect, as_aiohttp.sock_connect, as_aiohttp.sock_read) == (2.0, 1.5, 7.0)


@pytest.mark.parametrize("engine", ENGINES)
async def test_a_backend_gets_the_timeouts_of_its_config(engine: str) -> None:
    timeouts = {"connect": 1.5, "read": 7.0, "write": 3.0, "pool": 0.5}
    config = BackendConfig(
        vendor="overmind",
        base_url="https://overmind.example",
        http_client=engine,
        timeouts=Timeouts(**timeouts),
    )
    backend = open_backend("om", config)
    try:
        if isinstance(backend.http, HttpxUpstream):
            got = backend.http.client.timeout
            assert (got.connect, got.read, got.write, got.pool) == (1.5, 7.0, 3.0, 0.5)
        else:
            assert isinstance(backend.http, AiohttpUpstream)
            assert backend.http._timeout == Deadlines(**timeouts).for_aiohttp()
    finally:
        await backend.aclose()
