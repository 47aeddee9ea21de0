"""A faithful fake of DataRobot's job-status API (GenAI + classic) and metric aggregations.

GenAI routes are FastAPI services: errors are `{"detail": str | [{loc, msg, type}]}` (422 for
bad input, pydantic-v1 wording as in the contract's example). Classic routes answer
`{"message": str | {field: msg}}` (400 for bad query parameters, trafaret wording, as the
official client expects). Both auth schemes, `Token` and `Bearer`, are accepted.
"""

from __future__ import annotations

import hmac
import math
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.simulators.app import VendorSim
from gateway.simulators.engine import Fault, SimJob, SimState
from gateway.vendors.datarobot_genai.sim.aggregations import list_aggregations, start_aggregation
from gateway.vendors.datarobot_genai.sim.data import (
    classic_body,
    field_error,
    genai_body,
    new_job,
    seed,
    state_of,
    status_fields,
    validation_error,
)
from gateway.vendors.datarobot_genai.wire import (
    AGGREGATIONS,
    API_PREFIX,
    CLASSIC,
    CLASSIC_STATUS,
    GENAI,
    GENAI_STATUS,
)

GENAI_PREFIX = f"{API_PREFIX}/genai/"
LIST_PATH = f"{API_PREFIX}{CLASSIC_STATUS}"


def _envelope(path: str, message: str) -> dict[str, Any]:
    """The error envelope of the service behind `path` (FastAPI GenAI or classic)."""
    return {"detail": message} if path.startswith(GENAI_PREFIX) else {"message": message}


def _absolute(request: Request, path: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{path}"


def _find(state: SimState, kind: str, status_id: str) -> SimJob | None:
    job = state.jobs.get(status_id)
    return job if job is not None and job.data.get("kind") == kind else None


# -- status endpoints -----------------------------------------------------------------------------


def _status_answer(request: Request, job: SimJob, kind: str) -> Response:
    """The poll answer: 307 to elsewhere, 303 to the finished resource, or 200 + status."""
    state = state_of(request)
    if job.data.get("redirect_to"):
        return Response(
            status_code=307, headers={"Location": _absolute(request, job.data["redirect_to"])}
        )
    status, code, message = status_fields(state, job)
    if status == "COMPLETED" and job.data.get("location"):
        return Response(
            status_code=303, headers={"Location": _absolute(request, job.data["location"])}
        )
    if kind == GENAI and job.data.get("bare_string"):
        return JSONResponse(status)  # the documented `anyOf [StatusResponse, string]`
    render = genai_body if kind == GENAI else classic_body
    return JSONResponse(render(status, code, message, job))


async def genai_status(request: Request) -> Response:
    raw = request.path_params["status_id"]
    try:
        status_id = str(uuid.UUID(raw))
    except ValueError:
        return validation_error(
            [field_error(["path", "statusId"], "value is not a valid uuid", "type_error.uuid")]
        )
    job = _find(state_of(request), GENAI, status_id)
    if job is None:
        return JSONResponse({"detail": f"Job status {status_id} not found."}, status_code=404)
    return _status_answer(request, job, GENAI)


async def classic_status(request: Request) -> Response:
    job = _find(state_of(request), CLASSIC, request.path_params["status_id"])
    if job is None:
        return JSONResponse({"message": "Not Found"}, status_code=404)
    return _status_answer(request, job, CLASSIC)


async def delete_status(request: Request) -> Response:
    state = state_of(request)
    job = _find(state, CLASSIC, request.path_params["status_id"])
    if job is None:
        return JSONResponse({"message": "Not Found"}, status_code=404)
    del state.jobs[job.id]  # destroys the status record only (there is no cancel)
    return Response(status_code=204)


async def list_statuses(request: Request) -> Response:
    params = request.query_params
    problems: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name in ("offset", "limit"):  # both required (D2); trafaret's wording
        if name not in params:
            problems[name] = "is required"
        elif not params[name].strip().isdigit():
            problems[name] = "value can't be converted to int"
        else:
            numbers[name] = int(params[name])
    if problems:
        return JSONResponse({"message": problems}, status_code=400)
    state = state_of(request)
    offset, limit = numbers["offset"], numbers["limit"]
    jobs = [j for j in state.jobs.values() if j.data.get("kind") == CLASSIC]
    page = jobs[offset:] if limit == 0 else jobs[offset : offset + limit]  # 0 = all
    base = _absolute(request, LIST_PATH)
    more = limit > 0 and offset + limit < len(jobs)
    body = {
        "count": len(page),
        "data": [classic_body(*status_fields(state, j), j) for j in page],
        "next": f"{base}?offset={offset + limit}&limit={limit}" if more else None,
        "previous": (
            f"{base}?offset={max(0, offset - limit)}&limit={limit}"
            if limit > 0 and offset > 0
            else None
        ),
    }
    return JSONResponse(body)


async def not_found(request: Request) -> Response:
    return JSONResponse(_envelope(request.url.path, "Not Found"), status_code=404)


# -- simulator hooks ------------------------------------------------------------------------------


def error(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)


def rate_limited(state: SimState, fault: Fault) -> Response:
    # The official client retries 413 and 429 alike, honouring Retry-After; a fault armed with
    # status 413 gives the 413 flavour.
    status = 413 if fault.status == 413 else 429
    headers: dict[str, str] = {}
    try:
        if fault.retry_after is not None:
            headers["Retry-After"] = str(max(0, math.ceil(float(fault.retry_after))))
    except (TypeError, ValueError):
        pass
    message = "Too Many Requests" if status == 429 else "Request Entity Too Large"
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def check_auth(request: Request, state: SimState) -> Response | None:
    if state.api_key is None:
        return None
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("token", "bearer") and hmac.compare_digest(
        credential.encode(), state.api_key.encode()
    ):
        return None
    return JSONResponse(_envelope(request.url.path, "Unauthorized"), status_code=401)


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SIM = VendorSim(
    vendor="datarobot-genai",
    routes=[
        Route(f"{API_PREFIX}{GENAI_STATUS}{{status_id}}/", genai_status, methods=["GET"]),
        Route(f"{API_PREFIX}{AGGREGATIONS}", start_aggregation, methods=["POST"]),
        Route(f"{API_PREFIX}{AGGREGATIONS}", list_aggregations, methods=["GET"]),
        Route(LIST_PATH, list_statuses, methods=["GET"]),
        Route(f"{LIST_PATH}{{status_id}}/", classic_status, methods=["GET"]),
        Route(f"{LIST_PATH}{{status_id}}/", delete_status, methods=["DELETE"]),
        # Anything else (including a path without its trailing slash): the service's 404.
        Route("/{path:path}", not_found, methods=ALL_METHODS),
    ],
    seed=seed,
    error=error,
    rate_limited=rate_limited,
    check_auth=check_auth,
    new_job=new_job,
    id_parts=lambda job: (str(job.data.get("kind", GENAI)), job.id),
)
