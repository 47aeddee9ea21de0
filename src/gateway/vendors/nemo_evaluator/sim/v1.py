"""NeMo Evaluator simulator, API v1 routes (API.md §3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.engine import SimJob
from gateway.vendors.nemo_evaluator.sim import render
from gateway.vendors.nemo_evaluator.sim.http import detail, state_of
from gateway.vendors.nemo_evaluator.sim.jobs import SHARED_OPTIONAL, SimApi, job_routes

ZIP = "application/zip"

API = SimApi(
    name="v1",
    render_job=render.v1_job,
    # JobCreateParams `{config, target, namespace?, description?, project?, custom_fields?,
    # output_files_url?, ownership?}`; the server-set `result`/`status`/`status_details` are
    # ignored.
    optional={**SHARED_OPTIONAL, "output_files_url": "str", "ownership": "dict"},
    config_model="EvaluationConfig",
    target_model="EvaluationTarget",
    list_filters=("namespace", "project"),
    list_statuses=None,  # v1's filter[status] is a plain string
    # The SDK sends `Accept: */*` and discards the body: no JSON body is expected.
    deleted=lambda: Response(status_code=204),
)


@API.read("/status")
# Named by the v2 migration guide; SDK 1.5.0 and the other pages use /status.
@API.read("/status-details")
def status(request: Request, job: SimJob) -> Response:
    """EvaluationStatusDetails: no `status` field here (API.md §6); also at /status-details."""
    state = state_of(request)
    now = state.clock.now()
    return JSONResponse(render.v1_status_details(job, state.status_of(job), now))


def _unless_completed(request: Request, job: SimJob) -> Response | None:
    if job.status_at(state_of(request).clock.now()) != "completed":
        # Undocumented: an unfinished job has no result resource (its `result` is null).
        return detail(404, f"Results for job {job.id} not found")
    return None


@API.read("/results", gate=_unless_completed)
def results(request: Request, job: SimJob) -> Response:
    return JSONResponse(render.v1_result(job, state_of(request).clock.now()))


@API.read("/download-results", gate=_unless_completed)
def download_results(request: Request, job: SimJob) -> Response:
    body = render.v1_results_zip(job, state_of(request).clock.now())
    headers = {"Content-Disposition": f'attachment; filename="{job.id}.zip"'}
    return Response(body, media_type=ZIP, headers=headers)


@API.read("/logs")
def logs(request: Request, job: SimJob) -> Response:
    """A ZIP of the job's logs (docs 25.8.0 get-logs)."""
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
    *job_routes(API),
    Route("/v1/evaluation/results/{result_id}", get_result, methods=["GET"]),
]
