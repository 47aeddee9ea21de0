"""The HTTP routes: parse and check the input, call the AsyncGateway, answer canonical JSON.

Order inside every /v1 route: authenticate (401), check that the caller may use the backend
(403), validate the input (400), then call the vendor. Errors are raised as GatewayErrors and
rendered by gateway.server.problems.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..adapters.tables import Operation
from ..errors import GatewayError, InvalidRequest
from ..ids import parse_job_id
from ..schemas import FieldError
from .auth import Caller
from .holder import GatewayHolder, Generation
from .metrics import METRICS_MEDIA_TYPE, Metrics
from .middleware import access_of
from .models import (
    BackendList,
    BackendReadiness,
    BackendView,
    CancelRequest,
    ConfigInfo,
    Health,
    JobQuery,
    ListJobsQuery,
    Readiness,
)
from .problems import problem_page

JSON_MEDIA_TYPE = "application/json"
Q = TypeVar("Q", bound=BaseModel)
T = TypeVar("T")


def holder_of(request: Request) -> GatewayHolder:
    holder: GatewayHolder = request.app.state.holder
    return holder


def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def json_response(
    model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        model.model_dump_json().encode(),
        status_code=status,
        media_type=JSON_MEDIA_TYPE,
        headers=headers,
    )


def wants_fresh(request: Request) -> bool:
    """`Cache-Control: no-cache` (or no-store) from the caller forces a fresh vendor read."""
    directives = request.headers.get("cache-control", "").lower()
    return any(d.strip() in ("no-cache", "no-store") for d in directives.split(","))


@asynccontextmanager
async def serving(request: Request) -> AsyncIterator[tuple[Generation, Caller]]:
    """The config generation for this whole request, and the authenticated caller."""
    async with holder_of(request).use() as gen:
        caller = gen.keys.authenticate(request.headers)
        access_of(request.scope).caller = caller.name
        yield gen, caller


async def upstream(
    request: Request,
    gen: Generation,
    name: str,
    operation: Operation,
    call: Callable[[], Awaitable[T]],
) -> T:
    """Run one gateway call against backend `name`, timing it for logs, metrics and health."""
    backend = gen.gateway.backend(name)  # UnknownBackend before any vendor call
    access = access_of(request.scope)
    access.backend, access.vendor, access.operation = (
        backend.name,
        backend.config.vendor,
        operation.value,
    )
    began, outcome = time.perf_counter(), "ok"
    try:
        return await call()
    except GatewayError as exc:
        outcome = exc.problem_type.slug
        raise
    except Exception:
        outcome = "internal-error"
        raise
    finally:
        seconds = time.perf_counter() - began
        access.upstream_ms, access.outcome = round(seconds * 1000, 2), outcome
        metrics_of(request).upstream_latency.labels(backend.name, operation.value, outcome).observe(
            seconds
        )
        holder_of(request).health.record(backend.name, outcome)


def parse_query(request: Request, model: type[Q]) -> Q:
    """The query string as `model`; every bad, unknown or repeated parameter is listed."""
    data: dict[str, str] = {}
    errors: list[FieldError] = []
    for key, value in request.query_params.multi_items():
        if key in data:
            errors.append(
                FieldError(loc=["query", key], msg="given more than once", type="repeated")
            )
        data[key] = value
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        allowed = ", ".join(model.model_fields) or "none (this route takes no parameters)"
        for err in exc.errors():
            loc: list[str | int] = ["query", *err["loc"]]
            if err["type"] == "extra_forbidden":
                msg = f"unknown query parameter; allowed: {allowed}"
            else:
                msg = str(err["msg"])
            errors.append(FieldError(loc=loc, msg=msg, type=err["type"]))
    if errors:
        summary = "; ".join(f"{'.'.join(map(str, e.loc[1:]))}: {e.msg}" for e in errors)
        raise InvalidRequest(f"invalid query: {summary}", errors=errors)
    return parsed


async def read_json_body(request: Request) -> Any:
    """The JSON body, or None when there is none (the size limit is the middleware's)."""
    body = await request.body()
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" (line {exc.lineno}, column {exc.colno})"
        raise InvalidRequest(f"the body is not valid JSON{where}") from None


def _job_backend(gen: Generation, caller: Caller, job_id: str) -> str:
    ref = parse_job_id(job_id)
    caller.check(gen.config, ref.backend)
    return ref.backend


# -- /v1 ------------------------------------------------------------------------------------


async def list_backends(request: Request) -> Response:
    async with serving(request) as (gen, caller):
        health = holder_of(request).health
        views = [
            BackendView(
                **info.model_dump(exclude={"aliases"}),
                aliases=[a for a in info.aliases if caller.may_use(gen.config, a)],
                health=health.view(info.name),
                circuit=gen.gateway.guard(info.name).breaker_state.value,
            )
            for info in gen.gateway.backends()
            if caller.may_use(gen.config, info.name)
        ]
        aliases = {a: t for a, t in gen.config.aliases.items() if caller.may_use(gen.config, a)}
        return json_response(BackendList(backends=views, aliases=aliases))


async def list_jobs(request: Request) -> Response:
    name: str = request.path_params["backend"]
    async with serving(request) as (gen, caller):
        caller.check(gen.config, name)
        query = parse_query(request, ListJobsQuery)
        outcome = await upstream(
            request,
            gen,
            name,
            Operation.LIST,
            lambda: gen.gateway.fetch_jobs(
                name,
                status=query.status,
                page_size=query.page_size,
                page_token=query.page_token,
                include_raw=query.include == "raw",
                fresh=wants_fresh(request),
                tenant=caller.name,
            ),
        )
        return json_response(outcome.value, headers=outcome.headers())


async def get_job(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        backend = _job_backend(gen, caller, job_id)
        query = parse_query(request, JobQuery)
        outcome = await upstream(
            request,
            gen,
            backend,
            Operation.GET_JOB,
            lambda: gen.gateway.fetch_job(
                job_id,
                include_raw=query.include == "raw",
                fresh=wants_fresh(request),
                tenant=caller.name,
            ),
        )
        return json_response(outcome.value, headers=outcome.headers())


async def get_result(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        backend = _job_backend(gen, caller, job_id)
        query = parse_query(request, JobQuery)
        outcome = await upstream(
            request,
            gen,
            backend,
            Operation.GET_RESULT,
            lambda: gen.gateway.fetch_result(
                job_id,
                include_raw=query.include == "raw",
                fresh=wants_fresh(request),
                tenant=caller.name,
            ),
        )
        return json_response(outcome.value, headers=outcome.headers())


async def cancel_job(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        backend = _job_backend(gen, caller, job_id)
        parse_query(request, CancelRequest)  # no parameters: anything given is a typo
        body = await read_json_body(request)
        try:
            CancelRequest.model_validate({} if body is None else body)
        except ValidationError as exc:
            errors = [
                FieldError(loc=["body", *e["loc"]], msg=str(e["msg"]), type=e["type"])
                for e in exc.errors()
            ]
            raise InvalidRequest("the cancel body must be empty or {}", errors=errors) from None
        job = await upstream(
            request,
            gen,
            backend,
            Operation.CANCEL,
            lambda: gen.gateway.cancel_job(job_id, tenant=caller.name),
        )
        return json_response(job)


# -- operations -----------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return json_response(Health(status="ok"))


async def readyz(request: Request) -> Response:
    holder = holder_of(request)
    gen = holder.current
    info = ConfigInfo(
        source=holder.source_label,
        generation=gen.number,
        loaded_at=gen.loaded_at,
        auth_enabled=gen.config.auth.enabled,
    )
    backends = [
        BackendReadiness(
            name=name,
            vendor=cfg.vendor,
            health=holder.health.view(name).state,
            circuit=gen.gateway.guard(name).breaker_state.value,
        )
        for name, cfg in gen.config.backends.items()
    ]
    return json_response(
        Readiness(
            status="ready",
            config=info,
            backends=backends,
            shared_state=gen.gateway.resilience.redis_state,
        )
    )


async def metrics(request: Request) -> Response:
    return Response(metrics_of(request).exposition(), media_type=METRICS_MEDIA_TYPE)


async def openapi(request: Request) -> Response:
    document: dict[str, Any] = request.app.state.openapi
    return JSONResponse(document)


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/backends", list_backends, methods=["GET"]),
        Route("/v1/backends/{backend}/jobs", list_jobs, methods=["GET"]),
        Route("/v1/jobs/{job_id}", get_job, methods=["GET"]),
        Route("/v1/jobs/{job_id}/result", get_result, methods=["GET"]),
        Route("/v1/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/problems/{slug}", problem_page, methods=["GET"]),
    ]
