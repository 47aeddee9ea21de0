"""Building blocks of the OpenAPI document (see gateway.server.openapi)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.schemas import Job, Page, Problem, ProblemType, Result, Submission, SubmitRequest
from gateway.schemas.ledger import JobHistory, LedgerPage
from gateway.server.models import BackendList, CancelRequest, Health, Readiness
from gateway.server.problems import PROBLEM_MEDIA_TYPE

REF = "#/components/schemas/{model}"

# Which catalog problems an operation can answer. 405 belongs to no operation (it is the
# answer for a method the path has none of); 413/415 only to routes that read a body.
BODY_PROBLEMS = (ProblemType.PAYLOAD_TOO_LARGE, ProblemType.UNSUPPORTED_MEDIA_TYPE)
API_PROBLEMS = tuple(
    p for p in ProblemType if p is not ProblemType.METHOD_NOT_ALLOWED and p not in BODY_PROBLEMS
)
BODY_API_PROBLEMS = (*API_PROBLEMS, *BODY_PROBLEMS)
# Any request at all: a bug, or a URL/headers over the limits.
REQUEST_PROBLEMS = (
    ProblemType.URI_TOO_LONG,
    ProblemType.HEADERS_TOO_LARGE,
    ProblemType.INTERNAL_ERROR,
)


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def component_schemas() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        Job,
        Result,
        Page,
        Problem,
        BackendList,
        Health,
        Readiness,
        Submission,
        LedgerPage,
        JobHistory,
    ]
    _, top = models_json_schema(
        [*((m, "serialization") for m in models), (SubmitRequest, "validation")],
        ref_template=REF,
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["CancelRequest"] = CancelRequest.model_json_schema(mode="validation")
    return dict(sorted(schemas.items()))


def query_params(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """Query parameters from a query model (optional ones lose their `null` branch)."""
    full = model.model_json_schema(ref_template=REF)
    schemas.update(full.get("$defs", {}))
    params = []
    for name, prop in full["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        if "anyOf" in prop:
            (branch,) = [b for b in prop.pop("anyOf") if b.get("type") != "null"]
            prop = {**branch, **prop}
        if prop.get("default", 0) is None:
            del prop["default"]
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def path_param(name: str, pattern: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": pattern},
    }


def headers(*names: str) -> dict[str, Any]:
    return {n: {"$ref": f"#/components/headers/{n}"} for n in ("X-Request-ID", *names)}


def ok(schema: str) -> dict[str, Any]:
    return ok_content("application/json", ref(schema))


def ok_content(
    media_type: str,
    schema: dict[str, Any],
    *,
    description: str = "OK",
    extra_headers: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "description": description,
        "headers": headers(*extra_headers),
        "content": {media_type: {"schema": schema}},
    }


def problem_response(kinds: list[ProblemType], status: int) -> dict[str, Any]:
    names = ", ".join(f"`{k.slug}` ({k.title})" for k in kinds)
    extra = {401: ("WWW-Authenticate",), 429: ("Retry-After",)}.get(status, ())
    return {
        "description": f"Problem: {names}",
        "headers": headers(*extra),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": ref("Problem")}},
    }


def operation(
    operation_id: str,
    summary: str,
    description: str,
    ok: dict[str, Any],
    problems: tuple[ProblemType, ...] | list[ProblemType],
    *,
    parameters: list[dict[str, Any]] | None = None,
    request_body: dict[str, Any] | None = None,
    extra_responses: dict[str, Any] | None = None,
    security: list[dict[str, list[str]]],
    tags: list[str],
    ok_status: int = 200,
) -> dict[str, Any]:
    by_status: dict[int, list[ProblemType]] = {}
    for kind in problems:
        by_status.setdefault(kind.status, []).append(kind)
    responses: dict[str, Any] = {str(ok_status): ok}
    for status in sorted(by_status):
        responses[str(status)] = problem_response(by_status[status], status)
    responses.update(extra_responses or {})
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": tags,
        "security": security,
    }
    if parameters:
        op["parameters"] = parameters
    if request_body:
        op["requestBody"] = request_body
    op["responses"] = dict(sorted(responses.items()))
    return op
