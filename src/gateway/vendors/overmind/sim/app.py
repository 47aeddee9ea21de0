"""A faithful fake of Overmind's jobs API (shared/vendor-apis/overmind/API.md).

Django REST Framework behaviour throughout: trailing slashes (a missing one is a 301, Django's
APPEND_SLASH), page-number pages with absolute `next`/`previous`, `{"detail": ...}` errors,
`{"<field>": [...]}` validation errors, Django's HTML pages for unknown routes and crashes.
Auth: `X-Api-Key: <key>` or `Authorization: Bearer <key>` (O2). The simulator plays the
2026-06-18 backend (O3): `waiting_user`, the newer job types and read-only extra fields.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.app import VendorSim
from gateway.simulators.engine import Fault, SimJob, SimState, Stage
from gateway.vendors.overmind.sim.data import (
    JOB_STATUSES,
    JOB_TYPES,
    finished_work,
    moving_lifecycle,
    new_id,
    seed,
    tuning_iterations,
)
from gateway.vendors.overmind.sim.forms import JOB_FIELDS, check_query, parse_time
from gateway.vendors.overmind.sim.http import (
    checked_body,
    collection,
    detail,
    field_errors,
    item_method_refused,
    matches,
    ordered,
    page_of,
    sim_state,
)
from gateway.vendors.overmind.sim.iterations import iteration_detail, iterations
from gateway.vendors.overmind.sim.render import render_job

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
NO_JOB = "No Job matches the given query."
DJANGO_404 = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    "</body>\n</html>\n"
)
DJANGO_500 = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n'
    "<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)
_API_PREFIXES = ("/api/jobs/", "/api/job-iterations/")
# Which fields Overmind lets `ordering` use is not documented; these are the scalar ones.
JOB_ORDERING = (
    "created_at",
    "updated_at",
    "status",
    "job_type",
    "prompt_slug",
    "best_score",
    "baseline_score",
    "improvement",
    "num_iterations",
)
_EXACT_FILTERS = ("status", "job_type", "agent", "project", "prompt_slug", "analyzer_model")


# -- vendor-shaped answers for the engine -------------------------------------------------------


def error(status: int, message: str) -> Response:
    # An unhandled exception is Django's HTML page; DRF's own exceptions are `detail` bodies.
    if status == 500:
        return Response(DJANGO_500, status_code=500, media_type="text/html")
    return detail(status, message)


def rate_limited(state: SimState, fault: Fault) -> Response:
    # DRF's Throttled: the wait rounded up, in the text and in Retry-After (seconds).
    if fault.retry_after is None:
        return detail(429, "Request was throttled.")
    wait = math.ceil(float(fault.retry_after))
    unit = "second" if wait == 1 else "seconds"
    return detail(
        429,
        f"Request was throttled. Expected available in {wait} {unit}.",
        headers={"Retry-After": str(wait)},
    )


def check_auth(request: Request, state: SimState) -> Response | None:
    """X-Api-Key, else `Authorization: Bearer` (O2). Unknown routes are Django 404s before
    any view, so before authentication."""
    if state.api_key is None or not request.url.path.startswith(_API_PREFIXES):
        return None
    # DRF answers 401 rather than 403 when its first authenticator names a challenge;
    # the exact WWW-Authenticate value is unverified.
    challenge = {"WWW-Authenticate": 'Bearer realm="api"'}
    api_key = request.headers.get("x-api-key")
    if api_key is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return detail(401, "Authentication credentials were not provided.", challenge)
        api_key = token.strip()
    if api_key != state.api_key:
        return detail(401, "Invalid API key.", challenge)
    return None


# -- jobs --------------------------------------------------------------------------------------


def _job_body(state: SimState, job: SimJob) -> dict[str, Any]:
    return render_job(job, state.status_of(job), state.clock.now())


async def jobs(request: Request) -> Response:
    return await collection(request, _list_jobs, _create_job)


async def _list_jobs(request: Request) -> Response:
    state = sim_state(request)
    query = request.query_params
    errors = check_query(
        query, {"status": JOB_STATUSES, "job_type": JOB_TYPES}, ("agent", "project")
    )
    if errors:
        return field_errors(errors)
    now = state.clock.now()
    rows = [render_job(job, state.status_of(job), now, full=False) for job in state.jobs.values()]
    rows = [row for row in rows if _job_matches(row, query)]
    return page_of(request, ordered(rows, query.get("ordering"), JOB_ORDERING, "-created_at"))


def _job_matches(row: dict[str, Any], query: Any) -> bool:
    created = parse_time(row["created_at"]) or 0.0
    after, before = query.get("created_after"), query.get("created_before")
    if after and created < (parse_time(after) or -math.inf):
        return False
    if before and created > (parse_time(before) or math.inf):
        return False
    return matches(row, query, _EXACT_FILTERS, ("prompt_slug", "analyzer_model"), "best_score")


async def _create_job(request: Request) -> Response:
    state = sim_state(request)
    clean = await checked_body(request, JOB_FIELDS)
    if isinstance(clean, Response):
        return clean
    status = clean.pop("status", "pending")
    # A new pending job is picked up and run; one created with another status is a record
    # its client stamps itself (as O4's ApiReporter does).
    lifecycle = moving_lifecycle() if status == "pending" else [Stage(status)]
    job = new_job(state, lifecycle, clean)
    if status == "pending":
        # The run leaves its report behind, like the seeded completed job.
        job.data.setdefault("on_completed", finished_work(job.data.get("iterations", [])))
    # DRF sends Location only for serializers with a `url` field; Overmind's has none.
    return JSONResponse(_job_body(state, job), status_code=201)


async def job_detail(request: Request) -> Response:
    refused = item_method_refused(request.method)
    if refused is not None:
        return refused
    state = sim_state(request)
    # A non-UUID id fails the lookup like a missing one (DRF's get_object_or_404).
    job = state.jobs.get(request.path_params["job_id"])
    if job is None:
        return detail(404, NO_JOB)
    if request.method == "DELETE":
        del state.jobs[job.id]
        return Response(status_code=204)
    if request.method == "PATCH":
        clean = await checked_body(request, JOB_FIELDS)
        if isinstance(clean, Response):
            return clean
        now = state.clock.now()
        if "status" in clean:
            # The status is stamped on the record, whatever it was (no transition rules).
            job.set_status(now, [Stage(clean.pop("status"))])
        job.data.setdefault("patched", {}).update(clean)
        job.data["patched_at"] = now
    return JSONResponse(_job_body(state, job))


async def unknown_route(request: Request) -> Response:
    path = request.url.path
    if not path.endswith("/") and _resolves(f"{path}/"):
        # Django's APPEND_SLASH: a permanent redirect to the slashed path.
        target = f"{path}/" + (f"?{request.url.query}" if request.url.query else "")
        return Response(status_code=301, headers={"Location": target})
    return Response(DJANGO_404, status_code=404, media_type="text/html")


def _resolves(path: str) -> bool:
    parts = path.strip("/").split("/")
    return len(parts) in (2, 3) and parts[0] == "api" and parts[1] in ("jobs", "job-iterations")


def new_job(state: SimState, lifecycle: list[Stage], data: dict[str, Any]) -> SimJob:
    """A job with vendor fields from `data`; one that runs for a while gets scripted
    iterations spread over its running stage (unless `data` brings its own)."""
    job_id = new_id(state, "job")
    data = dict(data)
    offset = 0.0
    for stage in lifecycle:
        if stage.status == "running" and stage.seconds and "iterations" not in data:
            count = max(1, min(int(data.get("num_iterations") or 3), 5))
            data["iterations"] = tuning_iterations(job_id, offset, stage.seconds, count)
            data.setdefault("baseline_score", 0.64)
        offset += stage.seconds or 0.0
    return state.add_job(job_id, lifecycle, data)


ROUTES: list[BaseRoute] = [
    Route("/api/jobs/", jobs, methods=ALL_METHODS),
    Route("/api/jobs/{job_id:str}/", job_detail, methods=ALL_METHODS),
    Route("/api/job-iterations/", iterations, methods=ALL_METHODS),
    Route("/api/job-iterations/{iteration_id:str}/", iteration_detail, methods=ALL_METHODS),
    # Last: everything else is Django's (APPEND_SLASH redirect or HTML 404), not Starlette's.
    Route("/{path:path}", unknown_route, methods=ALL_METHODS),
]

SIM = VendorSim(
    vendor="overmind",
    routes=ROUTES,
    seed=seed,
    error=error,
    rate_limited=rate_limited,
    check_auth=check_auth,
    new_job=new_job,
)
