"""Llama Stack jobs and results as canonical ones: the status table and the pure
translators of a `Job {job_id, status}` and of an `EvaluateResponse`."""

from __future__ import annotations

from typing import Any

from gateway.adapters.base import BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import dig, obj, text
from gateway.ids import JobRef
from gateway.schemas import Job, JobStatus, Link, Metric, Result
from gateway.vendors.llama_stack.results import (
    flatten_metrics,
    is_nemo_result,
    nemo_metrics,
    result_rows,
)
from gateway.vendors.llama_stack.wire import JSON, VENDOR, invalid, job_ids, job_path, result_path

STATUS_TABLE = StatusTable.of(
    queued=["scheduled"],
    running=["in_progress"],
    succeeded=["completed"],
    failed=["failed"],
    cancelled=["cancelled"],
)
_FAILED_DETAIL = "Llama Stack reports the job failed and gives no reason"


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """A Llama Stack `Job` (`{job_id, status}`) as a canonical job.

    The payload never names its benchmark, so `hint` must supply it. The job id is the one
    asked for (`hint`), whatever the payload says; the payload's only on a create."""
    if not isinstance(payload, dict):
        raise invalid(ctx, "a job that is not a JSON object", payload)
    hint_parts = hint.parts if hint is not None else ()
    benchmark_id = hint_parts[0] if hint_parts else None
    asked = hint_parts[1] if len(hint_parts) > 1 else None
    job_id = asked_id(ctx, text(payload.get("job_id")), asked)
    if not benchmark_id or not job_id:
        raise invalid(ctx, "a job without a job_id (or its benchmark is unknown)", payload)
    vendor_status = text(payload.get("status"))
    status = STATUS_TABLE.lookup(vendor_status)
    path = job_path(benchmark_id, job_id)
    links = [Link(rel="self", href=ctx.url(path), media_type=JSON)]
    if status is JobStatus.SUCCEEDED:
        result_url = ctx.url(result_path(benchmark_id, job_id))
        links.append(Link(rel="result", href=result_url, media_type=JSON))
    return Job(
        id=ctx.job_id(benchmark_id, job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=ctx.api_version,
        vendor_job_id=job_id,
        status=status,
        vendor_status=vendor_status,
        # The vendor gives no reason; there is no error object to keep.
        error=ctx.failure(_FAILED_DETAIL) if status is JobStatus.FAILED else None,
        links=links,
        raw=payload,
    )


# -- results --------------------------------------------------------------------------------------


def to_result(ctx: BackendContext, payload: Any, ref: JobRef) -> Result:
    """An `EvaluateResponse` as a canonical result (Llama Stack only serves completed jobs')."""
    if not isinstance(payload, dict):
        raise invalid(ctx, "a result that is not a JSON object", payload)
    benchmark_id, job_id = job_ids(ref)
    scores = obj(payload.get("scores"))
    metrics: list[Metric] = []
    artifacts = [
        Link(
            rel="result",
            href=ctx.url(result_path(benchmark_id, job_id)),
            media_type=JSON,
        )
    ]
    for scoring_fn, scoring_result in scores.items():
        aggregated = obj(dig(scoring_result, "aggregated_results"))
        if is_nemo_result(aggregated):
            metrics.extend(nemo_metrics(scoring_fn, aggregated))
            files_url = text(aggregated.get("files_url"))
            if files_url is not None:
                artifacts.append(Link(rel="files", href=files_url))
        else:
            metrics.extend(flatten_metrics(aggregated, group=scoring_fn))
    return Result(
        job_id=ctx.job_id(benchmark_id, job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        status=JobStatus.SUCCEEDED,
        metrics=metrics,
        rows=result_rows(payload.get("generations"), scores),
        artifacts=artifacts,
        raw=payload,
    )
