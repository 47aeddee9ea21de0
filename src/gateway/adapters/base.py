"""What every vendor adapter is: declarative tables, pure translators and a little I/O.

An adapter never retries, caches or serves HTTP. It turns one canonical operation into the
vendor's HTTP call(s) through the client it is given (a `gateway.transport` engine; an
`httpx.AsyncClient` is accepted too), and the vendor's answer into canonical objects through
its module's pure functions. Retries, the circuit breaker, coalescing and caching wrap
adapters in one place: `gateway.resilience` (its BackendGuard, resilience/guard.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from gateway import jsonbound
from gateway.adapters.paths import check_vendor_path
from gateway.adapters.result_pages import page_rows
from gateway.adapters.tables import ErrorRule, StatusTable, find_error_rule
from gateway.adapters.wire import dig, retry_after_seconds, text
from gateway.contract import ListedJobs, ListQuery, Operation, ResultPage, ResultQuery
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    UnsupportedOperation,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamProblem,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.ids import JobRef, format_job_id
from gateway.redact import bounded_vendor_error, scrub_text
from gateway.schemas import FieldError, Job, Problem, Result, SubmitRequest
from gateway.telemetry.propagation import with_trace_headers
from gateway.transport import (
    HttpxUpstream,
    InvalidResponse,
    Timeout,
    TransportError,
    UpstreamClient,
)

# Vendor answers worth retrying (for idempotent operations); see gateway.resilience.
RETRYABLE_VENDOR_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# What a failed call is to the caller (first match wins): (transport error, ours, detail).
TRANSPORT_PROBLEMS: tuple[tuple[type[TransportError], type[UpstreamProblem], str], ...] = (
    (Timeout, UpstreamTimeout, "{vendor} did not answer in time"),
    (
        InvalidResponse,
        UpstreamInvalidResponse,
        "{vendor} answered with a response httpx cannot read",
    ),
    (
        TransportError,
        UpstreamUnavailable,
        "could not reach {vendor} (connection failed or was dropped)",
    ),
)


@dataclass(frozen=True)
class BackendContext:
    """What the pure translators need to know about the backend they translate for."""

    backend: str
    vendor: str
    api_version: str | None = None
    base_url: str = ""  # the vendor's base URL, for absolute links (no credentials in it)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def job_id(self, *parts: str) -> str:
        return format_job_id(self.backend, *parts)

    def url(self, path: str) -> str:
        """An absolute vendor URL for `path`, for `Link`s."""
        return f"{self.base_url.rstrip('/')}{path}"

    def failure(self, message: str | None, vendor_error: Any = None) -> Problem:
        """The `Job.error` for a job the vendor reports as failed."""
        return UpstreamError(
            scrub_text(message, self.secrets)
            if message
            else f"{self.vendor} reports the job failed",
            backend=self.backend,
            vendor=self.vendor,
            retryable=False,
            vendor_error=bounded_vendor_error(vendor_error, self.secrets)
            if vendor_error is not None
            else None,
        ).problem()


@dataclass(frozen=True)
class VendorResponse:
    status_code: int
    headers: Mapping[str, str]  # case-insensitive
    body: Any  # parsed JSON, or None for an empty body


class Adapter:
    """Base of the five vendor adapters. Subclasses set the class attributes below."""

    vendor: ClassVar[str]
    # Allowed `auth_scheme` values; the first is the default.
    auth_schemes: ClassVar[tuple[str, ...]] = ("bearer",)
    # Names of the vendor identifiers a job id carries, in order (see gateway.ids).
    id_parts: ClassVar[tuple[str, ...]]
    status_table: ClassVar[StatusTable]
    error_table: ClassVar[tuple[ErrorRule, ...]] = ()
    # Some servers break a keep-alive connection after an error answer (Llama Stack 0.7.3
    # resets it ~4 s into the next request): close such a connection instead of reusing it.
    fresh_connection_after_error: ClassVar[bool] = False
    # False where the vendor has no cancel at all (its cancel_job only checks the id and
    # refuses), so callers such as the status board need not offer one.
    can_cancel: ClassVar[bool] = True
    # Vendor statuses whose problem is marked `retryable` for callers.
    retryable_statuses: ClassVar[frozenset[int]] = RETRYABLE_VENDOR_STATUSES
    # Where the vendor's error text lives in its error bodies, tried in order.
    error_message_paths: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("detail",),
        ("message",),
        ("error", "message"),
        ("error", "detail"),
        ("title",),
    )

    def __init__(self, context: BackendContext, http: UpstreamClient | httpx.AsyncClient) -> None:
        self.context = context
        self.http: UpstreamClient = (
            HttpxUpstream(http) if isinstance(http, httpx.AsyncClient) else http
        )

    # -- configuration hooks ---------------------------------------------------------------

    @classmethod
    def auth_headers(cls, api_key: str, scheme: str) -> dict[str, str]:
        """Headers that carry the backend's credential (`scheme` is one of auth_schemes)."""
        return {"Authorization": f"Bearer {api_key}"}

    # -- canonical operations (subclasses override what the vendor has) --------------------

    async def get_job(self, ref: JobRef) -> Job:
        raise self.unsupported("get job")

    async def get_result(self, ref: JobRef) -> Result:
        raise self.unsupported("get result")

    async def get_result_page(self, ref: JobRef, query: ResultQuery) -> ResultPage:
        """One page of the result's rows (metrics and artifacts on every page). Vendors whose
        result is one body are paged here from `get_result`; vendors that page override."""
        return page_rows(await self.get_result(ref), query)

    async def cancel_job(self, ref: JobRef) -> Job:
        raise self.unsupported("cancel")

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        raise self.unsupported("list jobs")

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """Start the evaluation; the job(s) it created, as they stand right after."""
        raise self.unsupported("submit")

    # -- helpers for subclasses --------------------------------------------------------------

    def cannot_express(self, field: str, why: str = "") -> InvalidRequest:
        """A canonical submission field this vendor has no way to express (never dropped)."""
        return refusal(self.context, [(field, why)])

    def unsupported(self, operation: str, why: str = "") -> UnsupportedOperation:
        detail = f"{self.vendor} has no '{operation}' operation"
        return UnsupportedOperation(
            f"{detail}: {why}" if why else detail, backend=self.context.backend, vendor=self.vendor
        )

    async def call(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        ok: tuple[int, ...] = (200,),
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
    ) -> VendorResponse:
        """One vendor HTTP call. Non-`ok` answers become typed errors via the error table."""
        check_vendor_path(path)  # an id with '/' must not reach another vendor route
        try:
            response = await self.http.request(
                method,
                path,
                params=params,
                json_body=json_body,
                headers=with_trace_headers(headers),  # traceparent when tracing (telemetry)
                follow_redirects=follow_redirects,
                close_if_error=self.fresh_connection_after_error,
            )
        except TransportError as exc:  # the engines raise nothing else
            raise self.transport_problem(exc) from None
        if response.status_code not in ok:
            raise self.to_problem(
                operation, response.status_code, response.headers, response.content
            )
        # Only a 2xx body is the vendor's answer; a redirect's body need not even be JSON.
        body = self.decode(response.content) if 200 <= response.status_code < 300 else None
        return VendorResponse(response.status_code, response.headers, body)

    def transport_problem(self, exc: TransportError) -> UpstreamProblem:
        """The typed error for a call that got no usable answer (TRANSPORT_PROBLEMS)."""
        problem, detail = next((p, d) for f, p, d in TRANSPORT_PROBLEMS if isinstance(exc, f))
        return problem(
            detail.format(vendor=self.vendor), backend=self.context.backend, vendor=self.vendor
        )

    def decode(self, content: bytes) -> Any:
        """The body as JSON (None when empty); unreadable bodies are a typed problem."""
        if not content.strip():
            return None
        try:
            return jsonbound.loads(content)
        except (ValueError, UnicodeDecodeError):
            raise UpstreamInvalidResponse(
                f"{self.vendor} answered with a body that is not valid JSON",
                backend=self.context.backend,
                vendor=self.vendor,
                vendor_error=bounded_vendor_error(
                    content[:512].decode("utf-8", "replace"), self.context.secrets
                ),
            ) from None

    def to_problem(
        self, operation: Operation, status: int, headers: Mapping[str, str], content: bytes
    ) -> GatewayError:
        """Translate a vendor error answer into the typed gateway error (pure)."""
        try:
            body: Any = jsonbound.loads(content) if content.strip() else None
        except (ValueError, UnicodeDecodeError):
            body = content[:512].decode("utf-8", "replace")
        message = self.error_message(body)
        rule = find_error_rule(self.error_table, operation, status, message)
        problem_class = rule.problem
        errors = self.field_errors(body) if issubclass(problem_class, InvalidRequest) else None
        shown = scrub_text(message, self.context.secrets)[:300] if message else None
        detail = f"{self.vendor} answered {status}" + (f": {shown}" if shown else "")
        if rule.fields and issubclass(problem_class, InvalidRequest):
            # The vendor refused what the caller sent: name the canonical field(s) and say
            # what to send, where the vendor's own field errors say nothing.
            said = shown or f"{self.vendor} answered {status}"
            errors = errors or [
                FieldError(
                    loc=["body", *field_name.split(".")],
                    msg=f"{said}; {rule.send}" if rule.send else said,
                    type="vendor_refused",
                )
                for field_name in rule.fields
            ]
            if rule.send:
                detail = f"{detail}; {rule.send}"
        return problem_class(
            detail,
            backend=self.context.backend,
            vendor=self.vendor,
            vendor_status_code=status,
            vendor_error=bounded_vendor_error(body, self.context.secrets),
            retry_after=retry_after_seconds(headers),
            retryable=status in self.retryable_statuses,
            errors=errors or None,
        )

    @classmethod
    def field_errors(cls, body: Any) -> list[FieldError] | None:
        """Field-level errors (422-style) in a vendor error body, for invalid-request."""
        return None

    @classmethod
    def error_message(cls, body: Any) -> str | None:
        """The vendor's error text from any of its documented envelopes."""
        if isinstance(body, str):
            return text(body)
        for path in cls.error_message_paths:
            found = text(dig(body, *path))
            if found is not None:
                return found
        return None


