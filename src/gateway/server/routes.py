"""The HTTP routes: parse and check the input, call the AsyncGateway, answer canonical JSON.

Order inside every /v1 route: authenticate (401), check that the caller may use the backend
(403), validate the input (400), then call the vendor. Errors are raised as GatewayErrors and
rendered by gateway.server.problems.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.contract import Operation
from gateway.errors import InvalidRequest, field_errors
from gateway.server.ledger_routes import job_history, ledger_readiness, list_ledger_jobs
from gateway.server.metrics import METRICS_MEDIA_TYPE
from gateway.server.models import (
    BackendList,
    BackendReadiness,
    BackendsQuery,
    BackendView,
    CancelRequest,
    ConfigInfo,
    GetJobQuery,
    GetResultQuery,
    Health,
    ListJobsQuery,
    Readiness,
)
from gateway.server.plumbing import (
    holder_of,
    job_answer,
    job_ref,
    json_response,
    metrics_of,
    parse_query,
    read_json_body,
    serving,
    upstream,
    wants_fresh,
)
from gateway.server.problems import problem_page
from gateway.server.submit_routes import submit_job
from gateway.server.watch_routes import job_events, long_poll

# -- /v1 ------------------------------------------------------------------------------------


async def list_backends(request: Request) -> Response:
    async with serving(request) as (gen, caller):
        parse_query(request, BackendsQuery)
        health = holder_of(request).health
        views = [
            BackendView(
                **info.model_dump(exclude={"aliases"}),
                aliases=[a for a in info.aliases if caller.may_use(gen.config, a)],
                health=health.view(info.name, gen.gateway.guard(info.name).breaker_state),
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
        backend = gen.gateway.backend(name)  # looked up once: UnknownBackend, 404
        outcome = await upstream(
            request,
            gen,
            backend,
            Operation.LIST,
            lambda: gen.gateway.listing.fetch_jobs(
                backend,
                status=query.status,
                page_size=query.page_size,
                page_token=query.page_token,
                include_raw=query.include == "raw",
                fresh=wants_fresh(request),
                tenant=caller.name,
            ),
        )
        return json_response(outcome.value, headers=outcome.headers())


async def backend_jobs(request: Request) -> Response:
    """One route for both methods, so a wrong method's 405 lists both in `Allow`."""
    if request.method == "POST":
        return await submit_job(request)
    return await list_jobs(request)


async def get_job(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        ref = job_ref(gen, caller, job_id)
        query = parse_query(request, GetJobQuery)
        if query.wait:
            return await long_poll(request, gen, caller, ref, job_id, query)
        return await job_answer(request, gen, caller, ref, job_id, query.include)


async def get_result(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        ref = job_ref(gen, caller, job_id)
        query = parse_query(request, GetResultQuery)
        backend = gen.gateway.backend(ref.backend)  # looked up once: UnknownBackend, 404
        outcome = await upstream(
            request,
            gen,
            backend,
            Operation.GET_RESULT,
            lambda: gen.gateway.reads.fetch_result(
                backend,
                ref,
                job_id,
                include_raw=query.include == "raw",
                fresh=wants_fresh(request),
                tenant=caller.name,
                page_size=query.page_size,
                page_token=query.page_token,
            ),
        )
        return json_response(outcome.value, headers=outcome.headers())


async def cancel_job(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        ref = job_ref(gen, caller, job_id)
        parse_query(request, CancelRequest)  # no parameters: anything given is a typo
        body = await read_json_body(request)
        try:
            CancelRequest.model_validate({} if body is None else body)
        except ValidationError as exc:
            errors = field_errors(exc, "body")
            raise InvalidRequest("the cancel body must be empty or {}", errors=errors) from None
        backend = gen.gateway.backend(ref.backend)  # looked up once: UnknownBackend, 404
        job = await upstream(
            request,
            gen,
            backend,
            Operation.CANCEL,
            lambda: gen.gateway.reads.cancel_job(backend, ref, job_id, tenant=caller.name),
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
            health=holder.health.view(name, gen.gateway.guard(name).breaker_state).state,
            circuit=gen.gateway.guard(name).breaker_state.value,
        )
        for name, cfg in gen.config.backends.items()
    ]
    ledger = ledger_readiness(gen.gateway.ledger_handle)
    return json_response(
        Readiness(
            status="degraded" if ledger.state == "degraded" else "ready",
            config=info,
            backends=backends,
            shared_state=gen.gateway.resilience.redis_state,
            ledger=ledger,
        )
    )


async def metrics(request: Request) -> Response:
    return Response(metrics_of(request).exposition(), media_type=METRICS_MEDIA_TYPE)


async def openapi(request: Request) -> Response:
    document: dict[str, Any] = request.app.state.openapi
    return JSONResponse(document)


def routes() -> list[BaseRoute]:
    return [
        # The two hot reads first: the router tries each route's pattern in turn (no two
        # patterns here match the same path, so the order changes nothing else).
        Route("/v1/jobs/{job_id}", get_job, methods=["GET"]),
        Route("/v1/jobs/{job_id}/result", get_result, methods=["GET"]),
        Route("/v1/backends", list_backends, methods=["GET"]),
        Route("/v1/backends/{backend}/jobs", backend_jobs, methods=["GET", "POST"]),
        Route("/v1/jobs", list_ledger_jobs, methods=["GET"]),
        Route("/v1/jobs/{job_id}/history", job_history, methods=["GET"]),
        Route("/v1/jobs/{job_id}/events", job_events, methods=["GET"]),
        Route("/v1/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/problems/{slug}", problem_page, methods=["GET"]),
    ]
