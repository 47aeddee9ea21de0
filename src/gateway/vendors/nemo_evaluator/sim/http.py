"""NeMo Evaluator simulator: the FastAPI-style HTTP behaviour both API versions share.

Errors are FastAPI's envelopes (API.md §5): `{"detail": "<text>"}`, and for validation 422
`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` with pydantic's messages. Unknown routes
answer 404 `{"detail": "Not Found"}`, wrong methods 405, and a trailing slash FastAPI's 307.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from gateway import jsonbound
from gateway.simulators.engine import Fault, SimJob, SimState

# Not documented; the docs' list-envelope example shows page_size 10.
DEFAULT_PAGE_SIZE = 10
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FieldErrorBody = dict[str, Any]


def detail(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def field_error(loc: Sequence[str | int], msg: str, kind: str) -> FieldErrorBody:
    return {"loc": list(loc), "msg": msg, "type": kind}


def object_error(loc: Sequence[str | int]) -> FieldErrorBody:
    msg = "Input should be a valid dictionary or object to extract fields from"
    return field_error(loc, msg, "model_attributes_type")


def invalid(errors: list[FieldErrorBody]) -> Response:
    return JSONResponse({"detail": errors}, status_code=422)


def state_of(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def find_job(request: Request, api: str) -> SimJob | None:
    """The job named by the path's job_id, if it belongs to this API version."""
    job = state_of(request).jobs.get(request.path_params["job_id"])
    return job if job is not None and job.data.get("api") == api else None


def job_not_found(job_id: str) -> Response:
    # The real message text is not documented.
    return detail(404, f"Job {job_id} not found")


# -- auth, rate limits, generic errors (VendorSim hooks) -----------------------------------------


def check_auth(request: Request, state: SimState) -> Response | None:
    """SDK 1.5.0 sends no credential; a configured key is checked as `Authorization: Bearer`
    (the later NeMo Platform scheme), answered with FastAPI HTTPBearer's 401 bodies."""
    if state.api_key is None:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": "Bearer"}
    if scheme.lower() != "bearer" or not token:
        return detail(401, "Not authenticated", challenge)
    if token != state.api_key:
        return detail(401, "Invalid authentication credentials", challenge)
    return None


def rate_limited(state: SimState, fault: Fault) -> Response:
    # Server-side rate limiting is undocumented; Retry-After is what the SDK honours.
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    return detail(429, "Too Many Requests", headers)


def error(status: int, message: str) -> Response:
    return detail(status, message)


# -- request parsing ---------------------------------------------------------------------------


async def json_body(request: Request) -> tuple[Any, Response | None]:
    """The JSON body, or FastAPI's 422 for a body that does not parse."""
    raw = await request.body()
    try:
        return jsonbound.loads(raw), None
    except ValueError as exc:
        position = getattr(exc, "pos", 0)
        return None, invalid([field_error(["body", position], "JSON decode error", "json_invalid")])


def int_query(request: Request, name: str, default: int, errors: list[FieldErrorBody]) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        msg = "Input should be a valid integer, unable to parse string as an integer"
        errors.append(field_error(["query", name], msg, "int_parsing"))
        return default
    if value < 1:
        msg = "Input should be greater than or equal to 1"
        errors.append(field_error(["query", name], msg, "greater_than_equal"))
    return value


def enum_message(choices: Sequence[str]) -> str:
    quoted = [f"'{c}'" for c in choices]
    return "Input should be " + (", ".join(quoted[:-1]) + " or " + quoted[-1])


def enum_query(
    request: Request, name: str, choices: Sequence[str] | None, errors: list[FieldErrorBody]
) -> str | None:
    raw = request.query_params.get(name)
    if raw is not None and choices is not None and raw not in choices:
        errors.append(field_error(["query", name], enum_message(choices), "enum"))
    return raw


def union_errors(path: list[str | int], model: str, value: Any) -> list[FieldErrorBody]:
    """pydantic's errors for a `str | <model with required type>` field such as config/target."""
    if value is None:
        return [field_error(path, "Field required", "missing")]
    if isinstance(value, str):
        return []
    if not isinstance(value, dict):
        return [
            field_error([*path, "str"], "Input should be a valid string", "string_type"),
            object_error([*path, model]),
        ]
    if "type" not in value:
        return [
            field_error([*path, "str"], "Input should be a valid string", "string_type"),
            field_error([*path, model, "type"], "Field required", "missing"),
        ]
    return []