# Words with which a refusal's reason already tells the caller what to send instead.
_DIRECTIVES = ("send", "set it", "give", "use ", "leave it out", "submit once", "list the")


def says_what_to_send(why: str) -> bool:
    lowered = why.casefold()
    return any(word in lowered for word in _DIRECTIVES)


def refusal(
    ctx: BackendContext, refused: Sequence[tuple[str, str] | tuple[str, str, str]]
) -> InvalidRequest:
    """One invalid-request naming every refused submission field, as (field, why) or
    (field, why, kind): kind `unsupported` (the vendor cannot express it, the default) or
    `missing` (the vendor requires it). Fields are dotted paths into the canonical body.
    Every message says what to send: the `why` does, or a plain "leave it out" / "send it"
    is added (docs/vendors/<vendor>.md has the whole list)."""
    messages: list[str] = []
    errors: list[FieldError] = []
    for entry in refused:
        field, why = entry[0], entry[1]
        kind = entry[2] if len(entry) == 3 else "unsupported"
        verb = "requires" if kind == "missing" else "cannot express"
        message = f"{ctx.vendor} {verb} '{field}'" + (f": {why}" if why else "")
        if not says_what_to_send(why):
            message += "; send it" if kind == "missing" else "; leave it out"
        messages.append(message)
        errors.append(FieldError(loc=["body", *field.split(".")], msg=message, type=kind))
    return InvalidRequest(
        "; ".join(messages), backend=ctx.backend, vendor=ctx.vendor, errors=errors
    )
