"""What every engine speaks: one request shape, one answer, one error family, one deadline set.

An adapter calls `UpstreamClient.request` and gets an `UpstreamAnswer` (any HTTP status: the
adapter's error table judges it) or one of the `TransportError`s below, never a library's own
exception, so it cannot tell which engine served it. Each engine translates its library's
exceptions with an `ErrorTable` (data; the first matching row wins).

Deadlines: `Deadlines` bounds each phase of one HTTP request (connect, pool wait, read,
write), built once from a backend's `timeouts` and handed to its engine. The deadline of a
whole logical call (`timeouts.total` or `retry.deadline`: every attempt and wait included) is
not the engine's: gateway.resilience keeps it (see resilience/guard.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import httpx

Params = Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class UpstreamAnswer:
    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    content: bytes


class UpstreamClient(Protocol):
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
        """One call; `url` is a path under the base URL or absolute. `close_if_error`: an
        answer >= 400 closes its connection instead of returning it to the pool. Raises only
        `TransportError`s."""
        ...

    async def aclose(self) -> None: ...


# -- the error family -----------------------------------------------------------------------


class TransportError(Exception):
    """No usable HTTP answer came back. The message is the library exception's class name,
    never its text (that may carry the URL and its query)."""


class ConnectFailed(TransportError):
    """No connection to the vendor: refused, unknown host, TLS handshake failed."""


class Timeout(TransportError):
    """A phase of the request outlasted its `Deadlines` (connect, pool wait, read, write)."""


class ConnectionDropped(TransportError):
    """The connection ended before a whole answer came: closed, reset, a body cut short, or
    bytes that are not HTTP (httpx's RemoteProtocolError is each of these, so both engines
    put them here)."""


class InvalidResponse(TransportError):
    """An answer that cannot be followed or decoded: a redirect to an unparsable Location,
    too many redirects, a body in a broken content encoding."""


@dataclass(frozen=True)
class ErrorTable:
    """(library exception, ours) rows; the first match wins, so specific classes go first."""

    rows: tuple[tuple[type[BaseException], type[TransportError]], ...]

    @property
    def catches(self) -> tuple[type[BaseException], ...]:
        return tuple(source for source, _ in self.rows)

    def translate(self, exc: BaseException) -> TransportError:
        for source, ours in self.rows:
            if isinstance(exc, source):
                return ours(type(exc).__name__)
        return TransportError(type(exc).__name__)


# -- deadlines ------------------------------------------------------------------------------


class PhaseTimeouts(Protocol):
    """A backend's `timeouts` config (gateway.config.Timeouts), in seconds."""

    @property
    def connect(self) -> float: ...
    @property
    def read(self) -> float: ...
    @property
    def write(self) -> float: ...
    @property
    def pool(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds each phase of one vendor request may take, in each engine's own terms (the
    values come from the backend's config, gateway.config.Timeouts, which has the defaults)."""

    connect: float
    read: float
    write: float
    pool: float

    @classmethod
    def of(cls, timeouts: PhaseTimeouts) -> Deadlines:
        return cls(timeouts.connect, timeouts.read, timeouts.write, timeouts.pool)

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)

    def for_aiohttp(self) -> aiohttp.ClientTimeout:
        # httpx has four timeouts, aiohttp three: `write` has no counterpart (a request body
        # is small and sent at once); `connect` covers waiting for a pooled connection too.
        return aiohttp.ClientTimeout(
            total=None,
            connect=self.pool + self.connect,
            sock_connect=self.connect,
            sock_read=self.read,
        )
