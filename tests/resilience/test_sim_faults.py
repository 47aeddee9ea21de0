"""Simulator faults through a real Adapter.call and the guard: the reset_after_error fault
(Llama Stack 0.7.3's keep-alive quirk) and the classic ones, each a retried success or the
right typed problem with its attempt count."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.adapters.base import Adapter, BackendContext
from gateway.adapters.tables import StatusTable
from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.resilience import BackendGuard, RetrySettings
from gateway.simulators import Fault, SimJob, SimState, SimTransport, Stage, VendorSim, build_app
from tests.support.servers import serve_in_thread

STALL = 0.05


async def get_job(request: Request) -> Response:
    state: SimState = request.app.state.sim
    job_id = request.path_params["job_id"]
    job = state.jobs.get(job_id)
    if job is None:  # Llama Stack answers 400, not 404, for an unknown job
        return JSONResponse({"error": {"message": f"Job {job_id} not found"}}, status_code=400)
    return JSONResponse({"job_id": job.id, "status": state.status_of(job)})


def error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def new_job(state: SimState, lifecycle: list[Stage], data: dict[str, Any]) -> SimJob:
    return state.add_job(str(state.next_seq()), lifecycle, data)


TINY = VendorSim(
    vendor="llama-stack",
    routes=[Route("/jobs/{job_id}", get_job)],
    seed=lambda state: None,
    error=error,
    rate_limited=lambda state, fault: JSONResponse(
        {"error": {"message": "Quota exceeded"}},
        status_code=429,
        headers={"retry-after-ms": str(int((fault.retry_after or 0) * 1000))},
    ),
    check_auth=lambda request, state: None,
    new_job=new_job,
)


def simulator(*faults: Fault) -> tuple[Any, SimState]:
    state = SimState()
    app = build_app(TINY, state, seed=False)
    state.add_job("1", [Stage("in_progress")])
    for fault in faults:
        state.arm(fault)
    return app, state


def in_process(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=SimTransport(app), base_url="http://tiny.sim.invalid")


async def test_without_the_fault_an_error_leaves_the_connection_alone() -> None:
    app, _ = simulator()
    async with in_process(app) as client:
        assert (await client.get("/jobs/99")).status_code == 400
        assert (await client.get("/jobs/1")).status_code == 200


async def test_in_process_the_request_after_an_error_stalls_then_is_reset() -> None:
    app, state = simulator(Fault("reset_after_error", remaining=1, seconds=STALL))
    loop = asyncio.get_running_loop()
    async with in_process(app) as client:
        assert (await client.get("/jobs/99")).status_code == 400
        started = loop.time()
        with pytest.raises(httpx.ReadError, match="reset by peer"):
            await client.get("/jobs/1")
        assert loop.time() - started >= STALL
        assert (await client.get("/jobs/1")).status_code == 200  # a fresh connection works
        assert (await client.get("/jobs/99")).status_code == 400  # count used up: no reset
        assert (await client.get("/jobs/1")).status_code == 200
    assert state.requests["GET /jobs/1"] == 3 and state.requests["GET /jobs/99"] == 2


async def test_the_fault_only_follows_error_answers_on_matching_paths() -> None:
    app, state = simulator(Fault("reset_after_error", remaining=5, path=re.compile("/jobs/99")))
    async with in_process(app) as client:
        assert (await client.get("/jobs/1")).status_code == 200
        assert (await client.get("/jobs/1")).status_code == 200
    assert state.resets_armed() and not state.broken_connections
    state.clear_faults()
    assert not state.resets_armed()


def test_standalone_the_server_drops_the_connection() -> None:
    app, _ = simulator(Fault("reset_after_error", remaining=1, seconds=STALL))
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url) as client:
        assert client.get("/jobs/99").status_code == 400
        with pytest.raises(httpx.TransportError):
            client.get("/jobs/1")  # same keep-alive connection
        assert client.get("/jobs/1").status_code == 200  # httpx reconnects


class TinyAdapter(Adapter):
    vendor = "llama-stack"
    id_parts = ("job_id",)
    status_table = StatusTable.of(running=["in_progress"])


async def test_the_retry_layer_recovers_with_no_caller_visible_error() -> None:
    app, state = simulator(Fault("reset_after_error", remaining=1, seconds=STALL))
    async with in_process(app) as client:
        adapter = TinyAdapter(BackendContext("tiny", "llama-stack"), client)
        guard = BackendGuard("tiny", retry=RetrySettings(backoff_initial=0.001))

        def fetch(job: str) -> Any:
            return lambda: adapter.call(Operation.GET_JOB, "GET", f"/jobs/{job}")

        with pytest.raises(InvalidRequest) as caught:  # a 4xx is the caller's answer, not retried
            await guard.run(Operation.GET_JOB, fetch("99"), cache_key="tiny~99")
        assert caught.value.attempts == 1
        outcome = await guard.run(Operation.GET_JOB, fetch("1"), cache_key="tiny~1")
        assert outcome.value.status_code == 200 and outcome.attempts == 2
    assert state.requests["GET /jobs/1"] == 2


def guarded(app: Any, client: httpx.AsyncClient, deadline: float = 5.0) -> Any:
    adapter = TinyAdapter(BackendContext("tiny", "llama-stack"), client)
    guard = BackendGuard("tiny", retry=RetrySettings(backoff_initial=0.001), deadline=deadline)

    async def get(job: str = "1") -> Any:
        return await guard.run(
            Operation.GET_JOB,
            lambda: adapter.call(Operation.GET_JOB, "GET", f"/jobs/{job}"),
            cache_key=f"tiny~{job}",
        )

    return get


@pytest.mark.parametrize(
    ("fault", "attempts"),
    [
        (Fault("rate_limit", remaining=2, retry_after=0.01), 3),
        (Fault("server_error", status=503), 2),
        (Fault("server_error", status=502, remaining=2), 3),
        (Fault("drop_connection"), 2),
        (Fault("truncated_body"), 2),
        (Fault("malformed_body"), 2),
    ],
)
async def test_transient_faults_end_in_a_retried_success(fault: Fault, attempts: int) -> None:
    app, _ = simulator(fault)
    async with in_process(app) as client:
        outcome = await guarded(app, client)()
    assert outcome.value.status_code == 200 and outcome.attempts == attempts


@pytest.mark.parametrize(
    ("fault", "problem", "attempts", "retry_after"),
    [
        (Fault("rate_limit", remaining=9, retry_after=0.01), UpstreamRateLimited, 3, 0.01),
        (Fault("server_error", status=500), UpstreamError, 1, None),
        (Fault("server_error", status=503, remaining=9), UpstreamUnavailable, 3, None),
    ],
)
async def test_lasting_faults_end_in_the_right_problem(
    fault: Fault, problem: type[GatewayError], attempts: int, retry_after: float | None
) -> None:
    app, _ = simulator(fault)
    async with in_process(app) as client:
        with pytest.raises(problem) as caught:
            await guarded(app, client)()
    assert caught.value.attempts == attempts and caught.value.retry_after == retry_after


async def test_a_slow_vendor_is_cut_at_the_deadline() -> None:
    app, _ = simulator(Fault("delay", seconds=1.0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with in_process(app) as client:
        with pytest.raises(UpstreamTimeout) as caught:
            await guarded(app, client, deadline=0.1)()
    assert loop.time() - started < 0.3 and caught.value.attempts == 1
