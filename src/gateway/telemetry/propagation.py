"""The trace context a vendor request carries: set by the attempt span, read by the adapter.

Kept apart from gateway.telemetry.otel so adapters can add the headers without importing
OpenTelemetry (off, the lookup is one ContextVar read).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

# The propagation headers (traceparent, tracestate) of the vendor attempt under way; set by
# the attempt span around one adapter call, read where the vendor request is built.
TRACE_HEADERS: ContextVar[Mapping[str, str] | None] = ContextVar(
    "gateway_trace_headers", default=None
)


def with_trace_headers(headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """`headers` plus the current attempt's traceparent (unchanged when not tracing)."""
    extra = TRACE_HEADERS.get()
    if extra is None:
        return headers
    return {**headers, **extra} if headers else extra
