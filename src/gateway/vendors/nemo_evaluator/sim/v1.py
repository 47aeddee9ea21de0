"""NeMo Evaluator simulator, API v1 routes (API.md §3)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.engine import SimJob
from gateway.vendors.nemo_evaluator.sim import data, render
from gateway.vendors.nemo_evaluator.sim.http import (
    by_reference,
    detail,
    find_job,
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

API = "v1"
JOBS = "/v1/evaluation/jobs"
ZIP = "application/zip"
_OPTIONAL = {
    "namespace": "str",
    "description": "str",
    "project": "str",
    "custom_fields": "dict",
    "output_files_url": "str",
    "ownership": "dict",
}


def _render(request: Request) -> Any:
    now = state_of(request).clock.now()
    return lambda job, word: render.v1_job(job, word, now)


async def create_job(request: Request) -> Response:
    """JobCreateParams `{config, target, namespace?, description?, project?, custom_fields?,
    output_files_url?, ownership?}`; the server-set `result`/`status`/`status_details` are
    ignored."""
    body, bad = await json_body(request)
    if bad is not None:
        return bad
    if not isinstance(body, dict):
        return invalid([object_error(["body"])])
    options, option_errors = optional_fields(body, ["body"], _OPTIONAL)
    errors = [
        *union_errors(["body", "config"], "EvaluationConfig", body.get("config")),
        *union_errors(["body", "target"], "EvaluationTarget", body.get("target")),
        *option_errors,
    ]
    if errors:
        return invalid(errors)
    state = state_of(request)
    extra = {
        "config": by_reference(body["config"], "custom"),
        "target": by_reference(body["target"], "model"),
        **limit_samples(body["config"]),
        **options,
    }
    job_data = data.job_data(API, f"{API}-created-{state.next_seq()}", extra)
    job = data.add_job(state, data.moving_lifecycle(API), job_data, state.clock.now())
    return JSONResponse(render.v1_job(job, state.status_of(job), state.clock.now()))


async def list_jobs(request: Request) -> Response:
    jobs = [j for j in state_of(request).jobs.values() if j.data.get("api") == API]
    return list_page(
        request,
        jobs,
        _render(request),
        statuses=None,  # v1's filter[status] is a plain string
        sorts=("created_at", "-created_at", "updated_at", "-updated_at"),
        filters=("namespace", "project"),
    )


async def get_job(request: Request) -> Response:
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    state = state_of(request)
    return JSONResponse(render.v1_job(job, state.status_of(job), state.clock.now()))


async def delete_job(request: Request) -> Response:
    # The SDK sends `Accept: */*` and discards the body: no JSON body is expected.
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    del state_of(request).jobs[job.id]
    return Response(status_code=204)


async def status(request: Request) -> Response:
    """EvaluationStatusDetails: no `status` field here (API.md §6); also at /status-details."""
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    state = state_of(request)
    now = state.clock.now()
    return JSONResponse(render.v1_status_details(job, state.status_of(job), now))


async def cancel(request: Request) -> Response:
    """The answer is untyped in the SDK; we return the job as it stands after the request."""
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
    return JSONResponse(render.v1_job(job, state.status_of(job), now))


def _completed(request: Request) -> tuple[SimJob | None, Response | None]:
    job = find_job(request, API)
    if job is None:
        return None, job_not_found(request.path_params["job_id"])
    if job.status_at(state_of(request).clock.now()) != "completed":
        # Undocumented: an unfinished job has no result resource (its `result` is null).
        return None, detail(404, f"Results for job {job.id} not found")
    return job, None


async def results(request: Request) -> Response:
    job, missing = _completed(request)
    if job is None:
        return missing or detail(404, "Not Found")
    return JSONResponse(render.v1_result(job, state_of(request).clock.now()))


async def download_results(request: Request) -> Response:
    job, missing = _completed(request)
    if job is None:
        return missing or detail(404, "Not Found")
    body = render.v1_results_zip(job, state_of(request).clock.now())
    headers = {"Content-Disposition": f'attachment; filename="{job.id}.zip"'}
    return Response(body, media_type=ZIP, headers=headers)


async def logs(request: Request) -> Response:
    """A ZIP of the job's logs (docs 25.8.0 get-logs)."""
    job = find_job(request, API)
    if job is None:
        return job_not_found(request.path_params["job_id"])
    body = render.v1_logs_zip(job, state_of(request).status_of(job))
    headers = {"Content-Disposition": f'attachment; filename="{job.id}-logs.zip"'}
    return Response(body, media_type=ZIP, headers=headers)


async def get_result(request: Request) -> Response:
    """GET /v1/evaluation/results/{result_id}: the same EvaluationResult as the job's."""
    state = state_of(request)
    now = state.clock.now()
    result_id = request.path_params["result_id"]
    for job in state.jobs.values():
        if job.data.get("result_id") == result_id and job.status_at(now) == "completed":
            return JSONResponse(render.v1_result(job, now))
    return detail(404, f"Evaluation result {result_id} not found")


ROUTES: list[BaseRoute] = [
    Route(JOBS, create_job, methods=["POST"]),
    Route(JOBS, list_jobs, methods=["GET"]),
    Route(JOBS + "/{job_id}", get_job, methods=["GET"]),
    Route(JOBS + "/{job_id}", delete_job, methods=["DELETE"]),
    Route(JOBS + "/{job_id}/status", status, methods=["GET"]),
    # Named by the v2 migration guide; SDK 1.5.0 and the other pages use /status.
    Route(JOBS + "/{job_id}/status-details", status, methods=["GET"]),
    Route(JOBS + "/{job_id}/cancel", cancel, methods=["POST"]),
    Route(JOBS + "/{job_id}/results", results, methods=["GET"]),
    Route(JOBS + "/{job_id}/download-results", download_results, methods=["GET"]),
    Route(JOBS + "/{job_id}/logs", logs, methods=["GET"]),
    Route("/v1/evaluation/results/{result_id}", get_result, methods=["GET"]),
]
