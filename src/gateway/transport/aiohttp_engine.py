"""The aiohttp engine: how real vendors (`http(s)://` base URLs) are reached by default.

Measured in bench/ on the benchmark machine (docs/benchmarks.md), one call through an
`httpx.AsyncClient` cost 1.6 ms of CPU against 0.2 ms through aiohttp: httpcore rescans its
pool with a poll() per idle connection on every request (encode/httpcore#1035), and the client
layer parses URLs and cookies per call. It sends the bytes the httpx engine sends (same JSON
encoding, same query rules), so a vendor cannot tell the two apart.
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import aiohttp
import certifi
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

AIOHTTP_ERRORS = ErrorTable(
    (
        (aiohttp.ServerTimeoutError, Timeout),  # connecting, waiting for a pooled one, reading
        (aiohttp.TooManyRedirects, InvalidResponse),
        (aiohttp.InvalidURL, InvalidResponse),  # e.g. a redirect to an unparsable Location
        (aiohttp.ClientConnectorError, ConnectFailed),
        (aiohttp.ClientPayloadError, ConnectionDropped),  # a body cut short or undecodable
        (aiohttp.ClientResponseError, ConnectionDropped),  # bytes that are not HTTP
        (aiohttp.ClientConnectionError, ConnectionDropped),  # closed or reset mid-call
        (aiohttp.ClientError, TransportError),  # e.g. a redirect to a non-HTTP scheme
        (TimeoutError, Timeout),
        (OSError, ConnectionDropped),
    )
)
_CAUGHT = AIOHTTP_ERRORS.catches


def env_proxy(base_url: str) -> str | None:
    """The proxy the environment names for `base_url` (None: go direct)."""
    parts = urllib.parse.urlsplit(base_url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def encode_json(body: Any) -> bytes:
    # httpx's own encoding of `json=`, so both engines send the same bytes.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class CountingConnector(aiohttp.TCPConnector):
    """aiohttp's pool, counting the connections it opens (`gateway_upstream_connections_opened`
    in /metrics): under steady load the count stays flat when connections are reused."""

    opened = 0

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        # aiohttp's one private hook for a new connection (its TraceConfig would add a trace
        # object to every request); a test pins that it is still called.
        protocol = await super()._create_connection(*args, **kwargs)
        self.opened += 1
        return protocol


class AiohttpUpstream:
    """One pooled session per backend, created on first use (it needs the running loop)."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        deadlines: Deadlines,
        max_connections: int,
        keepalive_expiry: float,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self._timeout = deadlines.for_aiohttp()
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._connector: CountingConnector | None = None

    @property
    def connections_opened(self) -> int:
        """Connections opened to the vendor so far (new TCP/TLS connections, not reuses)."""
        return self._connector.opened if self._connector is not None else 0

    def __repr__(self) -> str:  # the headers hold the credential: never show them
        return f"AiohttpUpstream({self.base_url!r})"

    def _open(self) -> aiohttp.ClientSession:
        connector = self._connector = CountingConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
            # httpx's trust store, so both engines trust the same vendors
            ssl=ssl.create_default_context(cafile=certifi.where()),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=self._timeout,
            # HTTP(S)_PROXY / NO_PROXY as httpx honours them, read once: aiohttp's trust_env
            # would re-read the environment and ~/.netrc on every request.
            proxy=env_proxy(self.base_url),
            auto_decompress=True,
            raise_for_status=False,
            # A vendor's cookies are never kept: they would be shared by every caller of the
            # backend (the gateway authenticates with its key). Also a per-call saving.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

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
        session = self._session or self._open()
        target = url if url.startswith(("http://", "https://")) else self.base_url + url
        sent_headers = dict(headers or {})
        data = None
        if json_body is not None:
            data = encode_json(json_body)
            sent_headers.setdefault("Content-Type", "application/json")
        # httpx's rules for query values (True -> "true", None -> "", lists repeat the key)
        query = httpx.QueryParams(params).multi_items() if params else None
        try:
            async with session.request(
                method,
                target,
                params=query,
                data=data,
                headers=sent_headers,
                allow_redirects=follow_redirects,
            ) as response:
                content = await response.read()
                if close_if_error and response.status >= 400:
                    _close_connection(response)
                return UpstreamAnswer(response.status, response.headers, content)
        except _CAUGHT as exc:
            raise AIOHTTP_ERRORS.translate(exc) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _close_connection(response: aiohttp.ClientResponse) -> None:
    """Close the connection an answer came on (already back in the pool once its body was
    read); the pool skips a closed connection, so the next call opens a fresh one."""
    # aiohttp has no public handle on a released connection; a test pins this behaviour.
    protocol = getattr(response, "_protocol", None)
    if protocol is not None:
        protocol.close()
