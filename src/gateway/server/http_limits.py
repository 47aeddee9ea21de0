"""Limits on the request line and headers, answered as problems (414, 431) like every error.

uvicorn's HTTP parser refuses what it cannot read (a URL past ~64 KB, a malformed request)
with its own `text/plain` 400 before any ASGI app sees the request. `eval-gateway serve`
therefore runs `GatewayHttpToolsProtocol`: the same parser with our limits checked while it
reads (far below the parser's own), and every refusal written as `application/problem+json`.
`head_refusal` applies the same limits in server.middleware.size_limits, for any other ASGI
server. The protocol also writes each answer in one piece (server.coalesced_writes).
"""

from __future__ import annotations

import asyncio
import random

from starlette.types import Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.errors import GatewayError, HeadersTooLarge, InvalidRequest, UriTooLong
from gateway.schemas import DEFAULT_PROBLEM_BASE
from gateway.server.coalesced_writes import CoalescingTransport
from gateway.server.problems import PROBLEM_MEDIA_TYPE, problem_json

MAX_URL_BYTES = 8192  # path and query string; a page token (4096) fits with room to spare
MAX_HEADER_BYTES = 32768  # all header names and values together
_HEADER_OVERHEAD = 4  # ": " and CRLF per header line


def url_too_long() -> UriTooLong:
    return UriTooLong(f"the URL (path and query) is longer than {MAX_URL_BYTES} bytes")


def headers_too_large() -> HeadersTooLarge:
    return HeadersTooLarge(f"the request headers are larger than {MAX_HEADER_BYTES} bytes")


def head_refusal(scope: Scope) -> GatewayError | None:
    """A 414/431 problem for a request over the limits, else None."""
    if len(scope.get("raw_path") or scope["path"]) + len(scope["query_string"]) > MAX_URL_BYTES:
        return url_too_long()
    size = 0
    for name, value in scope["headers"]:
        size += len(name) + len(value) + _HEADER_OVERHEAD
    return headers_too_large() if size > MAX_HEADER_BYTES else None


class _OverLimit(Exception):
    """Raised from a parser callback: the parser stops and the request is refused."""


class GatewayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with our limits and problem+json refusals, writing each
    answer in one piece (gateway.server.coalesced_writes)."""

    _refusal: GatewayError | None = None
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(coalescing)  # type: ignore[arg-type]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._refusal, self._header_bytes = None, 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._refusal = url_too_long()
            raise _OverLimit

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + _HEADER_OVERHEAD
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refusal = headers_too_large()
            raise _OverLimit
        super().on_header(name, value)

    def send_400_response(self, msg: str) -> None:
        """Every refusal of the parser (ours or its own) as a problem; then close."""
        error = self._refusal or InvalidRequest("the request is not valid HTTP/1.1")
        request_id = f"{random.getrandbits(128):032x}"  # as the middleware's: no request yet
        error.request_id = request_id
        body = problem_json(error.problem(DEFAULT_PROBLEM_BASE))
        head = [STATUS_LINE[error.status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(head))
        self.transport.close()
