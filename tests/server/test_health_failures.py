"""The health book counts what a caller cannot see as a vendor failure (issue 11, item 2): a
stale answer served because the vendor failed, a circuit-breaker fast-fail and a timeout. Through
the real app, with faults armed on the in-process simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.config import config_from_dict
from gateway.server import create_app
from gateway.simulators import Fault, SimState
from tests.server.proc import example_config

BACKEND = "ls-sim"
JOB = "ls-sim~mmlu~eval-completed"
NO_CACHE = {"Cache-Control": "no-cache"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    data = example_config()
    data["backends"][BACKEND].update(
        {
            "timeouts": {"total": 0.5},
            "retry": {"max_attempts": 1},
            "breaker": {"consecutive_failures": 3, "open_for": 60},
        }
    )
    app = create_app(config_from_dict(data))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c
    await app.state.holder.aclose()


def simulator(client: httpx.AsyncClient) -> SimState:
    state: SimState = client._transport.app.state.holder.current.gateway.simulator(BACKEND)  # type: ignore[attr-defined]
    return state


async def backend_view(client: httpx.AsyncClient) -> dict[str, Any]:
    listed = (await client.get("/v1/backends")).json()["backends"]
    view: dict[str, Any] = next(b for b in listed if b["name"] == BACKEND)
    return view


async def test_stale_answers_and_fast_fails_are_failures_of_the_vendor(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(f"/v1/jobs/{JOB}")).status_code == 200  # cached
    assert (await backend_view(client))["health"]["state"] == "ok"
    simulator(client).arm(Fault("server_error", remaining=100, status=503))
    for failures in (1, 2, 3):
        stale = await client.get(f"/v1/jobs/{JOB}", headers=NO_CACHE)
        assert stale.status_code == 200 and "fwd=stale" in stale.headers["cache-status"]
        health = (await backend_view(client))["health"]
        assert health["state"] == "failing", health
        assert health["consecutive_failures"] == failures
        assert health["last_failure_at"] is not None
        assert health["last_outcome"] == "upstream-unavailable"
    view = await backend_view(client)
    assert view["circuit"] == "open"
    # The circuit now fails calls fast (stale again): still failures, never `ok`.
    fast = await client.get(f"/v1/jobs/{JOB}", headers=NO_CACHE)
    assert "fwd=stale" in fast.headers["cache-status"]
    view = await backend_view(client)
    assert view["health"]["state"] == "failing"
    assert view["health"]["consecutive_failures"] == 4
    ready = (await client.get("/readyz")).json()["backends"]
    assert next(b for b in ready if b["name"] == BACKEND)["health"] == "failing"


async def test_a_cache_hit_while_the_vendor_fails_does_not_reset_its_health(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(f"/v1/jobs/{JOB}")).status_code == 200
    simulator(client).arm(Fault("server_error", remaining=100, status=503))
    await client.get(f"/v1/jobs/{JOB}", headers=NO_CACHE)  # stale: a failure
    hit = await client.get(f"/v1/jobs/{JOB}")  # terminal job: a fresh cache hit
    assert "hit" in hit.headers["cache-status"]
    health = (await backend_view(client))["health"]
    assert health["state"] == "failing" and health["consecutive_failures"] == 1


async def test_a_timeout_is_a_failure(client: httpx.AsyncClient) -> None:
    simulator(client).arm(Fault("delay", remaining=1, seconds=2.0))
    answer = await client.get(f"/v1/jobs/{JOB}", headers=NO_CACHE)
    assert answer.status_code == 504, answer.text
    health = (await backend_view(client))["health"]
    assert health["state"] == "failing", health
    assert health["last_outcome"] == "upstream-timeout"
