"""Llama Stack wire helpers: the Eval API's paths, the gateway job id's two parts, and the
request-validation errors in either shape the server sends them. Pure and lenient."""

from __future__ import annotations

import ast
from typing import Any, Final
from urllib.parse import quote

from gateway.adapters.base import BackendContext
from gateway.adapters.wire import dig, items, text
from gateway.errors import InvalidRequest, UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.redact import bounded_vendor_error
from gateway.schemas import FieldError

VENDOR: Final = "llama-stack"
BENCHMARKS_PATH: Final = "/v1alpha/eval/benchmarks"
JSON: Final = "application/json"


def run_eval_path(benchmark_id: str) -> str:
    return f"{BENCHMARKS_PATH}/{quote(benchmark_id, safe='')}/jobs"


def job_ids(ref: JobRef) -> tuple[str, str]:
    """(benchmark_id, job_id) from a gateway job reference."""
    if len(ref.parts) != 2:
        raise InvalidRequest(
            "a Llama Stack job id has two parts: '<backend>~<benchmark_id>~<job_id>'",
            backend=ref.backend,
            vendor=VENDOR,
            job_id=str(ref),
        )
    return ref.parts[0], ref.parts[1]


def job_path(benchmark_id: str, job_id: str) -> str:
    return f"{BENCHMARKS_PATH}/{quote(benchmark_id, safe='')}/jobs/{quote(job_id, safe='')}"


def result_path(benchmark_id: str, job_id: str) -> str:
    return f"{job_path(benchmark_id, job_id)}/result"


def invalid(ctx: BackendContext, what: str, payload: Any) -> UpstreamInvalidResponse:
    return UpstreamInvalidResponse(
        f"{VENDOR} answered with {what}",
        backend=ctx.backend,
        vendor=VENDOR,
        vendor_error=bounded_vendor_error(payload, ctx.secrets),
    )


def field_errors(body: Any) -> list[FieldError] | None:
    """Request-validation errors from either shape Llama Stack sends them in: <=0.4
    `{"error":{"detail":{"errors":[...]}}}`, 0.5+ the repr of that dict as the message."""
    errors = dig(body, "error", "detail", "errors")
    if errors is None:
        message = text(dig(body, "error", "message")) or text(dig(body, "error", "detail"))
        if message is None or not message.startswith("{'errors':") or len(message) > 20_000:
            return None
        try:
            errors = dig(ast.literal_eval(message), "errors")
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    found: list[FieldError] = []
    for entry in items(errors):
        msg = text(dig(entry, "msg"))
        if msg is None:
            continue
        loc = [part for part in items(dig(entry, "loc")) if isinstance(part, str | int)]
        found.append(FieldError(loc=loc, msg=msg, type=text(dig(entry, "type"))))
    return found or None
