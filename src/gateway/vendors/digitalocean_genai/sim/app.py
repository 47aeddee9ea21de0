"""DigitalOcean GenAI agent evaluation simulator (vendor-apis/digitalocean-genai/API.md).

Paths, bodies and errors follow the spec: 200 for every operation (POSTs too), the shared
`{id, message, request_id}` error envelope for every failure, and `ratelimit-limit`,
`ratelimit-remaining`, `ratelimit-reset` (epoch seconds on the simulator clock) plus an
`x-request-id` on every answer (see `sim.http`). There is no cancel: the spec
has none for agent evaluation runs.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.app import VendorSim
from gateway.simulators.engine import Fault, SimJob, SimState, Stage
from gateway.vendors.digitalocean_genai.sim.data import CREATED_LIFECYCLE, add_run, seed, store_of
from gateway.vendors.digitalocean_genai.sim.http import (
    BAD_BODY,
    NOT_FOUND,
    RATE_LIMITED,
    UNAUTHORIZED,
    DOResponse,
    error,
    int_param,
    json_body,
    state_of,
    strings,
)
from gateway.vendors.digitalocean_genai.sim.render import prompts, render_run
from gateway.vendors.digitalocean_genai.sim.test_cases import (
    create_test_case,
    get_test_case,
    list_metrics,
    list_runs_of_test_case,
    list_test_cases,
    update_test_case_route,
)
from gateway.vendors.digitalocean_genai.spec import (
    BASE_PATH,
    MAX_PER_PAGE,
    METRICS_PATH,
    RUNS_PATH,
    TEST_CASES_PATH,
)

DEFAULT_PER_PAGE = 20


def rate_limited(state: SimState, fault: Fault) -> Response:
    # Sent with `retry-after` when the per-minute burst limit tripped (fault.retry_after set);
    # without it, the hourly quota is spent until `ratelimit-reset`.
    headers = {"ratelimit-remaining": "0"}
    if fault.retry_after is not None:
        headers["retry-after"] = str(max(1, math.ceil(fault.retry_after)))
    return DOResponse(
        {"id": "too_many_requests", "message": RATE_LIMITED}, 429, headers, is_error=True
    )


def check_auth(request: Request, state: SimState) -> Response | None:
    if state.api_key is None:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.casefold() == "bearer" and token == state.api_key:
        return None
    return error(401, UNAUTHORIZED)


def new_job(state: SimState, lifecycle: list[Stage], data: dict[str, Any]) -> SimJob:
    return add_run(state, lifecycle, data)


def _run(request: Request) -> SimJob | Response:
    job = state_of(request).jobs.get(request.path_params["evaluation_run_uuid"])
    return job if job is not None else error(404, NOT_FOUND)


# -- evaluation runs -----------------------------------------------------------------------


async def create_runs(request: Request) -> Response:
    state = state_of(request)
    body = await json_body(request)
    if body is None:
        return error(400, BAD_BODY)
    agents = strings(body.get("agent_uuids"))
    deployments = strings(body.get("agent_deployment_names"))
    run_name = body.get("run_name")
    if agents is None or deployments is None or not isinstance(run_name, str | None):
        return error(400, BAD_BODY)
    if body.get("test_case_uuid") not in store_of(state).test_cases:
        return error(404, NOT_FOUND)
    if not agents and not deployments:
        return error(400, "agent_uuids or agent_deployment_names must name at least one agent")
    targets = [{"agent_uuid": a} for a in agents]
    targets += [{"agent_deployment_name": d} for d in deployments]
    uuids = [
        add_run(
            state,
            list(CREATED_LIFECYCLE),
            {"test_case_uuid": body["test_case_uuid"], "run_name": run_name, **target},
        ).id
        for target in targets
    ]
    return DOResponse({"evaluation_run_uuids": uuids})


async def get_run(request: Request) -> Response:
    job = _run(request)
    if isinstance(job, Response):
        return job
    return DOResponse({"evaluation_run": render_run(state_of(request), job)})


async def get_results(request: Request) -> Response:
    job = _run(request)
    if isinstance(job, Response):
        return job
    page, per_page = int_param(request, "page"), int_param(request, "per_page")
    if isinstance(page, Response):
        return page
    if isinstance(per_page, Response):
        return per_page
    page = max(1, page or 1)
    per_page = min(MAX_PER_PAGE, per_page if per_page and per_page > 0 else DEFAULT_PER_PAGE)
    state = state_of(request)
    run = render_run(state, job)
    results = prompts(state, job, run["status"])
    pages = math.ceil(len(results) / per_page)
    body: dict[str, Any] = {
        "evaluation_run": run,
        "prompts": results[(page - 1) * per_page : page * per_page],
        "meta": {"page": page, "pages": pages, "total": len(results)},
    }
    if pages > 1:  # links only when there is more than one page (API intro)

        def url(number: int) -> str:
            return str(request.url.include_query_params(page=number, per_page=per_page))

        links = {"first": url(1)} if page > 1 else {}
        if page > 1:
            links["previous"] = url(min(page - 1, pages))
        if page < pages:
            links["next"] = url(page + 1)
            links["last"] = url(pages)
        body["links"] = {"pages": links}
    return DOResponse(body)


async def get_prompt_result(request: Request) -> Response:
    job = _run(request)
    if isinstance(job, Response):
        return job
    try:
        prompt_id = int(request.path_params["prompt_id"])
    except ValueError:
        return error(400, f'invalid value "{request.path_params["prompt_id"]}" for prompt_id')
    state = state_of(request)
    for prompt in prompts(state, job, state.status_of(job)):
        if prompt["prompt_id"] == prompt_id:
            return DOResponse({"prompt": prompt})
    return error(404, NOT_FOUND)


async def not_found(request: Request) -> Response:
    return error(404, NOT_FOUND)


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
RUN_PATH = f"{RUNS_PATH}/{{evaluation_run_uuid}}"
TEST_CASE_PATH = f"{TEST_CASES_PATH}/{{test_case_uuid}}"
# (path, method, endpoint) of every documented operation, in matching order.
ENDPOINTS = (
    (RUNS_PATH, "POST", create_runs),
    (RUN_PATH, "GET", get_run),
    (f"{RUN_PATH}/results", "GET", get_results),
    (f"{RUN_PATH}/results/{{prompt_id}}", "GET", get_prompt_result),
    (TEST_CASES_PATH, "GET", list_test_cases),
    (TEST_CASES_PATH, "POST", create_test_case),
    (TEST_CASE_PATH, "GET", get_test_case),
    (TEST_CASE_PATH, "PUT", update_test_case_route),
    (
        f"{TEST_CASES_PATH}/{{evaluation_test_case_uuid}}/evaluation_runs",
        "GET",
        list_runs_of_test_case,
    ),
    (f"{BASE_PATH}/workspaces/{{workspace_uuid}}/evaluation_test_cases", "GET", list_test_cases),
    (METRICS_PATH, "GET", list_metrics),
)
ROUTES: list[BaseRoute] = [
    *(Route(path, endpoint, methods=[method]) for path, method, endpoint in ENDPOINTS),
    # Anything else (unknown paths, trailing slashes, other methods) is DigitalOcean's 404.
    Route("/{path:path}", not_found, methods=ALL_METHODS),
]

SIM = VendorSim(
    vendor="digitalocean-genai",
    routes=ROUTES,
    seed=seed,
    error=error,
    rate_limited=rate_limited,
    check_auth=check_auth,
    new_job=new_job,
)
