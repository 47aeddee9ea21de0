"""`POST /v1/backends/{backend}/jobs`: start an evaluation on a backend or alias.

The caller must be allowed both the name it used and the backend that name resolves to today
(an alias can be re-pointed by a reload). `Idempotency-Key` makes retries safe: the same key
and body answer the same job(s) (`replayed`, header `Idempotent-Replayed: true`) and never
start a second vendor job; see gateway.core.submission.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from gateway.contract import Operation
from gateway.errors import InvalidRequest, field_errors
from gateway.schemas import SubmitRequest
from gateway.server.models import SubmitQuery
from gateway.server.plumbing import json_response, parse_query, read_json_body, serving, upstream

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def job_location(job_id: str) -> str:
    return f"/v1/jobs/{quote(job_id, safe='')}"


def submit_request(body: Any) -> SubmitRequest:
    """The body as a canonical submission; every bad field is listed."""
    if body is None:
        raise InvalidRequest("a submission needs a JSON body (see SubmitRequest)")
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object (see SubmitRequest)")
    try:
        return SubmitRequest.model_validate(body)
    except ValidationError as exc:
        errors = field_errors(exc, "body")
        summary = "; ".join(f"{'.'.join(map(str, e.loc[1:])) or 'body'}: {e.msg}" for e in errors)
        raise InvalidRequest(f"invalid submission: {summary}", errors=errors) from None


def idempotency_key(request: Request) -> str | None:
    keys = request.headers.getlist(IDEMPOTENCY_HEADER)
    if len(keys) > 1:
        raise InvalidRequest(f"send {IDEMPOTENCY_HEADER} once")
    return keys[0] if keys else None  # its form is checked by the core (gateway.core.submission)


async def submit_job(request: Request) -> Response:
    name: str = request.path_params["backend"]
    async with serving(request) as (gen, caller):
        caller.check(gen.config, name)  # the name used...
        backend = gen.gateway.backend(name)  # looked up once: unknown-backend
        caller.check(gen.config, backend.name)  # ...and the backend it stands for today
        parse_query(request, SubmitQuery)
        key = idempotency_key(request)
        canonical = submit_request(await read_json_body(request))  # validated once, handed on
        submission = await upstream(
            request,
            gen,
            backend,
            Operation.SUBMIT,
            lambda: gen.gateway.submits.submit(
                backend, name, canonical, idempotency_key=key, tenant=caller.name
            ),
        )
        headers = {"Location": job_location(submission.jobs[0].id)}
        if submission.replayed:
            headers[REPLAYED_HEADER] = "true"
        return json_response(submission, status=202, headers=headers)
