"""NeMo Evaluator simulator, API v2 (preview) routes (API.md §4)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from gateway.simulators.engine import SimJob
from gateway.vendors.nemo_evaluator.sim import data, render
from gateway.vendors.nemo_evaluator.sim.http import (
    detail,
    field_error,
    int_query,
    invalid,
    state_of,
)
from gateway.vendors.nemo_evaluator.sim.jobs import SHARED_OPTIONAL, SimApi, job_routes

DEFAULT_LOG_LIMIT = 100  # not documented
_MEDIA = {"artifacts": "application/gzip", "evaluation-results": "application/json"}

API = SimApi(
    name="v2",
    render_job=render.v2_job,
    # `{spec: {config, target}, name?, namespace?, project?, description?, custom_fields?,
    # ownership?}`.
    spec_field="spec",
    optional={"name": "str", **SHARED_OPTIONAL, "ownership": "dict"},
    config_model="EvaluationConfigV2",
    target_model="EvaluationTargetV2",
    list_filters=("name", "namespace", "project"),
    list_statuses=data.V2_STATUSES,  # typed PlatformJobStatus: other words are a 422
    # Untyped JSON in the SDK; nothing about its content is documented.
    deleted=lambda: JSONResponse({}),
)


@API.read("/status")
def status(request: Request, job: SimJob) -> Response:
    state = state_of(request)
    return JSONResponse(render.v2_status(job, state.status_of(job), state.clock.now()))


@API.read("/logs")
def logs(request: Request, job: SimJob) -> Response:
    """PlatformJobLogPage with cursor paging (`limit`, `page_cursor`); the cursor is opaque."""
    errors: list[dict[str, Any]] = []
    limit = int_query(request, "limit", DEFAULT_LOG_LIMIT, errors)
    cursor = request.query_params.get("page_cursor")
    start = int(cursor) if cursor and cursor.isdigit() else 0
    if cursor and not cursor.isdigit():
        errors.append(field_error(["query", "page_cursor"], "Invalid page cursor", "value_error"))
    if errors:
        return invalid(errors)
    lines = render.v2_log_lines(job, state_of(request).clock.now())
    page = lines[start : start + limit]
    more = start + limit < len(lines)
    # next_page/prev_page are typed `str`, yet the docs loop `while next_page is not None` and
    # the SDK pager stops on a falsy one: null marks the ends.
    return JSONResponse(
        {
            "object": "list",
            "data": page,
            "next_page": str(start + limit) if more else None,
            "prev_page": str(max(0, start - limit)) if start > 0 else None,
            "total": len(lines),
        }
    )


def _is_completed(request: Request, job: SimJob) -> bool:
    return job.status_at(state_of(request).clock.now()) == "completed"


@API.read("/results")
def list_results(request: Request, job: SimJob) -> Response:
    """`{data: PlatformJobResult[], object}`; empty until the job has completed."""
    now = state_of(request).clock.now()
    names = render.RESULT_NAMES if _is_completed(request, job) else ()
    stored = [render.v2_stored_result(job, name, now) for name in names]
    return JSONResponse({"object": "list", "data": stored})


def _unless_stored(request: Request, job: SimJob) -> Response | None:
    name = request.path_params["result_name"]
    if name not in render.RESULT_NAMES or not _is_completed(request, job):
        return detail(404, f"Result {name} not found for job {job.id}")
    return None


@API.read("/results/{result_name}", gate=_unless_stored)
def get_stored_result(request: Request, job: SimJob) -> Response:
    name = request.path_params["result_name"]
    return JSONResponse(render.v2_stored_result(job, name, state_of(request).clock.now()))


@API.read("/results/{result_name}/download", gate=_unless_stored)
def download(request: Request, job: SimJob) -> Response:
    """`results/artifacts/download` (gzip tarball), `results/evaluation-results/download` (JSON)."""
    name = request.path_params["result_name"]
    if name == "evaluation-results":
        body = json.dumps(render.v2_evaluation_results(job)).encode()
    else:
        body = render.v2_artifacts_tar(job)
    return Response(body, media_type=_MEDIA[name])


ROUTES: list[BaseRoute] = job_routes(API)
