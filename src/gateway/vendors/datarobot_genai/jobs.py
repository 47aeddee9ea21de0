"""DataRobot status answers -> canonical jobs and results: the adapter's pure translation.

A 200 status answer is a status object (or, for GenAI, a bare string); a 303 See Other says
the job is done and where its finished resource is; the classic list pages status objects.
"""

from __future__ import annotations

from typing import Any

from gateway.adapters.base import BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import integer, items, text, timestamp
from gateway.contract import ListedJobs
from gateway.errors import JobNotReady, UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.redact import bounded_vendor_error, scrub_text
from gateway.schemas import RESULT_READY_STATUSES, Job, JobStatus, Link, Result
from gateway.vendors.datarobot_genai.wire import (
    CLASSIC,
    GENAI,
    check_kind,
    parse_ref,
    resolve_location,
    status_path,
)

VENDOR = "datarobot-genai"
# JobExecutionState, in the contract's order (the simulator serves exactly these words).
STATUS_TABLE = StatusTable.of(
    queued=["INITIALIZED"],
    running=["RUNNING"],
    succeeded=["COMPLETED"],
    failed=["ERROR"],
    cancelled=["ABORTED"],
    expired=["EXPIRED"],
)


def _job(ctx: BackendContext, kind: str, status_id: str, **fields: Any) -> Job:
    """A job of this backend for the status `status_id`, with its self link."""
    links = [_self_link(ctx, kind, status_id), *fields.pop("links", ())]
    return Job(
        id=ctx.job_id(kind, status_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=ctx.api_version,
        vendor_job_id=status_id,
        links=links,
        **fields,
    )


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
    return _job(
        ctx,
        hinted_kind,
        status_id,
        # "A description of the task being performed": DataRobot's only human label for it.
        name=text(payload.get("description")),
        status=status,
        vendor_status=vendor_status,
        created_at=timestamp(payload.get("created")),
        message=message,
        error=ctx.failure(message, payload) if failed else None,
        raw=payload,
    )


def _bare_string_job(ctx: BackendContext, payload: str, kind: str, status_id: str | None) -> Job:
    # The GenAI 200 schema is `anyOf [StatusResponse, string]` and never says what the string
    # holds: a known status word is taken as the status, anything else is kept as the message.
    if status_id is None:
        raise _invalid(ctx, "a bare string status for an unknown job", payload)
    known = STATUS_TABLE.is_known(payload)
    return _job(
        ctx,
        kind,
        status_id,
        status=STATUS_TABLE.lookup(payload),
        vendor_status=payload if known else None,
        message=None if known or not payload.strip() else scrub_text(payload, ctx.secrets),
    )


def completed_job(ctx: BackendContext, hint: JobRef, location: str | None) -> Job:
    """A 303 See Other answer: the job is done and `location` is the finished resource
    (relative locations resolve against the job's status URL).

    A 303 carries no status word, so `vendor_status` stays None rather than an invented
    "COMPLETED" (that word is the client's own reading of a 303, not the vendor's); the
    redirect itself is DataRobot's documented "done" signal, hence `succeeded`.
    """
    kind, status_id = parse_ref(hint)
    href = resolve_location(ctx.url(status_path(ctx, kind, status_id)), location)
    result = [Link(rel="result", href=href)] if href is not None else []
    return _job(ctx, kind, status_id, status=JobStatus.SUCCEEDED, vendor_status=None, links=result)


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
        vendor=VENDOR,
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
