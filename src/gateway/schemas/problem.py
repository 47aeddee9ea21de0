"""RFC 9457 problem details and the gateway's problem catalog."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PROBLEM_BASE = "/problems/"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One entry of the catalog: slug, HTTP status, title and a short explanation."""

    slug: str
    status: int
    title: str
    explanation: str


class ProblemType(Enum):
    """The closed catalog from canonical-status.md; every gateway error is one of these."""

    INVALID_REQUEST = ProblemKind(
        "invalid-request",
        400,
        "Invalid request",
        "The request is malformed: a bad job id, query parameter or body. Field errors, when"
        " there are several, are listed in `errors`. Fix the request; retrying it unchanged"
        " will fail the same way.",
    )
    # HTTP-level refusals of the request's shape, each with its own status (RFC 9110/6585).
    NOT_FOUND = ProblemKind(
        "not-found",
        404,
        "Not found",
        "No such route or page on the gateway: the path names none of its resources. The routes"
        " are listed in /openapi.json.",
    )
    METHOD_NOT_ALLOWED = ProblemKind(
        "method-not-allowed",
        405,
        "Method not allowed",
        "The route exists but not with this HTTP method; the `Allow` header lists the methods"
        " it takes.",
    )
    PAYLOAD_TOO_LARGE = ProblemKind(
        "payload-too-large",
        413,
        "Payload too large",
        "The request body is larger than the gateway accepts (`server.max_body_bytes`). Send"
        " a smaller body.",
    )
    URI_TOO_LONG = ProblemKind(
        "uri-too-long",
        414,
        "URI too long",
        "The request's path and query string are longer than the gateway reads. No route"
        " needs one this long: check what built the URL.",
    )
    UNSUPPORTED_MEDIA_TYPE = ProblemKind(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "The request body is not sent as JSON. Send it with `Content-Type: application/json`.",
    )
    HEADERS_TOO_LARGE = ProblemKind(
        "headers-too-large",
        431,
        "Request header fields too large",
        "The request's headers (one of them, or all together) are larger than the gateway"
        " reads. Send fewer or shorter headers.",
    )
    UNAUTHORIZED = ProblemKind(
        "unauthorized",
        401,
        "Unauthorized",
        "The caller sent no gateway credential or a wrong one. Send a valid API key.",
    )
    FORBIDDEN = ProblemKind(
        "forbidden",
        403,
        "Forbidden",
        "The caller's credential is valid but may not use this backend or alias.",
    )
    UNKNOWN_BACKEND = ProblemKind(
        "unknown-backend",
        404,
        "Unknown backend",
        "The backend or alias named in the request is not in the gateway's configuration.",
    )
    JOB_NOT_FOUND = ProblemKind(
        "job-not-found",
        404,
        "Job not found",
        "The vendor says the job does not exist (or is not visible to the gateway's credential).",
    )
    JOB_NOT_READY = ProblemKind(
        "job-not-ready",
        409,
        "Job not ready",
        "A result was asked for before the job finished successfully. `job_status` carries the"
        " job's current canonical status; poll the job and ask again once it has succeeded.",
    )
    JOB_ALREADY_TERMINAL = ProblemKind(
        "job-already-terminal",
        409,
        "Job already terminal",
        "A cancel was asked for a job that had already finished (succeeded, failed, cancelled"
        " or expired): the cancel did nothing. `job_status` carries the job's terminal"
        " canonical status. The same answer from every vendor; do not retry.",
    )
    UNSUPPORTED_OPERATION = ProblemKind(
        "unsupported-operation",
        501,
        "Unsupported operation",
        "The vendor behind this backend has no such operation (for example, cancelling a"
        " DigitalOcean agent evaluation run).",
    )
    UPSTREAM_RATE_LIMITED = ProblemKind(
        "upstream-rate-limited",
        429,
        "Upstream rate limited",
        "The vendor kept refusing with a rate limit after the gateway's retries. Wait for"
        " `Retry-After` seconds before trying again.",
    )
    UPSTREAM_AUTH_FAILED = ProblemKind(
        "upstream-auth-failed",
        502,
        "Upstream authentication failed",
        "The vendor refused the gateway's own credential for this backend. This is not the"
        " caller's fault: the gateway's operators must fix the backend's credential.",
    )
    UPSTREAM_ERROR = ProblemKind(
        "upstream-error",
        502,
        "Upstream error",
        "The vendor answered with a server error or an unexpected status. The vendor's own"
        " status code and error body are in `vendor_status_code` and `vendor_error`.",
    )
    UPSTREAM_INVALID_RESPONSE = ProblemKind(
        "upstream-invalid-response",
        502,
        "Upstream invalid response",
        "The vendor answered with a body the gateway cannot read (not JSON, truncated, or not"
        " the documented shape).",
    )
    UPSTREAM_UNAVAILABLE = ProblemKind(
        "upstream-unavailable",
        503,
        "Upstream unavailable",
        "The gateway could not reach the vendor (connection refused or reset), or the"
        " backend's circuit breaker is open. Retry later.",
    )
    UPSTREAM_TIMEOUT = ProblemKind(
        "upstream-timeout",
        504,
        "Upstream timeout",
        "The vendor did not answer in time.",
    )
    LEDGER_UNAVAILABLE = ProblemKind(
        "ledger-unavailable",
        503,
        "Ledger unavailable",
        "The gateway's job ledger (its database) cannot be written or read right now, or its"
        " schema is not the one this gateway knows (run `eval-gateway ledger upgrade`). A"
        " submission is refused rather than started without a record; retry later.",
    )
    INTERNAL_ERROR = ProblemKind(
        "internal-error",
        500,
        "Internal error",
        "A bug in the gateway. It has been logged with the request id; report that id.",
    )

    @property
    def slug(self) -> str:
        return self.value.slug

    @property
    def status(self) -> int:
        return self.value.status

    @property
    def title(self) -> str:
        return self.value.title

    @property
    def explanation(self) -> str:
        return self.value.explanation

    def uri(self, base: str = DEFAULT_PROBLEM_BASE) -> str:
        return f"{base}{self.slug}"

    @classmethod
    def from_slug(cls, slug: str) -> ProblemType:
        for member in cls:
            if member.slug == slug:
                return member
        raise KeyError(slug)


class FieldError(BaseModel):
    """One field-level error (the 422-style entries of `errors`)."""

    loc: list[str | int] = Field(default_factory=list, description="Path to the offending field")
    msg: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, with the gateway's extension members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI of the problem type; resolves to a short explanation")
    title: str
    status: int = Field(description="The gateway's HTTP status for this problem")
    detail: str | None = None
    instance: str | None = None
    backend: str | None = None
    vendor: str | None = None
    job_id: str | None = None
    job_status: str | None = Field(
        default=None, description="Current canonical status (job-not-ready)"
    )
    vendor_status_code: int | None = Field(
        default=None, description="The vendor's own HTTP status code"
    )
    vendor_error: Any | None = Field(
        default=None, description="The vendor's own error body, scrubbed of secrets and cut short"
    )
    retryable: bool | None = None
    retry_after: float | None = Field(default=None, description="Seconds to wait before retrying")
    attempts: int | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None

    @property
    def slug(self) -> str:
        """The catalog slug, whatever base the type URI was built on."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
