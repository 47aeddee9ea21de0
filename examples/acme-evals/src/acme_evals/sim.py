"""A simulator of the ACME Evals API on the gateway's shared engine (faults, clock, /_sim/)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.simulators import Fault, SimJob, SimState, Stage, VendorSim

# One seeded run per documented state, plus a run that moves along.
SEEDS: dict[str, list[Stage]] = {
    "run-waiting": [Stage("WAITING")],
    "run-executing": [Stage("EXECUTING")],
    "run-done": [Stage("DONE")],
    "run-errored": [Stage("ERRORED")],
    "run-stopped": [Stage("STOPPED")],
    "run-moving": [Stage("WAITING", 2), Stage("EXECUTING", 5), Stage("DONE")],
}


def error(status: int, message: str, code: str = "error") -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _body(state: SimState, job: SimJob) -> dict[str, Any]:
    word = state.status_of(job)
    failed = (
        {"code": "eval_crashed", "message": "the grader crashed"} if word == "ERRORED" else None
    )
    created = datetime.fromtimestamp(job.created_at, UTC).isoformat().replace("+00:00", "Z")
    name = job.data.get("name", job.id.removeprefix("run-"))
    return {"id": job.id, "name": name, "state": word, "created": created, "error": failed}


async def get_run(request: Request) -> Response:
    state, run_id = _state(request), request.path_params["run_id"]
    if not run_id.startswith("run-"):
        return error(400, f"malformed run id {run_id!r}", "malformed_run_id")
    job = state.jobs.get(run_id)
    if job is None:
        return error(404, f"no run {run_id!r}", "run_not_found")
    return JSONResponse(_body(state, job))


async def list_runs(request: Request) -> Response:
    state = _state(request)
    jobs = sorted(state.jobs.values(), key=lambda j: j.id)
    return JSONResponse({"runs": [_body(state, job) for job in jobs]})


def seed(state: SimState) -> None:
    for run_id, stages in SEEDS.items():
        state.add_job(run_id, list(stages))


def new_job(state: SimState, lifecycle: list[Stage], data: dict[str, Any]) -> SimJob:
    return state.add_job(f"run-{state.next_seq()}", lifecycle, data)


def rate_limited(state: SimState, fault: Fault) -> Response:
    response = error(429, "slow down", "rate_limited")
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(int(fault.retry_after))
    return response


def check_auth(request: Request, state: SimState) -> Response | None:
    if state.api_key is None:
        return None
    given = request.headers.get("authorization", "").removeprefix("Bearer ")
    if hmac.compare_digest(given.encode(), state.api_key.encode()):
        return None
    return error(401, "bad credentials", "unauthorized")


SIM = VendorSim(
    vendor="acme-evals",
    routes=[
        Route("/v1/runs", list_runs, methods=["GET"]),
        Route("/v1/runs/{run_id}", get_run, methods=["GET"]),
    ],
    seed=seed,
    error=error,
    rate_limited=rate_limited,
    check_auth=check_auth,
    new_job=new_job,
)
