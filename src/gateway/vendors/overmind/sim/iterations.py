"""Overmind simulator: the job-iterations endpoints (`/api/job-iterations/`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.simulators.engine import SimJob, SimState
from gateway.vendors.overmind.sim import http as drf
from gateway.vendors.overmind.sim.data import ITERATION_STATUSES, iteration_spec, new_id
from gateway.vendors.overmind.sim.forms import (
    ITERATION_FIELDS,
    ITERATION_REQUIRED,
    Errors,
    check_query,
)
from gateway.vendors.overmind.sim.render import render_iteration, visible_iterations

NO_ITERATION = "No JobIteration matches the given query."
# Undocumented ordering fields; the iterations' scalar ones.
ITERATION_ORDERING = ("created_at", "updated_at", "order", "avg_score", "iteration_name", "status")
_EXACT = ("job", "status", "iteration_name")
_SEARCHED = ("iteration_name", "description")


def _all(state: SimState) -> list[tuple[SimJob, dict[str, Any]]]:
    now = state.clock.now()
    return [(job, spec) for job in state.jobs.values() for spec in visible_iterations(job, now)]


async def iterations(request: Request) -> Response:
    return await drf.collection(request, _list, _create)


async def _list(request: Request) -> Response:
    state = drf.sim_state(request)
    query = request.query_params
    errors = check_query(query, {"status": ITERATION_STATUSES}, ("job",))
    # `job` is a foreign-key filter: django-filter rejects a job that does not exist.
    if "job" not in errors and query.get("job") and query["job"] not in state.jobs:
        errors["job"] = [drf.SELECT_VALID]
    if errors:
        return drf.field_errors(errors)
    now = state.clock.now()
    rows = [render_iteration(job, spec, now) for job, spec in _all(state)]
    rows = [row for row in rows if drf.matches(row, query, _EXACT, _SEARCHED, "avg_score")]
    ordering = query.get("ordering")
    return drf.page_of(request, drf.ordered(rows, ordering, ITERATION_ORDERING, "created_at"))


def _job_exists(state: SimState) -> Callable[[dict[str, Any]], Errors]:
    """The serializer's check of the `job` foreign key."""

    def errors(clean: dict[str, Any]) -> Errors:
        if "job" in clean and str(clean["job"]) not in state.jobs:
            return {"job": [f'Invalid pk "{clean["job"]}" - object does not exist.']}
        return {}

    return errors


async def _create(request: Request) -> Response:
    state = drf.sim_state(request)
    job_exists = _job_exists(state)
    clean = await drf.checked_body(request, ITERATION_FIELDS, ITERATION_REQUIRED, job_exists)
    if isinstance(clean, Response):
        return clean
    job = state.jobs[str(clean["job"])]
    now = state.clock.now()
    at = now - job.created_at
    spec = iteration_spec(
        new_id(state, "iteration"),
        clean["iteration_name"],
        clean.get("order", 0),
        at,
        at,
        # The model's default status is not documented; O1's examples show "keep".
        clean.get("status", "keep"),
        clean.get("avg_score", 0.0),
        clean.get("dimension_scores"),
        clean.get("description", ""),
        clean.get("agent_code", ""),
        scripted=False,
    )
    job.data.setdefault("iterations", []).append(spec)
    return JSONResponse(render_iteration(job, spec, now), status_code=201)


async def iteration_detail(request: Request) -> Response:
    refused = drf.item_method_refused(request.method)
    if refused is not None:
        return refused
    state = drf.sim_state(request)
    wanted = request.path_params["iteration_id"]
    found = next(((j, s) for j, s in _all(state) if s["id"] == wanted), None)
    if found is None:
        return drf.detail(404, NO_ITERATION)
    job, spec = found
    now = state.clock.now()
    if request.method == "DELETE":
        job.data["iterations"].remove(spec)
        return Response(status_code=204)
    if request.method == "PATCH":
        clean = await drf.checked_body(request, ITERATION_FIELDS, (), _job_exists(state))
        if isinstance(clean, Response):
            return clean
        clean.pop("job", None)  # moving an iteration to another job is not simulated
        spec.setdefault("patched", {}).update(clean)
        spec["patched_at"] = now
    return JSONResponse(render_iteration(job, spec, now))
