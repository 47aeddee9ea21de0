"""One exception tree that mirrors the problem catalog.

Every error the gateway raises is a `GatewayError`; each subclass is one problem type and can
render itself as an RFC 9457 `Problem`. Catch a branch (`UpstreamProblem`) or a leaf
(`JobNotReady`) as you need, the way httpx's tree is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.schemas.problem import DEFAULT_PROBLEM_BASE, FieldError, Problem, ProblemType

if TYPE_CHECKING:
    from pydantic import ValidationError


class GatewayError(Exception):
    """Base of every gateway error. `problem()` renders it as RFC 9457 problem details."""

    problem_type: ClassVar[ProblemType] = ProblemType.INTERNAL_ERROR
    retryable_by_default: ClassVar[bool] = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        backend: str | None = None,
        vendor: str | None = None,
        job_id: str | None = None,
        job_status: str | None = None,
        vendor_status_code: int | None = None,
        vendor_error: Any | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        attempts: int | None = None,
        request_id: str | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.problem_type.title
        super().__init__(self.detail)
        self.backend = backend
        self.vendor = vendor
        self.job_id = job_id
        self.job_status = job_status
        self.vendor_status_code = vendor_status_code
        self.vendor_error = vendor_error
        self.retryable = self.retryable_by_default if retryable is None else retryable
        self.retry_after = retry_after
        self.attempts = attempts
        self.request_id = request_id
        self.errors = errors

    @property
    def status(self) -> int:
        return self.problem_type.status

    def problem(self, base: str = DEFAULT_PROBLEM_BASE) -> Problem:
        """This error as problem details; never carries a traceback or internal text."""
        return Problem(
            type=self.problem_type.uri(base),
            title=self.problem_type.title,
            status=self.problem_type.status,
            detail=self.detail,
            backend=self.backend,
            vendor=self.vendor,
            job_id=self.job_id,
            job_status=self.job_status,
            vendor_status_code=self.vendor_status_code,
            vendor_error=self.vendor_error,
            retryable=self.retryable,
            retry_after=self.retry_after,
            attempts=self.attempts,
            request_id=self.request_id,
            errors=self.errors,
        )

    def with_context(self, **context: Any) -> GatewayError:
        """Fill in context members that are still unset (backend, job_id...); returns self."""
        for key, value in context.items():
            if getattr(self, key, None) is None:
                setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"

    @staticmethod
    def from_problem(problem: Problem) -> GatewayError:
        """Rebuild the typed exception from problem details (e.g. a proxy's answer)."""
        cls = ERROR_CLASSES.get(problem.slug, InternalError)
        return cls(
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


class InvalidRequest(GatewayError):
    problem_type = ProblemType.INVALID_REQUEST


def field_errors(
    exc: ValidationError, where: str, messages: Mapping[str, str] | None = None
) -> list[FieldError]:
    """A pydantic `ValidationError` as an `InvalidRequest`'s `errors`, each at `[where, *loc]`
    (`where`: body, query, header); `messages` replaces pydantic's text for some error types."""
    replaced = messages or {}
    return [
        FieldError(
            loc=[where, *e["loc"]], msg=replaced.get(e["type"], str(e["msg"])), type=e["type"]
        )
        for e in exc.errors()
    ]


class MethodNotAllowed(InvalidRequest):
    problem_type = ProblemType.METHOD_NOT_ALLOWED


class PayloadTooLarge(InvalidRequest):
    problem_type = ProblemType.PAYLOAD_TOO_LARGE


class UriTooLong(InvalidRequest):
    problem_type = ProblemType.URI_TOO_LONG


class UnsupportedMediaType(InvalidRequest):
    problem_type = ProblemType.UNSUPPORTED_MEDIA_TYPE


class HeadersTooLarge(InvalidRequest):
    problem_type = ProblemType.HEADERS_TOO_LARGE


class Unauthorized(GatewayError):
    problem_type = ProblemType.UNAUTHORIZED


class Forbidden(GatewayError):
    problem_type = ProblemType.FORBIDDEN


class NotFound(GatewayError):
    """Something named in the request does not exist."""

    problem_type = ProblemType.JOB_NOT_FOUND


class UnknownBackend(NotFound):
    problem_type = ProblemType.UNKNOWN_BACKEND


class JobNotFound(NotFound):
    problem_type = ProblemType.JOB_NOT_FOUND


class RouteNotFound(NotFound):
    """No such route or page on the gateway itself (the HTTP 404 of a wrong URL)."""

    problem_type = ProblemType.NOT_FOUND


class JobNotReady(GatewayError):
    problem_type = ProblemType.JOB_NOT_READY


class JobAlreadyTerminal(GatewayError):
    """A cancel of a job that had already finished (`job_status`: its terminal status)."""

    problem_type = ProblemType.JOB_ALREADY_TERMINAL


class UnsupportedOperation(GatewayError):
    problem_type = ProblemType.UNSUPPORTED_OPERATION


class UpstreamProblem(GatewayError):
    """The vendor failed us; the caller did nothing wrong."""

    problem_type = ProblemType.UPSTREAM_ERROR


class UpstreamError(UpstreamProblem):
    problem_type = ProblemType.UPSTREAM_ERROR
    retryable_by_default = True


class UpstreamRateLimited(UpstreamProblem):
    problem_type = ProblemType.UPSTREAM_RATE_LIMITED
    retryable_by_default = True


class UpstreamAuthFailed(UpstreamProblem):
    problem_type = ProblemType.UPSTREAM_AUTH_FAILED


class UpstreamInvalidResponse(UpstreamProblem):
    problem_type = ProblemType.UPSTREAM_INVALID_RESPONSE


class UpstreamUnavailable(UpstreamProblem):
    problem_type = ProblemType.UPSTREAM_UNAVAILABLE
    retryable_by_default = True


class UpstreamTimeout(UpstreamProblem):
    problem_type = ProblemType.UPSTREAM_TIMEOUT
    retryable_by_default = True


class InternalError(GatewayError):
    problem_type = ProblemType.INTERNAL_ERROR


class LedgerUnavailable(GatewayError):
    """The job ledger's database cannot be reached or written (gateway.ledger)."""

    problem_type = ProblemType.LEDGER_UNAVAILABLE
    retryable_by_default = True


class LedgerSchemaError(LedgerUnavailable):
    """The ledger's database has a schema revision this gateway does not know."""

    retryable_by_default = False


class ConfigError(Exception):
    """The config file is wrong; `issues` lists every problem with its key path."""

    def __init__(self, source: str, issues: list[tuple[str, str]]) -> None:
        self.source = source
        self.issues = issues
        lines = [f"{source}: {path or '<root>'}: {message}" for path, message in issues]
        super().__init__("invalid config\n" + "\n".join(lines))


ERROR_CLASSES: dict[str, type[GatewayError]] = {
    cls.problem_type.slug: cls
    for cls in (
        InvalidRequest,
        RouteNotFound,
        MethodNotAllowed,
        PayloadTooLarge,
        UriTooLong,
        UnsupportedMediaType,
        HeadersTooLarge,
        Unauthorized,
        Forbidden,
        UnknownBackend,
        JobNotFound,
        JobNotReady,
        JobAlreadyTerminal,
        UnsupportedOperation,
        UpstreamError,
        UpstreamRateLimited,
        UpstreamAuthFailed,
        UpstreamInvalidResponse,
        UpstreamUnavailable,
        UpstreamTimeout,
        LedgerUnavailable,
        InternalError,
    )
}
