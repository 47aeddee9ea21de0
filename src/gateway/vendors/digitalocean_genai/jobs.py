"""DigitalOcean GenAI evaluation runs and results pages -> canonical jobs and results: the
adapter's pure translation (metrics and rows are in `rows`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gateway.adapters.base import BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import items, obj, text, timestamp
from gateway.errors import UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.schemas import Job, JobStatus, Link, Result
from gateway.vendors.digitalocean_genai.rows import run_metrics, to_row
from gateway.vendors.digitalocean_genai.spec import (
    CANCELLED,
    CANCELLING,
    EVALUATING,
    FAILED,
    PARTIAL,
    QUEUED,
    RUNNING_DATASET,
    RUNS_PATH,
    SUCCESSFUL,
    UNSPECIFIED,
)

VENDOR = "digitalocean-genai"

STATUS_TABLE = StatusTable.of(
    queued=[QUEUED],
    running=[RUNNING_DATASET, EVALUATING],
    cancelling=[CANCELLING],
    succeeded=[SUCCESSFUL],
    partially_succeeded=[PARTIAL],
    failed=[FAILED],
    cancelled=[CANCELLED],
    unknown=[UNSPECIFIED],
)

# The sub-stages of `running`, spelled out for people reading the job.
STAGE_MESSAGES: dict[str, str] = {
    "evaluation_run_running_dataset": "running the test case dataset through the agent",
    "evaluation_run_evaluating_results": "evaluating the agent's answers",
}


def run_path(run_uuid: str) -> str:
    return f"{RUNS_PATH}/{quote(run_uuid, safe='')}"


def run_of(payload: Any) -> dict[str, Any]:
    """The run object from `{evaluation_run: {...}}` or a bare run (list entries are bare)."""
    body = obj(payload)
    wrapped = body.get("evaluation_run")
    return wrapped if isinstance(wrapped, dict) else body


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """`{evaluation_run: APIEvaluationRun}` (or a bare run) -> Job."""
    run = run_of(payload)
    # The run asked for is the run answered about (a disagreeing body stays under raw).
    asked = hint.parts[0] if hint is not None and hint.parts else None
    run_uuid = asked_id(ctx, text(run.get("evaluation_run_uuid")), asked)
    if run_uuid is None:
        raise UpstreamInvalidResponse(
            f"{ctx.vendor} answered without an evaluation run",
            backend=ctx.backend,
            vendor=ctx.vendor,
        )
    word = run.get("status")
    vendor_status = word if isinstance(word, str) and word.strip() else None
    status = STATUS_TABLE.lookup(vendor_status)
    error_description = text(run.get("error_description"))
    message = error_description
    if message is None and vendor_status is not None:
        message = STAGE_MESSAGES.get(vendor_status.strip().casefold())
    error = None
    if status is JobStatus.FAILED:
        error = ctx.failure(
            error_description,
            {"status": vendor_status, "error_description": error_description},
        )
    return Job(
        id=ctx.job_id(run_uuid),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=ctx.api_version,
        vendor_job_id=run_uuid,
        name=text(run.get("run_name")),
        status=status,
        vendor_status=vendor_status,
        created_at=timestamp(run.get("queued_at")),
        started_at=timestamp(run.get("started_at")),
        finished_at=timestamp(run.get("finished_at")),
        message=message,
        error=error,
        metrics=run_metrics(run),
        links=[
            Link(rel="self", href=ctx.url(run_path(run_uuid)), media_type="application/json"),
            Link(
                rel="results",
                href=ctx.url(f"{run_path(run_uuid)}/results"),
                media_type="application/json",
            ),
        ],
        raw=obj(payload) or None,
    )


def to_result(
    ctx: BackendContext, payload: Any, hint: JobRef | None = None, *, first_row: int = 0
) -> Result:
    """Results pages (`{evaluation_run, prompts, links, meta}`, one or a list) -> Result; rows
    are numbered from `first_row` (the rows of the pages before)."""
    pages = [obj(p) for p in payload] if isinstance(payload, list) else [obj(payload)]
    first = pages[0] if pages else {}
    job = to_job(ctx, first.get("evaluation_run"), hint)
    prompts = [p for page in pages for p in items(page.get("prompts"))]
    return Result(
        job_id=job.id,
        backend=ctx.backend,
        vendor=VENDOR,
        status=job.status,
        metrics=job.metrics,
        rows=[to_row(first_row + i, p) for i, p in enumerate(prompts)],
        artifacts=[link for link in job.links if link.rel == "results"],
        raw={"pages": pages},
    )
