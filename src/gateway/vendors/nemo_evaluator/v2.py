"""NVIDIA NeMo Evaluator, API v2 (preview): shared/vendor-apis/nemo-evaluator/API.md §4.

An EvaluatorV2Job carries `status` (PlatformJobStatus), a free-form `status_details` (the docs
read `progress` and `samples_processed` from it when present) and a free-form `error_details`.
Metrics come from `results/evaluation-results/download` (JSON `{tasks, groups}`); the stored
results (`/results`, PlatformJobResult list) and the artifacts tarball are the artifacts.
Submission (`to_submission`, full table in nemo_evaluator_submit): as v1, inside
`spec: {config, target}`, plus `name` -> `name`; vendor_options -> namespace, description,
project, custom_fields, ownership (v2 has no output_files_url).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gateway.adapters.base import BackendContext, refusal
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import dig, fraction, items, obj, text, timestamp
from gateway.contract import Operation
from gateway.ids import JobRef
from gateway.schemas import RESULT_READY_STATUSES, Job, JobStatus, Link, Result, SubmitRequest
from gateway.vendors.nemo_evaluator.common import (
    ERROR_TABLE,
    VENDOR,
    NemoAdapterBase,
    job_object,
    link,
    progress_metrics,
    result_metrics,
    unreadable,
    vendor_job_id,
    verbatim,
)
from gateway.vendors.nemo_evaluator.submit import (
    V2_NOT_OPTIONS,
    V2_OPTIONS,
    config_reference,
    model_target,
    refuse_sampling,
    vendor_options,
)

API_VERSION = "v2"
JOBS_PATH = "/v2/evaluation/jobs"

# canonical-status.md, row "NeMo v2 PlatformJobStatus".
STATUS_TABLE = StatusTable.of(
    queued=["created", "pending"],
    running=["active", "resuming"],
    paused=["paused", "pausing"],
    cancelling=["cancelling"],
    succeeded=["completed"],
    failed=["error"],
    cancelled=["cancelled"],
)

# `error_details` is a free-form object; these are the keys read for its text, in order.
# The keys are not documented (an assumption), so the whole object also goes to vendor_error.
_ERROR_TEXT_KEYS = ("message", "detail", "error")


def _job_base(job_id: str) -> str:
    return f"{JOBS_PATH}/{quote(job_id, safe='')}"


def error_text(error_details: Any) -> str | None:
    if isinstance(error_details, str):
        return text(error_details)
    for key in _ERROR_TEXT_KEYS:
        if (found := text(dig(error_details, key))) is not None:
            return found
    return None


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """An EvaluatorV2Job -> Job. `hint` supplies the id when the payload lacks one."""
    body = job_object(ctx, payload)
    job_id = vendor_job_id(ctx, body, hint)
    word = verbatim(body.get("status"))
    status = STATUS_TABLE.lookup(word)
    details = obj(body.get("status_details"))
    error_details = body.get("error_details")
    failure_text = error_text(error_details)
    message = text(details.get("message")) or failure_text
    base = _job_base(job_id)
    links = [
        link(ctx, "self", base, "application/json"),
        link(ctx, "status", f"{base}/status", "application/json"),
        link(ctx, "logs", f"{base}/logs", "application/json"),
    ]
    if status in RESULT_READY_STATUSES:
        links.append(link(ctx, "results", f"{base}/results", "application/json"))
        links.extend(_downloads(ctx, base))
    failed = status is JobStatus.FAILED
    return Job(
        id=ctx.job_id(job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=API_VERSION,
        vendor_job_id=job_id,
        name=text(body.get("name")),
        status=status,
        vendor_status=word,
        created_at=timestamp(body.get("created_at")),
        updated_at=timestamp(body.get("updated_at")),
        # Assumed on v1's 0-100 scale; v2 documents no scale for this free-form field.
        progress=fraction(details.get("progress"), 100.0),
        message=message,
        error=ctx.failure(failure_text or message, error_details or None) if failed else None,
        metrics=progress_metrics(details),
        links=links,
        raw=body,
    )


def _downloads(ctx: BackendContext, base: str) -> list[Link]:
    return [
        link(
            ctx,
            "evaluation-results",
            f"{base}/results/evaluation-results/download",
            "application/json",
        ),
        # A gzip tarball (the docs save it as artifacts.tar.gz).
        link(ctx, "artifacts", f"{base}/results/artifacts/download", "application/gzip"),
    ]


def to_result(ctx: BackendContext, evaluation_results: Any, results: Any, job: Job) -> Result:
    """EvaluationResultV2 + the job's PlatformJobResult list (for `job`, succeeded) -> Result."""
    if not isinstance(evaluation_results, dict):
        raise unreadable(ctx, "a result that is not a JSON object")
    artifacts = _downloads(ctx, _job_base(job.vendor_job_id))
    for stored in items(dig(results, "data")):
        url = text(dig(stored, "artifact_url"))
        if url is not None:
            # Where the vendor stored it (its data store), as the vendor gives it.
            name = text(dig(stored, "result_name")) or "unnamed"
            artifacts.append(Link(rel=f"result:{name}", href=url))
    return Result(
        job_id=job.id,
        backend=ctx.backend,
        vendor=VENDOR,
        status=job.status,
        metrics=result_metrics(evaluation_results),
        artifacts=artifacts,
        raw={"evaluation_results": evaluation_results, "results": results},
    )


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The v2 create body `{spec: {config, target}, name?, ...}` for `request`, or
    `invalid-request` naming what cannot be expressed."""
    refused: list[tuple[str, str]] = []
    spec = {
        "config": config_reference(request, refused),
        "target": model_target(request, refused),
    }
    refuse_sampling(request, refused)
    options = vendor_options(request, V2_OPTIONS, V2_NOT_OPTIONS, refused)
    if refused:
        raise refusal(ctx, refused)
    body: dict[str, Any] = {"spec": spec}
    if request.name is not None:
        body["name"] = request.name
    return {**body, **options}


class NemoV2Adapter(NemoAdapterBase):
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE
    jobs_path = JOBS_PATH

    def translate_job(self, payload: Any, hint: JobRef | None = None) -> Job:
        return to_job(self.context, payload, hint)

    def submission(self, request: SubmitRequest) -> dict[str, Any]:
        return to_submission(self.context, request)

    async def get_result(self, ref: JobRef) -> Result:
        job = await self.ready_job(ref)
        metrics = await self.call(
            Operation.GET_RESULT, "GET", self.job_path(ref, "/results/evaluation-results/download")
        )
        stored = await self.call(Operation.GET_RESULT, "GET", self.job_path(ref, "/results"))
        return to_result(self.context, metrics.body, stored.body, job)

    async def cancel_job(self, ref: JobRef) -> Job:
        # v2 answers the job itself; the success code is undocumented, so any 2xx will do and
        # an empty answer is followed by a read.
        answer = await self.call(
            Operation.CANCEL, "POST", self.job_path(ref, "/cancel"), ok=(200, 201, 202, 204)
        )
        if answer.body is None:
            return await self.get_job(ref)
        return self.translate_job(answer.body, ref)
