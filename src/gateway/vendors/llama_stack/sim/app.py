"""A Llama Stack v0.7.1 server's Eval and Benchmarks API (shared/vendor-apis/llama-stack).

Two eval providers serve the benchmarks. `mmlu` and `my-custom-benchmark` belong to
remote::nvidia, the provider with real asynchronous jobs: run-eval answers `in_progress`
whatever the job does next, and the job then moves scheduled -> in_progress -> completed.
`basic-qa` belongs to the builtin provider, which evaluates inside the run-eval request,
numbers its jobs "0", "1"... and cannot cancel (501). Unknown jobs get the builtin's
400 `Job <id> not found` from both (remote::nvidia would pass NeMo's 404 on as a bare 500;
the server_error fault gives that). Errors use the 0.6+ envelope `{"error":{"message"}}`;
route misses get FastAPI's `{"detail": ...}` answers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.app import VendorSim
from gateway.simulators.engine import UNDOCUMENTED_STATUS, Fault, SimJob, SimState, Stage
from gateway.vendors.llama_stack.sim import data
from gateway.vendors.llama_stack.sim.http import (
    INTERNAL_ERROR,
    VendorError,
    check_auth,
    error,
    ok,
    rate_limited,
    read_body,
    route,
    route_miss,
)
from gateway.vendors.llama_stack.wire import BENCHMARKS_PATH

BENCHMARKS: Final = BENCHMARKS_PATH
TERMINAL = frozenset({"completed", "failed", "cancelled"})


@dataclass
class _Registry:
    """Per-simulator state that SimState does not hold: benchmarks, the builtin job counter."""

    benchmarks: dict[str, dict[str, Any]] = field(default_factory=data.seed_benchmarks)
    builtin_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(data.FIRST_BUILTIN_JOB)
    )


# The builtin provider numbers its jobs; a gateway backend's simulator numbers them from one
# count for the whole process (as SimState.next_seq), so a simulator rebuilt by a config
# reload never numbers a new job "1" again.
_BUILTIN_IDS = itertools.count(data.FIRST_BUILTIN_JOB)


def _new_registry(state: SimState) -> _Registry:
    registry = _Registry()
    if state.process_wide_ids:
        registry.builtin_ids = _BUILTIN_IDS
    return registry


def _registry(state: SimState) -> _Registry:
    registry = state.extras.get("llama-stack")
    if not isinstance(registry, _Registry):
        registry = state.extras["llama-stack"] = _new_registry(state)
    return registry


# -- lookups and bodies ---------------------------------------------------------------------------


def _eval_benchmark(state: SimState, benchmark_id: str) -> dict[str, Any]:
    """The benchmark an eval route names, or the router's 400 (API.md §3)."""
    found = _registry(state).benchmarks.get(benchmark_id)
    if found is None:
        providers = ", ".join(data.PROVIDERS)
        raise VendorError(
            400,
            f"Benchmark `{benchmark_id}` not served by any of the providers: {providers}."
            " Make sure there is an Eval provider serving this benchmark.",
        )
    return found


def _job(state: SimState, bench: dict[str, Any], job_id: str) -> SimJob:
    """A job of the provider serving `bench` (providers only know their own jobs)."""
    job = state.jobs.get(job_id)
    owner = _registry(state).benchmarks.get(str(job.data.get("benchmark_id"))) if job else None
    if job is None or owner is None or owner["provider_id"] != bench["provider_id"]:
        raise VendorError(400, f"Job {job_id} not found")
    return job


def _job_body(state: SimState, job: SimJob) -> dict[str, Any]:
    return {"job_id": job.id, "status": state.status_of(job)}


# -- benchmarks -----------------------------------------------------------------------------------


async def list_benchmarks(request: Request, state: SimState) -> Response:
    return ok({"data": list(_registry(state).benchmarks.values())})


def _registered(state: SimState, benchmark_id: str) -> dict[str, Any]:
    found = _registry(state).benchmarks.get(benchmark_id)
    if found is None:
        raise VendorError(400, f"Benchmark '{benchmark_id}' not found")
    return found


