"""The server span: one per HTTP request, a plain ASGI middleware outside everything else.

A caller's W3C `traceparent` (and `tracestate`) makes the span its child. The span carries the
method, the route template, the path (never the query string or a header), the answer's
status and what the request did (backend, vendor, operation, problem type), read from the
access record the inner middleware fills in.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.telemetry.attributes import BACKEND, OPERATION, PROBLEM_TYPE, VENDOR

# Access-record fields copied onto the server span, as (field, attribute).
_ACCESS_ATTRIBUTES = (("backend", BACKEND), ("vendor", VENDOR), ("operation", OPERATION))


class ServerSpanMiddleware:
    def __init__(self, app: ASGIApp, *, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers", ())
            if key in (b"traceparent", b"tracestate")
        }
        parent = propagate.extract(carrier) if carrier else None
        method: str = scope["method"]
        status: int | None = None

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"][:512]},
        ) as span:
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                if status is not None:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                _copy_access(span, scope, status)


def _copy_access(span: trace.Span, scope: Scope, status: int | None) -> None:
    access: Any = scope.get("state", {}).get("access")
    if access is None:
        return
    for field, attribute in _ACCESS_ATTRIBUTES:
        value = getattr(access, field, None)
        if value is not None:
            span.set_attribute(attribute, value)
    request_id = getattr(access, "request_id", None)
    if request_id:
        span.set_attribute("gateway.request_id", request_id)
    outcome = getattr(access, "outcome", None)
    if status is not None and status >= 400 and outcome and outcome != "ok":
        span.set_attribute(PROBLEM_TYPE, outcome)
