"""NeMo Evaluator simulator, API v2 (preview) routes (API.md §4)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.engine import SimJob
from gateway.vendors.nemo_evaluator.sim import data, render
from gateway.vendors.nemo_evaluator.sim.http import (
    by_reference,
    detail,
    field_error,
    find_job,
    int_query,
    invalid,
    job_not_found,
    json_body,
    limit_samples,
    list_page,
    object_error,
    optional_fields,
    state_of,
    union_errors,
)

API = "v2"
JOBS = "/v2/evaluation/jobs"
DEFAULT_LOG_LIMIT = 100  # not documented
_OPTIONAL = {
    "name": "str",
    "namespace": "str",
    "description": "str",
    "project": "str",
    "custom_fields": "dict",
    "ownership": "dict",
}
_MEDIA = {"artifacts": "application/gzip", "evaluation-results": "application/json"}


def _render(request: Request) -> Any:
    now = state_of(request).clock.now()
    return lambda job, word: render.v2_job(job, word, now)


async def create_job(request: Request) -> Response:
    """`{spec: {config, target}, name?, namespace?, project?, description?, custom_fields?,
    ownership?}`."""
    body, bad = await json_body(request)
    if bad is not None:
        return bad
    if not isinstance(body, dict):
        return invalid([object_error(["body"])])
    spec = body.get("spec")
    if spec is None:
        return invalid([field_error(["body", "spec"], "Field required", "missing")])
    if not isinstance(spec, dict):
        return invalid([object_error(["body", "spec"])])
    options, option_errors = optional_fields(body, ["body"], _OPTIONAL)
    errors = [
        *union_errors(["body", "spec", "config"], "EvaluationConfigV2", spec.get("config")),
        *union_errors(["body", "spec", "target"], "EvaluationTargetV2", spec.get("target")),
        *option_errors,
    ]
    if errors:
        return invalid(errors)
    state = state_of(request)
    extra: dict[str, Any] = {
        "config": by_reference(spec["config"], "custom"),
        "target": by_reference(spec["target"], "model"),
        **limit_samples(spec["config"]),
        **options,
    }
    job_data = data.job_data(API, f"{API}-created-{state.next_seq()}", extra)
    job = data.add_job(state, data.moving_lifecycle(API), job_data, state.clock.now())
    return JSONResponse(render.v2_job(job, state.status_of(job), state.clock.now()))


async def list_jobs(request: Request) -> Response:
    jobs = [j for j in state_of(request).jobs.values() if j.data.get("api") == API]
    return list_page(
        request,
        jobs,
        _render(request),
        statuses=data.V2_STATUSES,  # typed PlatformJobStatus: other words are a 422
        sorts=("created_at", "-created_at", "updated_at", "-updated_at"),
        filters=("name", "namespace", "project"),
    )


async def get_job(request: Request) -> Response:
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    state = state_of(request)
    return JSONResponse(render.v2_job(job, state.status_of(job), state.clock.now()))


async def delete_job(request: Request) -> Response:
    # Untyped JSON in the SDK; nothing about its content is documented.
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    del state_of(request).jobs[job.id]
    return JSONResponse({})


async def cancel(request: Request) -> Response:
    """Answers the EvaluatorV2Job as it stands after the request."""
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    state = state_of(request)
    now = state.clock.now()
    word = job.status_at(now)
    if word in data.TERMINAL[API]:
        # Undocumented; a conflict (the SDK's ConflictError) is the plausible answer.
        return detail(409, f"Job {job.id} is already {word} and cannot be cancelled")
    if word != "cancelling":
        job.set_status(now, data.cancel_lifecycle())
    return JSONResponse(render.v2_job(job, state.status_of(job), now))


async def status(request: Request) -> Response:
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    state = state_of(request)
    return JSONResponse(render.v2_status(job, state.status_of(job), state.clock.now()))


async def logs(request: Request) -> Response:
    """PlatformJobLogPage with cursor paging (`limit`, `page_cursor`); the cursor is opaque."""
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
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


async def list_results(request: Request) -> Response:
    """`{data: PlatformJobResult[], object}`; empty until the job has completed."""
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    now = state_of(request).clock.now()
    names = render.RESULT_NAMES if _is_completed(request, job) else ()
    stored = [render.v2_stored_result(job, name, now) for name in names]
    return JSONResponse({"object": "list", "data": stored})


def _stored(request: Request) -> tuple[SimJob | None, str, Response | None]:
    job = find_job(request, API)
    name = request.path_params["result_name"]
    if job is None:
        return None, name, job_not_found(request.path_params["job_id"])
    if name not in render.RESULT_NAMES or not _is_completed(request, job):
        return None, name, detail(404, f"Result {name} not found for job {job.id}")
    return job, name, None


async def get_stored_result(request: Request) -> Response:
    job, name, missing = _stored(request)
    if job is None:
        return missing or detail(404, "Not Found")
    return JSONResponse(render.v2_stored_result(job, name, state_of(request).clock.now()))


async def download(request: Request) -> Response:
    """`results/artifacts/download` (gzip tarball), `results/evaluation-results/download` (JSON)."""
    job, name, missing = _stored(request)
    if job is None:
        return missing or detail(404, "Not Found")
    if name == "evaluation-results":
        body = json.dumps(render.v2_evaluation_results(job)).encode()
    else:
        body = render.v2_artifacts_tar(job)
    return Response(body, media_type=_MEDIA[name])


ROUTES: list[BaseRoute] = [
    Route(JOBS, create_job, methods=["POST"]),
    Route(JOBS, list_jobs, methods=["GET"]),
    Route(JOBS + "/{job_id}", get_job, methods=["GET"]),
    Route(JOBS + "/{job_id}", delete_job, methods=["DELETE"]),
    Route(JOBS + "/{job_id}/cancel", cancel, methods=["POST"]),
    Route(JOBS + "/{job_id}/status", status, methods=["GET"]),
    Route(JOBS + "/{job_id}/logs", logs, methods=["GET"]),
    Route(JOBS + "/{job_id}/results", list_results, methods=["GET"]),
    Route(JOBS + "/{job_id}/results/{result_name}", get_stored_result, methods=["GET"]),
    Route(JOBS + "/{job_id}/results/{result_name}/download", download, methods=["GET"]),
]
