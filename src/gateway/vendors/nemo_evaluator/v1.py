"""NVIDIA NeMo Evaluator, API v1 (the default): shared/vendor-apis/nemo-evaluator/API.md §3.

v1 keeps the job's state in `status` and `status_details{message, progress (0-100),
samples_processed, task_status}`; a failure's text is `status_details.message` (v1 jobs have no
`error_details`). Results are `GET .../results` (EvaluationResult) plus zip downloads.
Submission (`to_submission`, full table in nemo_evaluator_submit): `evaluation` -> `config`
("namespace/name"), the one model target -> `target` (inline, with `api_endpoint` when an
endpoint is given), vendor_options -> namespace, description, project, custom_fields,
output_files_url, ownership; refused: `name` (v1 jobs have none), agents, several targets,
temperature/top_p/max_tokens/num_samples (config params, not expressible by reference).
The v2 (preview) adapter lives in nemo_evaluator_v2 and is re-exported here for the registry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gateway.adapters.base import BackendContext, refusal
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import fraction, obj, text, timestamp
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
    V1_NOT_OPTIONS,
    V1_OPTIONS,
    config_reference,
    model_target,
    refuse_sampling,
    vendor_options,
)
from gateway.vendors.nemo_evaluator.v2 import NemoV2Adapter

API_VERSION = "v1"
JOBS_PATH = "/v1/evaluation/jobs"

# canonical-status.md, row "NeMo v1 JobStatus". `ready` and `unknown` are in the SDK enum but
# never documented for evaluation jobs, so they stay unknown (never failed).
STATUS_TABLE = StatusTable.of(
    queued=["created", "pending"],
    running=["running"],
    cancelling=["cancelling"],
    succeeded=["completed"],
    failed=["failed"],
    cancelled=["cancelled"],
    unknown=["ready", "unknown"],
)


def _job_base(job_id: str) -> str:
    return f"{JOBS_PATH}/{quote(job_id, safe='')}"


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """An EvaluationJob -> Job. `hint` supplies the id when the payload lacks one."""
    body = job_object(ctx, payload)
    job_id = vendor_job_id(ctx, body, hint)
    word = verbatim(body.get("status"))
    status = STATUS_TABLE.lookup(word)
    details = obj(body.get("status_details"))
    message = text(details.get("message"))
    base = _job_base(job_id)
    links = [
        link(ctx, "self", base, "application/json"),
        link(ctx, "status", f"{base}/status", "application/json"),
        link(ctx, "logs", f"{base}/logs", "application/zip"),
    ]
    if status in RESULT_READY_STATUSES:
        links.append(link(ctx, "results", f"{base}/results", "application/json"))
        links.append(link(ctx, "download-results", f"{base}/download-results", "application/zip"))
    if (result_id := text(body.get("result"))) is not None:
        path = f"/v1/evaluation/results/{quote(result_id, safe='')}"
        links.append(link(ctx, "result", path, "application/json"))
    if (files_url := text(body.get("output_files_url"))) is not None:
        # A data-store location (hf://datasets/...), already absolute.
        links.append(Link(rel="output-files", href=files_url))
    return Job(
        id=ctx.job_id(job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=API_VERSION,
        vendor_job_id=job_id,
        status=status,
        vendor_status=word,
        created_at=timestamp(body.get("created_at")),
        updated_at=timestamp(body.get("updated_at")),
        # 0-100, and only computed when the config sets limit_samples (null otherwise).
        progress=fraction(details.get("progress"), 100.0),
        message=message,
        error=ctx.failure(message, details) if status is JobStatus.FAILED else None,
        metrics=progress_metrics(details),
        links=links,
        raw=body,
    )


def to_result(ctx: BackendContext, payload: Any, job: Job) -> Result:
    """An EvaluationResult (for `job`, which has succeeded) -> Result."""
    if not isinstance(payload, dict):
        raise unreadable(ctx, "a result that is not a JSON object")
    base = _job_base(job.vendor_job_id)
    artifacts = [
        link(ctx, "download-results", f"{base}/download-results", "application/zip"),
        link(ctx, "logs", f"{base}/logs", "application/zip"),
    ]
    if (files_url := text(payload.get("files_url"))) is not None:
        artifacts.append(Link(rel="files", href=files_url))
    return Result(
        job_id=job.id,
        backend=ctx.backend,
        vendor=VENDOR,
        status=job.status,
        metrics=result_metrics(payload),
        artifacts=artifacts,
        raw=payload,
    )


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The v1 JobCreateParams for `request`, or `invalid-request` naming what cannot be
    expressed."""
    refused: list[tuple[str, str]] = []
    config = config_reference(request, refused)
    target = model_target(request, refused)
    if request.name is not None:
        refused.append(
            (
                "name",
                "v1 evaluation jobs have no name (the job id names them); use the v2 API, or "
                "vendor_options.description for free text",
            )
        )
    refuse_sampling(request, refused)
    options = vendor_options(request, V1_OPTIONS, V1_NOT_OPTIONS, refused)
    if refused:
        raise refusal(ctx, refused)
    return {"config": config, "target": target, **options}


class NemoV1Adapter(NemoAdapterBase):
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE
    jobs_path = JOBS_PATH

    def translate_job(self, payload: Any, hint: JobRef | None = None) -> Job:
        return to_job(self.context, payload, hint)

    def submission(self, request: SubmitRequest) -> dict[str, Any]:
        return to_submission(self.context, request)

    async def get_result(self, ref: JobRef) -> Result:
        job = await self.ready_job(ref)
        answer = await self.call(Operation.GET_RESULT, "GET", self.job_path(ref, "/results"))
        return to_result(self.context, answer.body, job)

    async def cancel_job(self, ref: JobRef) -> Job:
        # The SDK types the cancel answer as a bare `object` (shape undocumented) and the
        # success code is not documented, so accept any 2xx and read the job back.
        await self.call(
            Operation.CANCEL, "POST", self.job_path(ref, "/cancel"), ok=(200, 201, 202, 204)
        )
        return await self.get_job(ref)


__all__ = [
    "STATUS_TABLE",
    "NemoV1Adapter",
    "NemoV2Adapter",
    "to_job",
    "to_result",
    "to_submission",
]
