"""A configured backend at run time: its adapter, its own connection pool, its simulator."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import BaseModel
from starlette.applications import Starlette

from gateway.adapters import Adapter, BackendContext, adapter_class
from gateway.config import BackendConfig
from gateway.transport import AiohttpUpstream, Deadlines, HttpxUpstream, UpstreamClient
from gateway.vendors.registry import SimulatorState, open_simulator, sim_base_url


class BackendInfo(BaseModel):
    """What callers may see of a backend: never a credential or a URL's userinfo."""

    name: str
    vendor: str
    api_version: str | None
    simulated: bool
    aliases: list[str]


@dataclass(eq=False)
class Backend:
    name: str
    config: BackendConfig
    adapter: Adapter
    http: UpstreamClient
    simulator: Starlette | None = None

    def __repr__(self) -> str:  # the client holds credentials in its headers: never show it
        return f"Backend(name={self.name!r}, vendor={self.config.vendor!r})"

    @property
    def sim_state(self) -> SimulatorState | None:
        if self.simulator is None:
            return None
        state: SimulatorState = self.simulator.state.sim
        return state

    async def aclose(self) -> None:
        await self.http.aclose()


def open_backend(
    name: str,
    config: BackendConfig,
    transport: httpx.AsyncBaseTransport | None = None,
    sim_state: SimulatorState | None = None,
) -> Backend:
    """Build the backend's adapter over its own pooled HTTP client (never retrying itself):
    aiohttp for a real vendor, httpx for a given transport, a simulator or `http_client:
    httpx` (see gateway.transport). `sim_state`: a simulated backend's jobs to carry on
    (kept across a config reload; not seeded again)."""
    cls = adapter_class(config.vendor, config.api_version)
    api_key = config.api_key.get_secret_value() if config.api_key else None
    headers = cls.auth_headers(api_key, config.effective_auth_scheme) if api_key else {}
    simulator: Starlette | None = None
    base_url = config.base_url
    if config.simulated:
        # A new simulator draws its ids from the process-wide sequence (never reused, even
        # by a simulator rebuilt on reload); a kept one carries its jobs and is not reseeded.
        simulator, sim_transport = open_simulator(
            config.vendor,
            sim_state,
            api_key=api_key,
            seed=sim_state is None,
            process_wide_ids=True,
        )
        base_url = sim_base_url(config.vendor)
        transport = transport or sim_transport
    # Each request's phase deadlines; the whole call's (timeouts.total) is the guard's.
    deadlines = Deadlines.of(config.timeouts)
    http: UpstreamClient
    if transport is None and config.http_client == "aiohttp":
        http = AiohttpUpstream(
            base_url,
            headers=headers,
            deadlines=deadlines,
            max_connections=config.pool.max_connections,
            keepalive_expiry=config.pool.keepalive_expiry,
        )
    else:
        http = HttpxUpstream.open(
            base_url,
            headers=headers,
            deadlines=deadlines,
            transport=transport,
            max_connections=config.pool.max_connections,
            max_keepalive_connections=config.pool.max_keepalive_connections,
            keepalive_expiry=config.pool.keepalive_expiry,
        )
    context = BackendContext(
        backend=name,
        vendor=config.vendor,
        api_version=config.api_version,
        base_url=base_url,
        secrets=(api_key,) if api_key else (),
    )
    return Backend(name, config, cls(context, http), http, simulator)
