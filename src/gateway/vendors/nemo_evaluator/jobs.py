"""NeMo Evaluator: one pure job and result reader for both API versions, each given as an `Api`.

v1 (EvaluationJob) and v2 (EvaluatorV2Job) jobs share their core fields (`id`, `status`,
`status_details{message, progress, samples_processed, task_status}`, `created_at`,
`updated_at`) and their results' nesting; what differs is data in the version's `Api`: its
paths, status table, links and where a failure's text is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gateway.adapters.base import BackendContext
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import fraction, obj, text, timestamp
from gateway.ids import JobRef
from gateway.schemas import RESULT_READY_STATUSES, Job, JobStatus, Link, Result, SubmitRequest
from gateway.vendors.nemo_evaluator.common import (
    VENDOR,
    job_object,
    link,
    unreadable,
    vendor_job_id,
)
from gateway.vendors.nemo_evaluator.metrics import progress_metrics, result_metrics, verbatim

JSON = "application/json"
ZIP = "application/zip"
GZIP = "application/gzip"
# A link under the job's own path: (rel, path suffix, media type).
JobLink = tuple[str, str, str]
# A job body -> (its failure text, what goes to vendor_error).
FailureReader = Callable[[dict[str, Any]], tuple[str | None, Any]]
# A job body -> links the body itself names (results elsewhere, data-store locations).
BodyLinks = Callable[[BackendContext, dict[str, Any]], list[Link]]
# The version's pure canonical submission -> create body translator (its `to_submission`).
CreateBody = Callable[[BackendContext, SubmitRequest], dict[str, Any]]
# The answers to `result_paths`, in order, for a succeeded job -> its Result.
ResultReader = Callable[[BackendContext, Job, list[Any]], Result]


def _no_body_links(ctx: BackendContext, body: dict[str, Any]) -> list[Link]:
    return []


@dataclass(frozen=True)
class Api:
    """One NeMo Evaluator API version, as the shared reader and adapter need it."""

    version: str
    jobs_path: str
    status_table: StatusTable
    job_links: tuple[JobLink, ...]  # every job has them
    ready_links: tuple[JobLink, ...]  # once its result can be read
    artifacts: tuple[JobLink, ...]  # a result's artifacts
    failure: FailureReader
    create_body: CreateBody
    result_paths: tuple[str, ...]  # under the job, read in order for its result
    read_result: ResultReader
    cancel_answers_job: bool  # else the cancel answer is ignored and the job read back
    named: bool = False  # the job has a `name`
    body_links: BodyLinks = _no_body_links

    def job_base(self, job_id: str) -> str:
        return f"{self.jobs_path}/{quote(job_id, safe='')}"

    def links(self, ctx: BackendContext, job_id: str, rows: tuple[JobLink, ...]) -> list[Link]:
        base = self.job_base(job_id)
        return [link(ctx, rel, f"{base}{suffix}", media) for rel, suffix, media in rows]


def read_job(api: Api, ctx: BackendContext, payload: Any, hint: JobRef | None) -> Job:
    """A job body of `api` -> Job. `hint` supplies the id when the payload lacks one."""
    body = job_object(ctx, payload)
    job_id = vendor_job_id(ctx, body, hint)
    word = verbatim(body.get("status"))
    status = api.status_table.lookup(word)
    details = obj(body.get("status_details"))
    failure_text, vendor_error = api.failure(body)
    message = text(details.get("message")) or failure_text
    links = api.links(ctx, job_id, api.job_links)
    if status in RESULT_READY_STATUSES:
        links.extend(api.links(ctx, job_id, api.ready_links))
    links.extend(api.body_links(ctx, body))
    failed = status is JobStatus.FAILED
    return Job(
        id=ctx.job_id(job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=api.version,
        vendor_job_id=job_id,
        name=text(body.get("name")) if api.named else None,
        status=status,
        vendor_status=word,
        created_at=timestamp(body.get("created_at")),
        updated_at=timestamp(body.get("updated_at")),
        # 0-100 in v1, and only computed when the config sets limit_samples (null otherwise);
        # assumed on the same scale in v2, which documents none for this free-form field.
        progress=fraction(details.get("progress"), 100.0),
        message=message,
        error=ctx.failure(failure_text or message, vendor_error) if failed else None,
        metrics=progress_metrics(details),
        links=links,
        raw=body,
    )


def read_result(
    api: Api, ctx: BackendContext, metrics: Any, job: Job, found: list[Link], raw: Any
) -> Result:
    """The result of `job` (which has succeeded): `metrics` is its EvaluationResult (v1) or
    EvaluationResultV2; `found` the artifacts the vendor's answers name; `raw` goes as is."""
    if not isinstance(metrics, dict):
        raise unreadable(ctx, "a result that is not a JSON object")
    return Result(
        job_id=job.id,
        backend=ctx.backend,
        vendor=VENDOR,
        status=job.status,
        metrics=result_metrics(metrics),
        artifacts=[*api.links(ctx, job.vendor_job_id, api.artifacts), *found],
        raw=raw,
    )
