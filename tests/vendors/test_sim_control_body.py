"""The simulators' /_sim/ control API refuses what it would otherwise silently ignore."""

from __future__ import annotations

import httpx
import pytest

from gateway.simulators import create_app


@pytest.fixture
async def sim() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app("overmind"))
    return httpx.AsyncClient(transport=transport, base_url="http://sim")


@pytest.mark.parametrize(
    ("path", "body", "unknown", "hint"),
    [
        ("/_sim/faults", {"kind": "server_error", "cuont": 2}, "'cuont'", "did you mean 'count'?"),
        ("/_sim/clock", {"advanse": 5}, "'advanse'", "did you mean 'advance'?"),
        ("/_sim/jobs", {"lifecycle": [{"status": "x", "secs": 1}]}, "'secs'", "allowed: status"),
    ],
)
async def test_an_unknown_field_is_a_clear_400(
    sim: httpx.AsyncClient, path: str, body: dict[str, object], unknown: str, hint: str
) -> None:
    response = await sim.post(path, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert unknown in error and hint in error


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"[" * 5000])
async def test_a_body_that_is_not_an_object_is_a_400(
    sim: httpx.AsyncClient, content: bytes
) -> None:
    response = await sim.post("/_sim/faults", content=content)
    assert response.status_code == 400


async def test_known_fields_still_arm_a_fault(sim: httpx.AsyncClient) -> None:
    response = await sim.post(
        "/_sim/faults", json={"kind": "server_error", "status": 503, "count": 2}
    )
    assert response.status_code == 201 and response.json()["count"] == 2
    assert (await sim.post("/_sim/clock", json={})).status_code == 200  # empty body: no change
