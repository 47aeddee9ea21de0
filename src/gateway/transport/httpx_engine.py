"""The httpx engine: any httpx transport (a simulator, a cassette, a MockTransport, a socket).

Used for a transport given by the caller (tests, cassettes, the in-process simulators,
`AsyncGateway(transports=...)`) and for `http_client: httpx` in the config.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
from collections.abc import Mapping
from typing import Any

import httpx

from gateway.transport.base import (
    ConnectFailed,
    ConnectionDropped,
    Deadlines,
    ErrorTable,
    InvalidResponse,
    Params,
    Timeout,
    TransportError,
    UpstreamAnswer,
)

HTTPX_ERRORS = ErrorTable(
    (
        (httpx.TimeoutException, Timeout),  # connect, pool, read and write
        (httpx.ConnectError, ConnectFailed),
        (httpx.InvalidURL, InvalidResponse),  # e.g. a redirect to an unparsable Location
        (httpx.DecodingError, InvalidResponse),  # a broken content encoding
        (httpx.TooManyRedirects, InvalidResponse),
        # A closed or reset connection, a body cut short, or bytes that are not HTTP.
        (httpx.RemoteProtocolError, ConnectionDropped),
        (httpx.ReadError, ConnectionDropped),
        (httpx.WriteError, ConnectionDropped),
        (httpx.TransportError, TransportError),  # e.g. a redirect to a non-HTTP scheme
        (TimeoutError, Timeout),  # a caller's transport raising the builtin ones
        (OSError, ConnectionDropped),
    )
)
_CAUGHT = HTTPX_ERRORS.catches


def no_cookies() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: a vendor's cookies would be shared by every caller of the
    backend (the gateway authenticates with its key), as in the aiohttp engine."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class HttpxUpstream:
    """An `httpx.AsyncClient` behind the engine interface."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        headers: Mapping[str, str],
        deadlines: Deadlines,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int,
        max_keepalive_connections: int,
        keepalive_expiry: float,
    ) -> HttpxUpstream:
        """A client of its own for one backend; without `transport`, a socket pool that
        never retries (gateway.resilience does)."""
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
        )
        return cls(
            httpx.AsyncClient(
                base_url=base_url,
                headers=headers,
                timeout=deadlines.for_httpx(),
                transport=transport or httpx.AsyncHTTPTransport(limits=limits, retries=0),
                follow_redirects=False,
                cookies=no_cookies(),
            )
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        close_if_error: bool = False,
    ) -> UpstreamAnswer:
        try:
            response = await self.client.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                follow_redirects=follow_redirects,
            )
        except _CAUGHT as exc:
            raise HTTPX_ERRORS.translate(exc) from None
        if close_if_error and response.status_code >= 400:
            stream = response.extensions.get("network_stream")
            if stream is not None:
                with contextlib.suppress(Exception):  # best effort: a closed stream is gone
                    await stream.aclose()
        return UpstreamAnswer(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        await self.client.aclose()
