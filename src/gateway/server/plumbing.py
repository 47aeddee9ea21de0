"""What every route shares: the config generation and caller of a request, timed vendor
calls, strict query parsing, JSON bodies and answers."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from gateway import jsonbound
from gateway.contract import Operation
from gateway.core.backends import Backend
from gateway.errors import GatewayError, InvalidRequest, UnsupportedMediaType, field_errors
from gateway.ids import JobRef, parse_job_id
from gateway.jsonbound import JSONTooDeep
from gateway.ledger_jobs.observing import gone_headers
from gateway.memo import IdentityMemo
from gateway.resilience import CacheStatus, Outcome
from gateway.resilience.verdict import OK, answer_verdict
from gateway.schemas import FieldError
from gateway.server.auth import Caller
from gateway.server.holder import GatewayHolder, Generation
from gateway.server.metrics import Metrics
from gateway.server.middleware import access_of

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


# The JSON of answers served from cache, made once per cached object (gateway.memo).
_HIT_BODIES: IdentityMemo[BaseModel, bytes] = IdentityMemo(1024)


def answer_response(outcome: Outcome[Any], headers: Mapping[str, str]) -> Response:
    """A job or result answer; a cache hit's body is the bytes made for its first hit."""
    if outcome.cache is not CacheStatus.HIT:
        return json_response(outcome.value, headers=headers)
    body = _HIT_BODIES.get(outcome.value, lambda model: model.model_dump_json().encode())
    return Response(body, media_type=JSON_MEDIA_TYPE, headers=headers)


def wants_fresh(request: Request) -> bool:
    """`Cache-Control: no-cache` (or no-store) from the caller forces a fresh vendor read."""
    directives = request.headers.get("cache-control", "").lower()
    return any(d.strip() in ("no-cache", "no-store") for d in directives.split(","))


def serving(request: Request) -> Serving:
    """`async with serving(request) as (gen, caller)`: the config generation for this whole
    request, and the authenticated caller."""
    return Serving(request)


class Serving:
    # A class rather than @asynccontextmanager: it wraps every request.
    __slots__ = ("request", "use")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.use = holder_of(request).use()

    async def __aenter__(self) -> tuple[Generation, Caller]:
        gen = await self.use.__aenter__()
        try:
            caller = gen.keys.authenticate(self.request.headers)
        except BaseException:
            await self.use.__aexit__()
            raise
        access_of(self.request.scope).caller = caller.name
        return gen, caller

    async def __aexit__(self, *exc_info: object) -> None:
        await self.use.__aexit__()


async def upstream(
    request: Request,
    gen: Generation,
    name: Backend | str,
    operation: Operation,
    call: Callable[[], Awaitable[T]],
) -> T:
    """Run one gateway call against a backend (looked up already, or its name), timing it for
    logs, metrics and health."""
    # A name is looked up here: UnknownBackend before any vendor call.
    backend = name if isinstance(name, Backend) else gen.gateway.backend(name)
    access = access_of(request.scope)
    access.backend, access.vendor, access.operation = (
        backend.name,
        backend.config.vendor,
        operation.value,
    )
    began, outcome = time.perf_counter(), OK
    try:
        answer = await call()
        if isinstance(answer, Outcome) and answer.cache is CacheStatus.STALE:
            # Served 200 from cache because the vendor failed: logged and counted as that
            # failure, with the health book's own verdict (no second classification).
            outcome, access.stale = answer_verdict(answer) or OK, True
        return answer
    except GatewayError as exc:
        outcome = exc.problem_type.slug
        raise
    except Exception:
        outcome = "internal-error"
        raise
    finally:
        seconds = time.perf_counter() - began
        access.upstream_ms, access.outcome = round(seconds * 1000, 2), outcome
        # The backend's health is recorded by the core, per vendor call (stale answers and
        # breaker fast-fails included; cache hits say nothing): see resilience.verdict.
        metrics_of(request).observe_upstream(backend.name, operation.value, outcome, seconds)


# A route's query model as parsed from no query string at all (the common case), made once
# per model; only for models whose defaults are plain values (no factory to run each time).
_NO_QUERY: dict[type[BaseModel], BaseModel] = {}


def parse_query(request: Request, model: type[Q]) -> Q:
    """The query string as `model`; every bad, unknown or repeated parameter is listed."""
    if not request.scope.get("query_string"):
        known = _NO_QUERY.get(model)
        if known is not None:
            return cast(Q, known)
    data: dict[str, str] = {}
    errors: list[FieldError] = []
    # The common case, no query string, skips building starlette's QueryParams.
    given = request.query_params.multi_items() if request.scope.get("query_string") else ()
    for key, value in given:
        if key in data:
            errors.append(
                FieldError(loc=["query", key], msg="given more than once", type="repeated")
            )
        data[key] = value
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        allowed = ", ".join(model.model_fields) or "none (this route takes no parameters)"
        unknown = {"extra_forbidden": f"unknown query parameter; allowed: {allowed}"}
        errors += field_errors(exc, "query", unknown)
    if errors:
        summary = "; ".join(f"{'.'.join(map(str, e.loc[1:]))}: {e.msg}" for e in errors)
        raise InvalidRequest(f"invalid query: {summary}", errors=errors)
    plain = not data and model.model_config.get("frozen")  # `and` stops at the cheap checks
    if plain and all(f.default_factory is None for f in model.model_fields.values()):
        _NO_QUERY[model] = parsed
    return parsed


def is_json_media_type(content_type: str) -> bool:
    """application/json or any `+json` type (parameters such as charset aside)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_json_body(request: Request) -> Any:
    """The JSON body, or None when there is none (the size limit is the middleware's).

    A body sent as another media type (text/plain, a form...) is refused with 415 rather than
    guessed at (curl -d sends a form type: add `-H 'Content-Type: application/json'`). A body
    without any Content-Type is read as JSON: it is the only thing these routes take, and
    minimal clients omit the header.
    """
    body = await request.body()
    if not body.strip():
        return None
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_json_media_type(content_type):
        raise UnsupportedMediaType(
            f"the body must be {JSON_MEDIA_TYPE}, not {content_type[:100]!r}"
        )
    try:
        return jsonbound.loads(body)
    except JSONTooDeep as exc:
        raise InvalidRequest(f"the body is not accepted: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" (line {exc.lineno}, column {exc.colno})"
        raise InvalidRequest(f"the body is not valid JSON{where}") from None


def job_ref(gen: Generation, caller: Caller, job_id: str) -> JobRef:
    """The job id of the URL, parsed once (400) for the whole request, and checked against
    what the caller may use (403); routes hand the `JobRef` on to the core."""
    ref = parse_job_id(job_id)
    caller.check(gen.config, ref.backend)
    return ref


async def job_answer(
    request: Request,
    gen: Generation,
    caller: Caller,
    ref: JobRef,
    job_id: str,
    include: str | None,
) -> Response:
    """GET /v1/jobs/{id} answered as it stands (through the cache), with Cache-Status/Age."""
    backend = gen.gateway.backend(ref.backend)  # looked up once: UnknownBackend, 404
    outcome = await upstream(
        request,
        gen,
        backend,
        Operation.GET_JOB,
        lambda: gen.gateway.reads.fetch_job(
            backend,
            ref,
            job_id,
            include_raw=include == "raw",
            fresh=wants_fresh(request),
            tenant=caller.name,
        ),
    )
    # A job the vendor lost comes from the ledger: `Job-At-Vendor: false` (ledger_jobs.records)
    headers = {**outcome.headers(), **gone_headers(outcome)}
    return answer_response(outcome, headers)
