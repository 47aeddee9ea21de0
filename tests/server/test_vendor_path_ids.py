"""Identifiers that cannot be one vendor URL path segment (`/`, `\\`, `.`, `..`) are the caller's
mistake, refused before any vendor is asked, on every adapter and operation (issue 11, item 5).
A `%2F` is decoded back into `/` by the vendor's router, so escaping alone cannot carry them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.ids import format_job_id
from gateway.server import create_app
from gateway.simulators import SimState

# backend -> the vendor id parts of a job id, with the bad part marked BAD
SHAPES: dict[str, list[tuple[str, ...]]] = {
    "ls-sim": [("BAD", "nope"), ("mmlu", "BAD")],
    "nemo-v1-sim": [("BAD",)],
    "nemo-v2-sim": [("BAD",)],
    "overmind-sim": [("BAD",)],
    "do-sim": [("BAD",)],
    "datarobot-sim": [("genai", "BAD")],
}
BAD_PARTS = ["a/b", "a\\b", "..", "."]
CASES = [
    (backend, tuple(bad if p == "BAD" else p for p in shape))
    for backend, shapes in SHAPES.items()
    for shape in shapes
    for bad in BAD_PARTS
]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c
    await app.state.holder.aclose()


def vendor_requests(client: httpx.AsyncClient, backend: str) -> int:
    state: SimState = client._transport.app.state.holder.current.gateway.simulator(backend)  # type: ignore[attr-defined]
    return sum(state.requests.values())


@pytest.mark.parametrize(("backend", "parts"), CASES)
@pytest.mark.parametrize("route", ["", "/result", "/cancel"])
async def test_an_id_no_vendor_path_can_carry_is_an_invalid_request(
    client: httpx.AsyncClient, backend: str, parts: tuple[str, ...], route: str
) -> None:
    job_id = format_job_id(backend, *parts)
    before = vendor_requests(client, backend)
    method = "POST" if route == "/cancel" else "GET"
    answer = await client.request(method, f"/v1/jobs/{job_id}{route}")
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["type"].endswith("/invalid-request"), problem
    assert problem["backend"] == backend
    assert vendor_requests(client, backend) == before  # never sent


async def test_the_issue_example_is_an_invalid_request_not_unsupported(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/jobs/ls-sim~a!2Fb~nope")
    assert answer.status_code == 400, answer.text
    assert "a/b" in answer.json()["detail"]


async def test_a_benchmark_with_a_slash_is_refused_on_submit(client: httpx.AsyncClient) -> None:
    body = {"evaluation": "a/b", "targets": [{"model": "meta-llama/Llama3.1-8B-Instruct"}]}
    answer = await client.post("/v1/backends/ls-sim/jobs", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"].endswith("/invalid-request")


async def test_other_reserved_characters_are_escaped_and_reach_the_vendor(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/jobs/" + format_job_id("ls-sim", "mmlu", "no such?#%"))
    assert answer.status_code == 404, answer.text
    assert answer.json()["type"].endswith("/job-not-found")
