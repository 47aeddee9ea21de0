"""NeMo Evaluator simulator: the job routes v1 and v2 share (create, list, get, delete, cancel).

Both versions serve the same job resource under their own path with their own job body; what
differs is data in the version's `SimApi`. A version's own reads register with `@API.read(path)`
and get the job their path names (`job_route` answers the 404 for a job that is not there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.simulators.engine import SimJob
from gateway.vendors.nemo_evaluator.sim import data
from gateway.vendors.nemo_evaluator.sim.http import (
    by_reference,
    detail,
    field_error,
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

# A job, the status word it shows and the time -> the version's job body.
RenderJob = Callable[[SimJob, str, float], dict[str, Any]]
JobHandler = Callable[[Request, SimJob], Response]
# The optional create-body fields both versions take (the platform's entity fields), in order.
SHARED_OPTIONAL = {
    "namespace": "str",
    "description": "str",
    "project": "str",
    "custom_fields": "dict",
}
# Answers for the job instead of the handler (e.g. a 404 before it has completed), or None.
Gate = Callable[[Request, SimJob], Response | None]


@dataclass(frozen=True)
class SimApi:
    """One API version as the shared job routes serve it."""

    name: str  # "v1" or "v2"
    render_job: RenderJob
    optional: dict[str, str]  # the create body's optional fields: name -> "str" or "dict"
    config_model: str  # the SDK model named in a config/target validation error
    target_model: str
    list_filters: tuple[str, ...]  # filter[...] fields of the list
    list_statuses: tuple[str, ...] | None  # the words filter[status] takes (None: any string)
    deleted: Callable[[], Response]  # the answer to a DELETE
    spec_field: str | None = None  # where config and target sit (None: the body itself)
    # The version's own GET routes under a job: path suffix -> handler (see `read`).
    reads: dict[str, tuple[JobHandler, Gate | None]] = field(default_factory=dict, compare=False)

    @property
    def jobs(self) -> str:
        return f"/{self.name}/evaluation/jobs"

    def read(self, suffix: str, gate: Gate | None = None) -> Callable[[JobHandler], JobHandler]:
        """Decorator: serve GET `{jobs}/{job_id}{suffix}` with the handler, unless `gate`
        answers first."""

        def register(handler: JobHandler) -> JobHandler:
            self.reads[suffix] = (handler, gate)
            return handler

        return register


def job_route(
    api: SimApi, suffix: str, handler: JobHandler, method: str, gate: Gate | None = None
) -> Route:
    """`{jobs}/{job_id}{suffix}` answered by `handler` with the job (unless `gate` answers),
    or 404 for a job that is not this version's."""

    async def endpoint(request: Request) -> Response:
        job = find_job(request, api.name)
        if job is None:
            return job_not_found(request.path_params["job_id"])
        gated = None if gate is None else gate(request, job)
        return handler(request, job) if gated is None else gated

    return Route(f"{api.jobs}/{{job_id}}{suffix}", endpoint, methods=[method])


def _answer(api: SimApi, request: Request, job: SimJob, now: float | None = None) -> Response:
    state = state_of(request)
    at = state.clock.now() if now is None else now
    return JSONResponse(api.render_job(job, state.status_of(job), at))


async def _create(api: SimApi, request: Request) -> Response:
    body, bad = await json_body(request)
    if bad is not None:
        return bad
    if not isinstance(body, dict):
        return invalid([object_error(["body"])])
    where: list[str | int] = ["body"]
    holder: Any = body
    if api.spec_field is not None:
        where = ["body", api.spec_field]
        holder = body.get(api.spec_field)
        if holder is None:
            return invalid([field_error(where, "Field required", "missing")])
        if not isinstance(holder, dict):
            return invalid([object_error(where)])
    options, option_errors = optional_fields(body, ["body"], api.optional)
    errors = [
        *union_errors([*where, "config"], api.config_model, holder.get("config")),
        *union_errors([*where, "target"], api.target_model, holder.get("target")),
        *option_errors,
    ]
    if errors:
        return invalid(errors)
    state = state_of(request)
    extra: dict[str, Any] = {
        "config": by_reference(holder["config"], "custom"),
        "target": by_reference(holder["target"], "model"),
        **limit_samples(holder["config"]),
        **options,
    }
    job_data = data.job_data(api.name, f"{api.name}-created-{state.next_seq()}", extra)
    job = data.add_job(state, data.moving_lifecycle(api.name), job_data, state.clock.now())
    return _answer(api, request, job)


async def _list(api: SimApi, request: Request) -> Response:
    state = state_of(request)
    now = state.clock.now()
    return list_page(
        request,
        [j for j in state.jobs.values() if j.data.get("api") == api.name],
        lambda job, word: api.render_job(job, word, now),
        statuses=api.list_statuses,
        sorts=("created_at", "-created_at", "updated_at", "-updated_at"),
        filters=api.list_filters,
    )


def _cancel(api: SimApi, request: Request, job: SimJob) -> Response:
    """The job as it stands after the request (v1's answer is untyped in the SDK)."""
    now = state_of(request).clock.now()
    word = job.status_at(now)
    if word in data.TERMINAL[api.name]:
        # Undocumented; a conflict (the SDK's ConflictError) is the plausible answer.
        return detail(409, f"Job {job.id} is already {word} and cannot be cancelled")
    if word != "cancelling":
        job.set_status(now, data.cancel_lifecycle())
    return _answer(api, request, job, now)


def _delete(api: SimApi, request: Request, job: SimJob) -> Response:
    del state_of(request).jobs[job.id]
    return api.deleted()


def job_routes(api: SimApi) -> list[BaseRoute]:
    """POST/GET `{jobs}`, GET/DELETE `{jobs}/{job_id}`, POST `.../cancel`, then the version's
    reads (call it once they are all registered)."""

    async def create(request: Request) -> Response:
        return await _create(api, request)

    async def listing(request: Request) -> Response:
        return await _list(api, request)

    return [
        Route(api.jobs, create, methods=["POST"]),
        Route(api.jobs, listing, methods=["GET"]),
        job_route(api, "", lambda request, job: _answer(api, request, job), "GET"),
        job_route(api, "", lambda request, job: _delete(api, request, job), "DELETE"),
        job_route(api, "/cancel", lambda request, job: _cancel(api, request, job), "POST"),
        *(job_route(api, path, read, "GET", gate) for path, (read, gate) in api.reads.items()),
    ]
