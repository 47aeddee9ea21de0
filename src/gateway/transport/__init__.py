"""The one place vendor HTTP happens: two engines behind one interface and one error family.

- `base`: `UpstreamClient` (the interface adapters call), `UpstreamAnswer`, `Deadlines` (a
  backend's timeouts in each engine's terms) and the `TransportError` family;
- `aiohttp_engine`: `AiohttpUpstream`, the default for real vendors (cheapest per call);
- `httpx_engine`: `HttpxUpstream`, over any httpx transport (simulators, cassettes, tests,
  `http_client: httpx`);
- `sim`: `SimTransport`, the httpx transport that serves a simulator in-process (imported
  from there: it needs gateway.simulators, which the engines do not).

Every engine raises only the family below; `Adapter.call` (gateway.adapters.base) turns it
into typed gateway errors.
"""

from gateway.transport.aiohttp_engine import AiohttpUpstream
from gateway.transport.base import (
    ConnectFailed,
    ConnectionDropped,
    Deadlines,
    InvalidResponse,
    Timeout,
    TransportError,
    UpstreamAnswer,
    UpstreamClient,
)
from gateway.transport.httpx_engine import HttpxUpstream

__all__ = [
    "AiohttpUpstream",
    "ConnectFailed",
    "ConnectionDropped",
    "Deadlines",
    "HttpxUpstream",
    "InvalidResponse",
    "Timeout",
    "TransportError",
    "UpstreamAnswer",
    "UpstreamClient",
]
