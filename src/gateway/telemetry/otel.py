"""The OpenTelemetry side of gateway.telemetry (imported only when tracing is enabled).

Spans, outermost first:
- `GET /v1/jobs/{job_id}` (SERVER, gateway.telemetry.asgi): one per HTTP request, the child of
  the caller's `traceparent` when it sent one;
- `gateway get_job` (INTERNAL): one gateway operation, cache included: backend, vendor,
  operation, job id, cache status, the canonical status or the problem type;
- `llama-stack get_job` (CLIENT): one per vendor attempt (a retry is a second one), with the
  attempt number and the canonical status or problem type; its context goes to the vendor
  as `traceparent`.

Attributes hold names, statuses and problem slugs only: never a credential, a header or a URL.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from starlette.middleware import Middleware

from gateway.contract import Operation
from gateway.errors import GatewayError
from gateway.resilience import Outcome
from gateway.schemas import JobStatus
from gateway.telemetry.attributes import (
    ATTEMPT,
    ATTEMPTS,
    BACKEND,
    CACHE_STATUS,
    JOB_ID,
    JOB_STATUS,
    OPERATION,
    PROBLEM_TYPE,
    VENDOR,
    VENDOR_STATUS_CODE,
)
from gateway.telemetry.propagation import TRACE_HEADERS
from gateway.telemetry.settings import TelemetrySettings

T = TypeVar("T")
log = logging.getLogger("gateway.telemetry")
TRACER_NAME = "gateway"
_install_lock = threading.Lock()


def install_provider(settings: TelemetrySettings) -> None:
    """Install an SDK TracerProvider exporting per the OTEL_* variables, unless the process
    already has one (an application embedding the library keeps its own)."""
    with _install_lock:
        if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            return
        attributes: dict[str, Any] = {}
        named_in_env = "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
        if not os.environ.get("OTEL_SERVICE_NAME") and not named_in_env:
            attributes["service.name"] = settings.service_name
        # Resource.create adds OTEL_RESOURCE_ATTRIBUTES/OTEL_SERVICE_NAME; the provider reads
        # OTEL_TRACES_SAMPLER, the batch processor OTEL_BSP_*, the exporter OTEL_EXPORTER_OTLP_*.
        provider = TracerProvider(resource=Resource.create(attributes))
        exporter = _exporter_from_env()
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)


def _exporter_from_env() -> SpanExporter | None:
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    first = names.split(",")[0].strip()
    if first == "none":
        return None
    if first == "console":
        return ConsoleSpanExporter()
    if first != "otlp":
        log.warning("OTEL_TRACES_EXPORTER=%s is not supported here; using otlp", first)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def canonical_status(value: Any) -> JobStatus | None:
    """The canonical status an answer reports: a job's or a result's, or a lone job's."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    status = getattr(value, "status", None)
    return status if isinstance(status, JobStatus) else None


def mark_problem(span: Span, exc: GatewayError) -> None:
    slug = exc.problem_type.slug
    span.set_attribute(PROBLEM_TYPE, slug)
    span.set_attribute("error.type", slug)
    if exc.vendor_status_code is not None:
        span.set_attribute(VENDOR_STATUS_CODE, exc.vendor_status_code)
    span.set_status(Status(StatusCode.ERROR, slug))


def mark_answer(span: Span, value: Any) -> None:
    status = canonical_status(value)
    if status is not None:
        span.set_attribute(JOB_STATUS, status.value)


class Tracing:
    """The gateway's tracer: spans around gateway operations and vendor attempts."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    @classmethod
    def for_settings(cls, settings: TelemetrySettings) -> Tracing:
        install_provider(settings)
        return cls(trace.get_tracer(TRACER_NAME))

    def server_middleware(self) -> Middleware:
        """The ASGI middleware that opens the server span of each request."""
        from gateway.telemetry.asgi import ServerSpanMiddleware

        return Middleware(ServerSpanMiddleware, tracer=self.tracer)

    async def call(
        self,
        backend: str,
        vendor: str,
        operation: Operation,
        job_id: str | None,
        fn: Callable[[], Awaitable[T]],
        run: Callable[[Callable[[], Awaitable[T]]], Awaitable[Outcome[T]]],
    ) -> Outcome[T]:
        """`run(attempt)`: the guarded call, given `fn` wrapped in one span per attempt."""
        common: dict[str, Any] = {BACKEND: backend, VENDOR: vendor, OPERATION: operation.value}
        attributes = {**common, JOB_ID: job_id} if job_id is not None else common
        attempts = 0

        async def attempt() -> T:
            nonlocal attempts
            attempts += 1
            with self.tracer.start_as_current_span(
                f"{vendor} {operation.value}",
                kind=SpanKind.CLIENT,
                attributes={**common, ATTEMPT: attempts},
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                carrier: dict[str, str] = {}
                propagate.inject(carrier)  # this attempt's traceparent, for the vendor
                token = TRACE_HEADERS.set(carrier)
                try:
                    value = await fn()
                except GatewayError as exc:
                    mark_problem(span, exc)
                    raise
                except BaseException as exc:  # a bug or the deadline cancelling the attempt
                    span.set_attribute("error.type", type(exc).__name__)
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    raise
                finally:
                    TRACE_HEADERS.reset(token)
                mark_answer(span, value)
                return value

        with self.tracer.start_as_current_span(
            f"gateway {operation.value}",
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                outcome = await run(attempt)
            except GatewayError as exc:
                span.set_attribute(ATTEMPTS, attempts)
                mark_problem(span, exc)
                raise
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            span.set_attribute(ATTEMPTS, attempts)
            span.set_attribute(CACHE_STATUS, outcome.cache.value)
            mark_answer(span, outcome.value)
            if outcome.error is not None:  # a stale answer: the vendor's failure behind it
                span.set_attribute(PROBLEM_TYPE, outcome.error.problem_type.slug)
            return outcome
