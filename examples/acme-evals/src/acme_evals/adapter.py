"""The ACME Evals adapter: a status table and an error table as data, one pure translator."""

from __future__ import annotations

import re
from typing import Any

from gateway.adapters.base import Adapter, BackendContext
from gateway.adapters.tables import JOB_OPERATIONS, ErrorRule, StatusTable
from gateway.adapters.wire import dig, items, obj, text, timestamp
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import JobNotFound, UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.schemas import Job, JobStatus, Link

VENDOR = "acme-evals"
RUNS = "/v1/runs"

STATUS_TABLE = StatusTable.of(
    queued=["WAITING"],
    running=["EXECUTING"],
    succeeded=["DONE"],
    failed=["ERRORED"],
    cancelled=["STOPPED"],
)

ERROR_TABLE: tuple[ErrorRule, ...] = (
    # ACME refuses an id of the wrong shape with 400: for the caller that run does not exist.
    ErrorRule(
        JobNotFound,
        status=400,
        message=re.compile(r"malformed run id.*"),
        operations=JOB_OPERATIONS,
    ),
)


def to_job(ctx: BackendContext, payload: Any) -> Job:
    run = obj(payload)
    run_id = text(run.get("id"))
    if run_id is None:
        raise UpstreamInvalidResponse(
            f"{VENDOR} answered a run without an id", backend=ctx.backend, vendor=VENDOR
        )
    word = run.get("state")
    status = STATUS_TABLE.lookup(word)
    message = text(dig(run, "error", "message"))
    return Job(
        id=ctx.job_id(run_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=ctx.api_version,
        vendor_job_id=run_id,
        name=text(run.get("name")),
        status=status,
        vendor_status=text(word),
        created_at=timestamp(run.get("created")),
        message=message,
        error=ctx.failure(message, run.get("error")) if status is JobStatus.FAILED else None,
        links=[Link(rel="self", href=ctx.url(f"{RUNS}/{run_id}"), media_type="application/json")],
        raw=run,
    )


class AcmeAdapter(Adapter):
    vendor = VENDOR
    id_parts = ("run_id",)
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE

    async def get_job(self, ref: JobRef) -> Job:
        answer = await self.call(Operation.GET_JOB, "GET", f"{RUNS}/{ref.parts[0]}")
        return to_job(self.context, answer.body)

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        answer = await self.call(Operation.LIST, "GET", RUNS)
        jobs = [to_job(self.context, run) for run in items(dig(answer.body, "runs"))]
        if query.status is not None:  # ACME's list has no filter: the gateway filters
            jobs = [job for job in jobs if job.status is query.status]
        return ListedJobs(jobs=jobs[: query.page_size], total=len(jobs))
