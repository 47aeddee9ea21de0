"""Every error leaves as `application/problem+json` (RFC 9457), with the request id in it.

Starlette looks exception handlers up along the exception's MRO, so one handler for
`GatewayError` covers the whole tree. HTTP-level errors of the router (unknown route, wrong
method) and of the transport (oversized body, URL or headers; a body that is not JSON) have
problem types of their own with their precise HTTP status (404 not-found, 405, 413, 414, 415,
431), so generic HTTP clients and proxies still understand them.
"""

from __future__ import annotations

import html
import logging
import math
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    Unauthorized,
)
from gateway.schemas import DEFAULT_PROBLEM_BASE, Problem, ProblemType
from gateway.server.auth import WWW_AUTHENTICATE

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_INSTANCE_CHARS = 512
log = logging.getLogger("gateway.server")


class BodyTooLarge(PayloadTooLarge):
    """The request body is over `server.max_body_bytes` (raised while it is being read)."""


def request_id_of(request: Request) -> str | None:
    state = request.scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


def problem_base(request: Request) -> str:
    holder = getattr(request.app.state, "holder", None)
    if holder is None:
        return DEFAULT_PROBLEM_BASE
    base: str = holder.current.config.problems.base_uri
    return base


def problem_json(problem: Problem) -> bytes:
    return problem.model_dump_json(exclude_none=True).encode()


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    return Response(
        problem_json(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def error_response(request: Request, exc: GatewayError, status: int | None = None) -> Response:
    """The problem response for a gateway error (HTTP `status` overrides the type's own)."""
    update: dict[str, Any] = {
        "request_id": request_id_of(request),
        "instance": request.url.path[:MAX_INSTANCE_CHARS],
    }
    if status is not None:
        update["status"] = status
    problem = exc.problem(problem_base(request)).model_copy(update=update)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(exc.retry_after)))  # whole seconds
    access = request.scope.get("state", {}).get("access")
    if access is not None:
        access.outcome = access.outcome or exc.problem_type.slug
    return problem_response(problem, headers)


async def gateway_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(request, exc)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Router errors as problems: 404 not-found (no such route), 405 method-not-allowed."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    method, path = request.method, request.url.path[:200]
    error: GatewayError
    if exc.status_code == 404:
        error = RouteNotFound(f"no route for {method} {path}; see /openapi.json")
    elif exc.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        error = MethodNotAllowed(f"{method} is not allowed on {path}; allowed: {allowed}")
    elif exc.status_code >= 500:
        error = InternalError()
    else:
        error = InvalidRequest(exc.detail if isinstance(exc.detail, str) else None)
    status = None if error.status == exc.status_code else exc.status_code
    response = error_response(request, error, status=status)
    response.headers.update(headers)
    return response


def internal_error_body(request_id: str | None, base: str) -> bytes:
    """The body of the catch-all 500: nothing about the bug but the id to report."""
    problem = InternalError(
        "the gateway hit an unexpected error; report the request id", request_id=request_id
    ).problem(base)
    return problem_json(problem)


async def problem_page(request: Request) -> Response:
    """`GET /problems/{slug}`: what a problem type means, for the humans following its URI."""
    slug = request.path_params["slug"]
    try:
        kind = ProblemType.from_slug(slug)
    except KeyError:
        known = ", ".join(p.slug for p in ProblemType)
        unknown = RouteNotFound(f"no problem type {slug[:100]!r}; known: {known}")
        return error_response(request, unknown)
    title = html.escape(kind.title)
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title} - eval-gateway</title></head><body>"
        f"<h1>{title}</h1><p>HTTP status {kind.status} &middot; type "
        f"<code>{html.escape(kind.slug)}</code></p>"
        f"<p>{html.escape(kind.explanation)}</p>"
        "<p>Every problem carries <code>request_id</code>; quote it when you report one.</p>"
        "</body></html>"
    )
    return HTMLResponse(body)
