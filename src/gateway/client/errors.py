"""The gateway's answers back into the library's typed exceptions.

A problem+json answer becomes the `gateway.errors` class of its type slug (the catalog table
`ERROR_CLASSES`), with every member kept; a slug this client does not know falls back by HTTP
status. The answer exactly as the gateway sent it (its HTTP status, `instance`, extension
members) stays on the exception as `problem_details`. An answer that is not the gateway's
(an HTML error page of a proxy in between, a truncated body) is `InvalidGatewayResponse`; a
gateway that cannot be reached is `GatewayUnreachable`. Both are catalog types too, so
`except UpstreamProblem` catches them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import httpx
from pydantic import ValidationError

from gateway.errors import (
    ERROR_CLASSES,
    Forbidden,
    GatewayError,
    InternalError,
    InvalidRequest,
    JobNotReady,
    NotFound,
    Unauthorized,
    UnsupportedOperation,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.schemas import Problem

PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_BODY_EXCERPT = 200

# A slug outside the catalog this client was built with (a newer gateway): the nearest
# class by HTTP status, so `except NotFound` and friends keep working.
FALLBACK_BY_STATUS: dict[int, type[GatewayError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: JobNotReady,
    429: UpstreamRateLimited,
    501: UnsupportedOperation,
    502: UpstreamError,
    503: UpstreamUnavailable,
    504: UpstreamTimeout,
}


class InvalidGatewayResponse(UpstreamInvalidResponse):
    """The gateway (or something in front of it) answered with what is not its JSON."""

    def __init__(self, detail: str, *, http_status: int | None = None, **context: Any) -> None:
        super().__init__(detail, **context)
        self.http_status = http_status


class _ExchangeFailed:
    """Mixin: whether the failed request may have reached the gateway (a retry of a
    non-idempotent call is only safe when it surely did not)."""

    request_sent: bool = True


class GatewayUnreachable(_ExchangeFailed, UpstreamUnavailable):
    """The gateway could not be reached (refused, reset, DNS) after the client's retries."""

    retryable_by_default = True


class GatewayTimedOut(_ExchangeFailed, UpstreamTimeout):
    """The gateway did not answer within the client's timeout."""

    retryable_by_default = True


def problem_details(exc: GatewayError) -> Problem:
    """The problem as the gateway sent it when `exc` came from one, else `exc.problem()`."""
    found = getattr(exc, "problem_details", None)
    return found if isinstance(found, Problem) else exc.problem()


def error_from_problem(problem: Problem) -> GatewayError:
    """The typed exception for a problem: its class by slug, every member kept."""
    cls = ERROR_CLASSES.get(problem.slug) or FALLBACK_BY_STATUS.get(problem.status, InternalError)
    exc = cls(
        problem.detail,
        backend=problem.backend,
        vendor=problem.vendor,
        job_id=problem.job_id,
        job_status=problem.job_status,
        vendor_status_code=problem.vendor_status_code,
        vendor_error=problem.vendor_error,
        retryable=problem.retryable,
        retry_after=problem.retry_after,
        attempts=problem.attempts,
        request_id=problem.request_id,
        errors=problem.errors,
    )
    cast(Any, exc).problem_details = problem  # the wire answer, status and extensions included
    return exc


def error_from_response(response: httpx.Response) -> GatewayError:
    """The exception for an error answer (status >= 400), whatever its body."""
    what = f"{response.request.method} {response.request.url.path}"
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type in (PROBLEM_MEDIA_TYPE, "application/json"):
        try:
            problem = Problem.model_validate_json(response.content)
        except ValidationError:
            problem = None
        if problem is not None:
            if problem.retry_after is None and (header := retry_after_header(response)):
                problem = problem.model_copy(update={"retry_after": header})
            return error_from_problem(problem)
    excerpt = response.text[:MAX_BODY_EXCERPT].strip() if response.content else ""
    return InvalidGatewayResponse(
        f"{what}: HTTP {response.status_code} that is not a gateway problem"
        + (f" ({media_type or 'no content type'}: {excerpt!r})" if excerpt else ""),
        http_status=response.status_code,
        retry_after=retry_after_header(response),
        retryable=response.status_code in (429, 502, 503, 504),
    )


def unreadable(response: httpx.Response, model: str) -> InvalidGatewayResponse:
    what = f"{response.request.method} {response.request.url.path}"
    return InvalidGatewayResponse(
        f"{what}: the answer is not a {model}", http_status=response.status_code
    )


def retry_after_header(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), None when absent or bad."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
