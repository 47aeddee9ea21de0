"""Overmind simulator: the job-iterations endpoints (`/api/job-iterations/`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.simulators.engine import SimJob, SimState
from gateway.vendors.overmind.sim.data import ITERATION_STATUSES, new_id
from gateway.vendors.overmind.sim.forms import (
    ITERATION_FIELDS,
    ITERATION_REQUIRED,
    check_body,
    check_query,
)
from gateway.vendors.overmind.sim.http import (
    SELECT_VALID,
    detail,
    field_errors,
    in_score_range,
    not_allowed,
    ordered,
    page_of,
    read_object,
    sim_state,
)
from gateway.vendors.overmind.sim.render import render_iteration, visible_iterations

NO_ITERATION = "No JobIteration matches the given query."
# Undocumented ordering fields; the iterations' scalar ones.
ITERATION_ORDERING = ("created_at", "updated_at", "order", "avg_score", "iteration_name", "status")


def _all(state: SimState) -> list[tuple[SimJob, dict[str, Any]]]:
    now = state.clock.now()
    return [(job, spec) for job in state.jobs.values() for spec in visible_iterations(job, now)]


async def iterations(request: Request) -> Response:
    if request.method in ("GET", "HEAD"):
        return _list(request)
    if request.method == "POST":
        return await _create(request)
    return not_allowed(request.method, ["GET", "POST"])


def _list(request: Request) -> Response:
    state = sim_state(request)
    query = request.query_params
    errors = check_query(query, {"status": ITERATION_STATUSES}, ("job",))
    # `job` is a foreign-key filter: django-filter rejects a job that does not exist.
    if "job" not in errors and query.get("job") and query["job"] not in state.jobs:
        errors["job"] = [SELECT_VALID]
    if errors:
        return field_errors(errors)
    now = state.clock.now()
    rows = [render_iteration(job, spec, now) for job, spec in _all(state)]
    rows = [row for row in rows if _matches(row, query)]
    ordering = query.get("ordering")
    return page_of(request, ordered(rows, ordering, ITERATION_ORDERING, "created_at"))


def _matches(row: dict[str, Any], query: Any) -> bool:
    for name in ("job", "status", "iteration_name"):
        if query.get(name) and str(row.get(name)) != query[name]:
            return False
    if query.get("search"):
        haystack = f"{row.get('iteration_name', '')} {row.get('description', '')}"
        if query["search"].casefold() not in haystack.casefold():
            return False
    return in_score_range(row.get("avg_score"), query.get("score_min"), query.get("score_max"))


async def _create(request: Request) -> Response:
    state = sim_state(request)
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    clean, errors = check_body(body, ITERATION_FIELDS, ITERATION_REQUIRED)
    job = state.jobs.get(str(clean["job"])) if "job" in clean else None
    if "job" in clean and job is None:
        errors["job"] = [f'Invalid pk "{clean["job"]}" - object does not exist.']
    if errors or job is None:
        return field_errors(errors)
    now = state.clock.now()
    at = now - job.created_at
    spec = {
        "id": new_id(state, "iteration"),
        "iteration_name": clean["iteration_name"],
        "order": clean.get("order", 0),
        "at": at,
        "done": at,
        # The model's default status is not documented; O1's examples show "keep".
        "verdict": clean.get("status", "keep"),
        "avg_score": clean.get("avg_score", 0.0),
        "dimension_scores": clean.get("dimension_scores"),
        "description": clean.get("description", ""),
        "agent_code": clean.get("agent_code", ""),
        "scripted": False,
    }
    job.data.setdefault("iterations", []).append(spec)
    return JSONResponse(render_iteration(job, spec, now), status_code=201)


async def iteration_detail(request: Request) -> Response:
    if request.method not in ("GET", "HEAD", "PATCH", "DELETE"):
        return not_allowed(request.method, ["GET", "PATCH", "DELETE"])
    state = sim_state(request)
    wanted = request.path_params["iteration_id"]
    found = next(((j, s) for j, s in _all(state) if s["id"] == wanted), None)
    if found is None:
        return detail(404, NO_ITERATION)
    job, spec = found
    now = state.clock.now()
    if request.method == "DELETE":
        job.data["iterations"].remove(spec)
        return Response(status_code=204)
    if request.method == "PATCH":
        body = await read_object(request)
        if isinstance(body, Response):
            return body
        clean, errors = check_body(body, ITERATION_FIELDS)
        if "job" in clean and str(clean["job"]) not in state.jobs:
            errors["job"] = [f'Invalid pk "{clean["job"]}" - object does not exist.']
        if errors:
            return field_errors(errors)
        clean.pop("job", None)  # moving an iteration to another job is not simulated
        spec.setdefault("patched", {}).update(clean)
        spec["patched_at"] = now
    return JSONResponse(render_iteration(job, spec, now))