def optional_fields(
    body: dict[str, Any], path: list[str | int], fields: dict[str, str]
) -> tuple[dict[str, Any], list[FieldErrorBody]]:
    """The create body's optional fields (`fields`: name -> "str" or "dict"), with pydantic's
    errors for a value of the wrong type. Absent or null fields are left out."""
    found: dict[str, Any] = {}
    errors: list[FieldErrorBody] = []
    for name, kind in fields.items():
        value = body.get(name)
        if value is None:
            continue
        if kind == "str" and not isinstance(value, str):
            errors.append(
                field_error([*path, name], "Input should be a valid string", "string_type")
            )
        elif kind == "dict" and not isinstance(value, dict):
            msg = "Input should be a valid dictionary"
            errors.append(field_error([*path, name], msg, "dict_type"))
        else:
            found[name] = value
    return found, errors


def limit_samples(config: Any) -> dict[str, Any]:
    """`limit_samples` from an inline config's params (progress is computed against it)."""
    params = config.get("params") if isinstance(config, dict) else None
    limit = params.get("limit_samples") if isinstance(params, dict) else None
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return {"limit_samples": limit}
    # By reference, the stored config's params are unknown here: keep the simulator's default.
    return {}


def by_reference(value: Any, kind: str) -> Any:
    """A `"<namespace>/<name>"` reference, as the service would return it resolved.

    The real service returns the stored entity, whose `type` is unknown here: `kind` stands in
    (`custom` for configs, `model` for targets).
    """
    if not isinstance(value, str):
        return value
    namespace, _, name = value.rpartition("/")
    return {"type": kind, "namespace": namespace or "default", "name": name}


# -- lists -------------------------------------------------------------------------------------


def list_page(
    request: Request,
    jobs: Iterable[SimJob],
    render: Callable[[SimJob, str], dict[str, Any]],
    *,
    statuses: Sequence[str] | None,
    sorts: Sequence[str],
    filters: Sequence[str],
) -> Response:
    """`GET .../jobs`: page/page_size/sort/filter[...] -> the page envelope (API.md §3).

    `statuses` lists the values filter[status] may take (None: any string, as v1's `str`).
    """
    state = state_of(request)
    errors: list[FieldErrorBody] = []
    page = int_query(request, "page", 1, errors)
    page_size = int_query(request, "page_size", DEFAULT_PAGE_SIZE, errors)
    sort = enum_query(request, "sort", sorts, errors) or "created_at"
    status_filter = enum_query(request, "filter[status]", statuses, errors)
    if errors:
        return invalid(errors)
    wanted = {
        f: request.query_params[f"filter[{f}]"]
        for f in filters
        if f"filter[{f}]" in request.query_params
    }
    if status_filter is not None:
        wanted["status"] = status_filter
    rendered = []
    for job in jobs:
        body = render(job, state.status_of(job))
        if all(body.get(key) == value for key, value in wanted.items()):
            rendered.append(body)
    rendered.sort(key=lambda b: str(b.get(sort.lstrip("-")) or ""), reverse=sort.startswith("-"))
    start = (page - 1) * page_size
    data = rendered[start : start + page_size]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "pagination": {
                "page": page,
                "page_size": page_size,
                "current_page_size": len(data),
                "total_pages": math.ceil(len(rendered) / page_size),
                "total_results": len(rendered),
            },
            "sort": sort,
            "filter": wanted or None,
        }
    )


# -- routing fallbacks ------------------------------------------------------------------------


def fallback_route(routes: Sequence[BaseRoute]) -> Route:
    """Last route: FastAPI's answers where no vendor route fully matches."""

    async def fallback(request: Request) -> Response:
        scope = dict(request.scope)
        path: str = scope["path"]
        if path.endswith("/") and len(path) > 1:
            trimmed = {**scope, "path": path.rstrip("/")}
            if any(route.matches(trimmed)[0] is Match.FULL for route in routes):
                url = request.url.replace(path=path.rstrip("/"))
                return RedirectResponse(str(url), status_code=307)
        if any(route.matches(scope)[0] is Match.PARTIAL for route in routes):
            return detail(405, "Method Not Allowed")
        return detail(404, "Not Found")

    return Route("/{path:path}", fallback, methods=ALL_METHODS)