async def get_benchmark(request: Request, state: SimState) -> Response:
    return ok(_registered(state, request.path_params["benchmark_id"]))


async def register_benchmark(request: Request, state: SimState) -> Response:
    body: data.RegisterBenchmarkRequest = await read_body(request, data.RegisterBenchmarkRequest)
    # With no provider_id the sim picks remote::nvidia, the provider run-eval mimics.
    provider_id = body.provider_id or data.NVIDIA
    if provider_id not in data.PROVIDERS:
        raise VendorError(400, f"Provider `{provider_id}` not found")  # text illustrative
    _registry(state).benchmarks[body.benchmark_id] = data.benchmark(
        body.benchmark_id,
        provider_id,
        dataset_id=body.dataset_id,
        scoring_functions=body.scoring_functions,
        metadata=body.metadata,
        provider_resource_id=body.provider_benchmark_id,
    )
    return ok(None)


async def unregister_benchmark(request: Request, state: SimState) -> Response:
    benchmark_id = request.path_params["benchmark_id"]
    _registered(state, benchmark_id)
    del _registry(state).benchmarks[benchmark_id]
    return ok(None)


# -- eval -----------------------------------------------------------------------------------------


async def run_eval(request: Request, state: SimState) -> Response:
    bench = _eval_benchmark(state, request.path_params["benchmark_id"])
    body: data.RunEvalBodyRequest = await read_body(request, data.RunEvalBodyRequest)
    # Kept for inspection (control API); the simulated providers do not use it.
    job_data = {
        "benchmark_id": bench["identifier"],
        "benchmark_config": body.benchmark_config.model_dump(mode="json", exclude_unset=True),
    }
    if bench["provider_id"] == data.BUILTIN:
        if body.benchmark_config.eval_candidate.sampling_params.max_tokens is None:
            # The builtin provider asserts max_tokens is set: an AssertionError, hence the
            # server's generic 500 (API.md §4), as a real 0.7.3 server answers.
            raise VendorError(500, INTERNAL_ERROR)
        job = new_job(state, [Stage("completed")], job_data)
        return ok(_job_body(state, job))
    job = new_job(state, list(data.NVIDIA_LIFECYCLE), job_data)
    # remote::nvidia answers `in_progress` whatever NeMo said (API.md §6).
    word = state.status_of(job)
    return ok({"job_id": job.id, "status": word if word == UNDOCUMENTED_STATUS else "in_progress"})


async def job_status(request: Request, state: SimState) -> Response:
    bench = _eval_benchmark(state, request.path_params["benchmark_id"])
    return ok(_job_body(state, _job(state, bench, request.path_params["job_id"])))


async def job_cancel(request: Request, state: SimState) -> Response:
    bench = _eval_benchmark(state, request.path_params["benchmark_id"])
    if bench["provider_id"] == data.BUILTIN:
        raise VendorError(501, "Job cancel is not implemented yet")
    job = _job(state, bench, request.path_params["job_id"])
    # Finished jobs are left as they are (NeMo's answer to cancelling one is not documented).
    if job.status_at(state.clock.now()) not in TERMINAL:
        job.set_status(state.clock.now(), list(data.NVIDIA_CANCEL))
    return ok(None)


async def job_result(request: Request, state: SimState) -> Response:
    bench = _eval_benchmark(state, request.path_params["benchmark_id"])
    job = _job(state, bench, request.path_params["job_id"])
    word = state.status_of(job)
    if word != "completed":
        if bench["provider_id"] == data.BUILTIN:
            raise VendorError(400, f"Job is not completed, Status: {word}")
        raise VendorError(400, f"Job {job.id} not completed. Status: {word}")
    if isinstance(job.data.get("result"), dict):  # set through the control API
        return ok(job.data["result"])
    owner = _registry(state).benchmarks.get(str(job.data.get("benchmark_id")), bench)
    if owner["provider_id"] == data.BUILTIN:
        rows = [dict(r) for r in data.BASIC_QA_ROWS]
        return ok(
            data.builtin_result(rows, list(data.BASIC_QA_ANSWERS), owner["scoring_functions"])
        )
    now = state.clock.now()
    finished = job.stage_started_at(now, "completed") or now
    return ok(data.nvidia_result(job.id, owner, finished))


