"""DataRobot job status: GenAI `/api/v2/genai/status/{id}/` and classic `/api/v2/status/{id}/`.

Contract: shared/vendor-apis/datarobot-genai/API.md. A gateway job id is
`<backend>~genai~<statusId>` or `<backend>~classic~<statusId>`. DataRobot answers a status
poll with 200 + a status object while the job is pending, or 303 See Other + `Location` (the
finished resource) once done; 307 means "ask there instead" and is followed once, as the
official client's waiter does. There is no cancel (classic DELETE only destroys the status
record) and only the classic API lists statuses. A canonical submission starts an
evaluation-dataset metric aggregation (`to_submission`, mapping in datarobot_genai_submit).

`base_url` is the DataRobot host (`https://app.datarobot.com`); a base URL that already ends
in `/api/v2` (the official client's `endpoint`) works too.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from gateway.adapters.base import RETRYABLE_VENDOR_STATUSES, Adapter, BackendContext, VendorResponse
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import ErrorRule, StatusTable
from gateway.adapters.wire import integer, items, text, timestamp
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotReady,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.redact import bounded_vendor_error, scrub_text
from gateway.schemas import (
    RESULT_READY_STATUSES,
    FieldError,
    Job,
    JobStatus,
    Link,
    Result,
    SubmitRequest,
)
from gateway.vendors.datarobot_genai.submit import (
    aggregations_path,
    created_job_id,
    to_submission,
    with_canonical_fields,
)
from gateway.vendors.datarobot_genai.wire import (
    CLASSIC,
    GENAI,
    KINDS,
    api_path,
    check_kind,
    cursor_offset,
    field_errors,
    parse_ref,
    resolve_location,
    status_path,
)

__all__ = [
    "CLASSIC",
    "ERROR_TABLE",
    "GENAI",
    "KINDS",
    "STATUS_TABLE",
    "DataRobotAdapter",
    "completed_job",
    "field_errors",
    "job_result",
    "parse_ref",
    "status_path",
    "to_job",
    "to_listed",
    "to_result",
    "to_submission",
]

STATUS_TABLE = StatusTable.of(
    queued=["INITIALIZED"],
    running=["RUNNING"],
    succeeded=["COMPLETED"],
    failed=["ERROR"],
    cancelled=["ABORTED"],
    expired=["EXPIRED"],
)

# The official client retries 413 exactly like 429 (urllib3's Retry-After statuses) and
# honours its Retry-After: DataRobot uses 413 as a throttle, so callers see a rate limit.
# A 404 from the aggregation start names an id the caller sent: the evaluation dataset
# configuration or an LLM blueprint (undocumented which, API.md §4): invalid-request on both.
SEND_IDS: Final = (
    "send as 'evaluation' an evaluation dataset configuration id and each LLM blueprint id as"
    " a model target, both from the same DataRobot GenAI use case"
)
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(UpstreamRateLimited, status=413),
    ErrorRule(
        InvalidRequest,
        status=404,
        operations=frozenset({Operation.SUBMIT}),
        fields=("evaluation", "targets"),
        send=SEND_IDS,
    ),
)

_AUTH_WORDS: Final = {"token": "Token", "bearer": "Bearer"}
_CANCEL_WHY: Final = (
    "DataRobot GenAI jobs cannot be cancelled through the API, and the classic"
    " 'DELETE /api/v2/status/{id}/' only destroys the status record; it does not stop the task"
)


# -- pure translation -----------------------------------------------------------------------------


def to_job(
    ctx: BackendContext, payload: Any, hint: JobRef | None = None, *, kind: str = GENAI
) -> Job:
    """A 200 status answer as a job. `hint` (the polled job) supplies kind and id."""
    hinted_kind, hinted_id = check_kind(kind), None
    if hint is not None:
        hinted_kind, hinted_id = parse_ref(hint)
    if isinstance(payload, str):
        return _bare_string_job(ctx, payload, hinted_kind, hinted_id)
    if not isinstance(payload, dict):
        raise _invalid(ctx, "a status answer that is not a JSON object", payload)
    # The status asked for is the status answered about (a disagreeing body stays under raw).
    status_id = asked_id(ctx, text(payload.get("statusId")), hinted_id)
    if status_id is None or status_id in (".", ".."):
        raise _invalid(ctx, "a status object without a usable statusId", payload)
    vendor_status = text(payload.get("status"))
    status = STATUS_TABLE.lookup(vendor_status)
    message = text(payload.get("message"))
    # Secrets never leave in a message or an error detail (`failure` scrubs only the body).
    message = scrub_text(message, ctx.secrets) if message else None
    code = integer(payload.get("code"))
    # code 1 (GENAI GENERIC_ERROR; classic: any non-zero code) or ERROR: the vendor reports
    # a failure. ABORTED/EXPIRED carry code 1 with a reason too, kept as the job's error.
    failed = status is JobStatus.FAILED or (code is not None and code != 0)
    return Job(
        id=ctx.job_id(hinted_kind, status_id),
        backend=ctx.backend,
        vendor="datarobot-genai",
        api_version=ctx.api_version,
        vendor_job_id=status_id,
        # "A description of the task being performed": DataRobot's only human label for it.
        name=text(payload.get("description")),
        status=status,
        vendor_status=vendor_status,
        created_at=timestamp(payload.get("created")),
        message=message,
        error=ctx.failure(message, payload) if failed else None,
        links=[_self_link(ctx, hinted_kind, status_id)],
        raw=payload,
    )


def _bare_string_job(ctx: BackendContext, payload: str, kind: str, status_id: str | None) -> Job:
    # The GenAI 200 schema is `anyOf [StatusResponse, string]` and never says what the string
    # holds: a known status word is taken as the status, anything else is kept as the message.
    if status_id is None:
        raise _invalid(ctx, "a bare string status for an unknown job", payload)
    known = STATUS_TABLE.is_known(payload)
    return Job(
        id=ctx.job_id(kind, status_id),
        backend=ctx.backend,
        vendor="datarobot-genai",
        api_version=ctx.api_version,
        vendor_job_id=status_id,
        status=STATUS_TABLE.lookup(payload),
        vendor_status=payload if known else None,
        message=None if known or not payload.strip() else scrub_text(payload, ctx.secrets),
        links=[_self_link(ctx, kind, status_id)],
    )


def completed_job(ctx: BackendContext, hint: JobRef, location: str | None) -> Job:
    """A 303 See Other answer: the job is done and `location` is the finished resource
    (relative locations resolve against the job's status URL).

    A 303 carries no status word, so `vendor_status` stays None rather than an invented
    "COMPLETED" (that word is the client's own reading of a 303, not the vendor's); the
    redirect itself is DataRobot's documented "done" signal, hence `succeeded`.
    """
    kind, status_id = parse_ref(hint)
    links = [_self_link(ctx, kind, status_id)]
    href = resolve_location(ctx.url(status_path(ctx, kind, status_id)), location)
    if href is not None:
        links.append(Link(rel="result", href=href))
    return Job(
        id=ctx.job_id(kind, status_id),
        backend=ctx.backend,
        vendor="datarobot-genai",
        api_version=ctx.api_version,
        vendor_job_id=status_id,
        status=JobStatus.SUCCEEDED,
        vendor_status=None,
        links=links,
    )


def job_result(ctx: BackendContext, job: Job) -> Result:
    """The result of a finished job: the finished resource's location, where DataRobot gave
    one (the status itself carries no metrics)."""
    if job.status not in RESULT_READY_STATUSES:
        raise JobNotReady(
            f"the job is {job.status.value}; its result is available once it has succeeded",
            backend=ctx.backend,
            vendor=ctx.vendor,
            job_id=job.id,
            job_status=job.status.value,
        )
    return Result(
        job_id=job.id,
        backend=ctx.backend,
        vendor="datarobot-genai",
        status=job.status,
        artifacts=[link for link in job.links if link.rel == "result"],
        raw=job.raw,
    )


def to_result(
    ctx: BackendContext, payload: Any, hint: JobRef | None = None, *, kind: str = GENAI
) -> Result:
    """A 200 status answer as a result (JobNotReady unless it reports COMPLETED)."""
    return job_result(ctx, to_job(ctx, payload, hint, kind=kind))


def to_listed(ctx: BackendContext, payload: Any, offset: int) -> ListedJobs:
    """One page of the classic `GET /api/v2/status/` list `{count, data, next, previous}`."""
    if not isinstance(payload, dict):
        raise _invalid(ctx, "a status list that is not a JSON object", payload)
    page = items(payload.get("data"))
    jobs: list[Job] = []
    for item in page:
        try:
            jobs.append(to_job(ctx, item, kind=CLASSIC))
        except UpstreamInvalidResponse:
            continue  # an entry without a statusId cannot be addressed again: skip it alone
    more = text(payload.get("next")) is not None and bool(page)
    return ListedJobs(
        jobs=jobs,
        next_cursor={"offset": offset + len(page)} if more else None,
        # `count` is the size of this page (D2), not a total; only `totalCount` is one.
        total=integer(payload.get("totalCount")),
    )


def _self_link(ctx: BackendContext, kind: str, status_id: str) -> Link:
    return Link(
        rel="self", href=ctx.url(status_path(ctx, kind, status_id)), media_type="application/json"
    )


def _invalid(ctx: BackendContext, what: str, payload: Any) -> UpstreamInvalidResponse:
    return UpstreamInvalidResponse(
        f"{ctx.vendor} answered with {what}",
        backend=ctx.backend,
        vendor=ctx.vendor,
        vendor_error=bounded_vendor_error(payload, ctx.secrets),
    )


class _Unreadable:
    """A body that is not JSON; only an error where the body is actually read."""

    def __init__(self, error: UpstreamInvalidResponse) -> None:
        self.error = error


def _body(answer: VendorResponse) -> Any:
    if isinstance(answer.body, _Unreadable):
        raise answer.body.error
    return answer.body


# -- the adapter ----------------------------------------------------------------------------------


class DataRobotAdapter(Adapter):
    vendor = "datarobot-genai"
    # `Token` is the official client's default (Developer Tools keys); `Bearer` is for OAuth2.
    auth_schemes = ("token", "bearer")
    id_parts = ("kind", "status_id")
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE
    # The official client retries 413 like 429 (see ERROR_TABLE), so callers may too.
    retryable_statuses = RETRYABLE_VENDOR_STATUSES | {413}
    # Classic `{"message": str | {field: msg}}`, FastAPI `{"detail": str | [{loc, msg, type}]}`.
    error_message_paths = (("message",), ("detail",))

    @classmethod
    def auth_headers(cls, api_key: str, scheme: str) -> dict[str, str]:
        word = _AUTH_WORDS.get(scheme.strip().lower())
        if word is None:
            raise ValueError(f"auth_scheme must be one of {', '.join(cls.auth_schemes)}")
        return {"Authorization": f"{word} {api_key}"}

    async def get_job(self, ref: JobRef) -> Job:
        return await self._poll(Operation.GET_JOB, ref)

    async def get_result(self, ref: JobRef) -> Result:
        return job_result(self.context, await self._poll(Operation.GET_RESULT, ref))

    async def cancel_job(self, ref: JobRef) -> Job:
        parse_ref(ref)
        raise self.unsupported("cancel", _CANCEL_WHY)

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """Start an evaluation-dataset metric aggregation, then read its status back (the
        start answers only `{"jobId"}`). The job exists once the start answered, so a
        read-back that fails gives it as `unknown` instead of an error (which would say
        nothing was created)."""
        body = to_submission(self.context, request)
        # DataRobot's convention for async starts is 202; API.md leaves it unverified for GenAI.
        try:
            answer = await self.call(
                Operation.SUBMIT,
                "POST",
                aggregations_path(self.context),
                json_body=body,
                ok=(200, 201, 202),
            )
        except InvalidRequest as refused:
            raise with_canonical_fields(refused) from None
        job_id = created_job_id(self.context, _body(answer))
        ref = JobRef(self.context.backend, (GENAI, job_id))
        try:
            return [await self._poll(Operation.GET_JOB, ref)]
        except GatewayError as exc:
            unread = to_job(self.context, "", ref)
            message = f"created; its status could not be read yet: {exc.detail}"
            return [unread.model_copy(update={"message": message, "raw": answer.body})]

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        # Only the classic API lists statuses, and it has no status filter: the core filters.
        offset = cursor_offset(query.cursor)
        answer = await self.call(
            Operation.LIST,
            "GET",
            api_path(self.context, "/status/"),
            # limit=0 means "everything" to DataRobot, never what a page size of 0 wants.
            params={"offset": offset, "limit": max(1, query.page_size)},
        )
        return to_listed(self.context, _body(answer), offset)

    async def _poll(self, operation: Operation, ref: JobRef) -> Job:
        """One status poll as the official waiter does it: 200, 303 done, 307 followed once."""
        kind, status_id = parse_ref(ref)
        hint = JobRef(ref.backend, (kind, status_id))
        url = self.context.url(status_path(self.context, kind, status_id))
        answer = await self.call(operation, "GET", url, ok=(200, 303, 307))
        if answer.status_code == 307:
            url = self._redirect_target(url, answer.headers.get("location"))
            answer = await self.call(operation, "GET", url, ok=(200, 303))
        if answer.status_code == 303:
            location = resolve_location(url, answer.headers.get("location"))
            return completed_job(self.context, hint, location)
        return to_job(self.context, _body(answer), hint)

    def _redirect_target(self, url: str, location: str | None) -> str:
        target = resolve_location(url, location)
        # Our credential rides on every request of this client: never send it to another host.
        if target is None or urlsplit(target)[:2] != urlsplit(url)[:2]:
            raise UpstreamInvalidResponse(
                f"{self.vendor} redirected (307) to another host or nowhere; not followed",
                backend=self.context.backend,
                vendor=self.vendor,
                vendor_error={"location": location},
            )
        return target

    def decode(self, content: bytes) -> Any:
        # A redirect's body is never read (only its Location is) and need not be JSON, so an
        # unreadable body is an error only where `_body` reads it.
        try:
            return super().decode(content)
        except UpstreamInvalidResponse as exc:
            return _Unreadable(exc)

    @classmethod
    def field_errors(cls, body: Any) -> list[FieldError] | None:
        return field_errors(body) or None

    @classmethod
    def error_message(cls, body: Any) -> str | None:
        found = super().error_message(body)
        if found is not None:
            return found
        errors = field_errors(body)
        return "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors) or None