async def evaluate_rows(request: Request, state: SimState) -> Response:
    bench = _eval_benchmark(state, request.path_params["benchmark_id"])
    body: data.EvaluateRowsBodyRequest = await read_body(request, data.EvaluateRowsBodyRequest)
    if bench["provider_id"] == data.NVIDIA:
        # remote::nvidia raises a bare NotImplementedError: its str() is empty.
        raise VendorError(501, "")
    # The simulated candidate answers every row correctly.
    answers = [str(row.get("expected_answer", "")) for row in body.input_rows]
    return ok(data.builtin_result(body.input_rows, answers, body.scoring_functions))


# -- routes --------------------------------------------------------------------------------------

_JOB = BENCHMARKS + "/{benchmark_id}/jobs/{job_id}"
VENDOR_ROUTES: list[Route] = [
    route(BENCHMARKS, list_benchmarks, "GET"),
    route(BENCHMARKS, register_benchmark, "POST"),
    route(BENCHMARKS + "/{benchmark_id}", get_benchmark, "GET"),
    route(BENCHMARKS + "/{benchmark_id}", unregister_benchmark, "DELETE"),
    route(BENCHMARKS + "/{benchmark_id}/evaluations", evaluate_rows, "POST"),
    route(BENCHMARKS + "/{benchmark_id}/jobs", run_eval, "POST"),
    route(_JOB, job_status, "GET"),
    route(_JOB, job_cancel, "DELETE"),
    route(_JOB + "/result", job_result, "GET"),
]


ROUTES: list[BaseRoute] = [
    *VENDOR_ROUTES,
    # Last: whatever matches no vendor route fully gets FastAPI's own answer.
    Route(
        "/{path:path}",
        route_miss(VENDOR_ROUTES),
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    ),
]


# -- the VendorSim hooks --------------------------------------------------------------------------


# Seen on a real 0.7.3 server: after a 4xx/501 answer, the next request on that keep-alive
# connection fails with "Connection reset by peer" after about 4.4 s.
KEEPALIVE_RESETS = 1_000_000


def seed(state: SimState) -> None:
    state.extras["llama-stack"] = _new_registry(state)
    for job_id, benchmark_id, lifecycle in data.SEED_JOBS:
        state.add_job(job_id, list(lifecycle), {"benchmark_id": benchmark_id})


def new_job(state: SimState, lifecycle: list[Stage], job_data: dict[str, Any]) -> SimJob:
    """A job of `job_data["benchmark_id"]` (default `mmlu`), id from `job_data["job_id"]` or
    the provider's own numbering."""
    registry = _registry(state)
    benchmark_id = str(job_data.get("benchmark_id") or "mmlu")
    bench = registry.benchmarks.get(benchmark_id)
    if bench is None:
        raise ValueError(f"unknown benchmark {benchmark_id!r}")
    job_id = job_data.get("job_id")
    if not job_id:
        if bench["provider_id"] == data.BUILTIN:
            job_id = str(next(registry.builtin_ids))
        else:
            job_id = f"eval-SIM{state.next_seq():09d}"
    return state.add_job(str(job_id), lifecycle, {**job_data, "benchmark_id": benchmark_id})


SIM = VendorSim(
    vendor="llama-stack",
    routes=ROUTES,
    seed=seed,
    error=error,
    rate_limited=rate_limited,
    check_auth=check_auth,
    new_job=new_job,
    id_parts=lambda job: (str(job.data["benchmark_id"]), job.id),
    quirks=lambda: [Fault("reset_after_error", remaining=KEEPALIVE_RESETS, seconds=4.4)],
)
