"""NVIDIA NeMo Evaluator, API v2 (preview): shared/vendor-apis/nemo-evaluator/API.md §4.

An EvaluatorV2Job carries `status` (PlatformJobStatus), a free-form `status_details` (the docs
read `progress` and `samples_processed` from it when present) and a free-form `error_details`.
Metrics come from `results/evaluation-results/download` (JSON `{tasks, groups}`); the stored
results (`/results`, PlatformJobResult list) and the artifacts tarball are the artifacts.
Submission (`to_submission`, full table in submit): as v1, inside
`spec: {config, target}`, plus `name` -> `name`; vendor_options -> namespace, description,
project, custom_fields, ownership (v2 has no output_files_url).
"""

from __future__ import annotations

from typing import Any

from gateway.adapters.base import BackendContext
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import dig, items, text
from gateway.ids import JobRef
from gateway.schemas import Job, Link, Result, SubmitRequest
from gateway.vendors.nemo_evaluator.adapter import NemoAdapterBase
from gateway.vendors.nemo_evaluator.jobs import GZIP, JSON, Api, read_job, read_result
from gateway.vendors.nemo_evaluator.submit import V2_FORM, create_parts

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
EVALUATION_RESULTS = "/results/evaluation-results/download"
_DOWNLOADS = (
    ("evaluation-results", EVALUATION_RESULTS, JSON),
    # A gzip tarball (the docs save it as artifacts.tar.gz).
    ("artifacts", "/results/artifacts/download", GZIP),
)


def error_text(error_details: Any) -> str | None:
    if isinstance(error_details, str):
        return text(error_details)
    for key in _ERROR_TEXT_KEYS:
        if (found := text(dig(error_details, key))) is not None:
            return found
    return None


def _failure(body: dict[str, Any]) -> tuple[str | None, Any]:
    error_details = body.get("error_details")
    return error_text(error_details), error_details or None


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """An EvaluatorV2Job -> Job. `hint` supplies the id when the payload lacks one."""
    return read_job(V2, ctx, payload, hint)


def to_result(ctx: BackendContext, evaluation_results: Any, results: Any, job: Job) -> Result:
    """EvaluationResultV2 + the job's PlatformJobResult list (for `job`, succeeded) -> Result."""
    stored: list[Link] = []
    for entry in items(dig(results, "data")):
        url = text(dig(entry, "artifact_url"))
        if url is not None:
            # Where the vendor stored it (its data store), as the vendor gives it.
            name = text(dig(entry, "result_name")) or "unnamed"
            stored.append(Link(rel=f"result:{name}", href=url))
    raw = {"evaluation_results": evaluation_results, "results": results}
    return read_result(V2, ctx, evaluation_results, job, stored, raw)


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The v2 create body `{spec: {config, target}, name?, ...}` for `request`, or
    `invalid-request` naming what cannot be expressed."""
    config, target, options = create_parts(ctx, request, V2_FORM)
    body: dict[str, Any] = {"spec": {"config": config, "target": target}}
    if request.name is not None:
        body["name"] = request.name
    return {**body, **options}


def _result(ctx: BackendContext, job: Job, answers: list[Any]) -> Result:
    return to_result(ctx, answers[0], answers[1], job)


V2 = Api(
    version="v2",
    jobs_path="/v2/evaluation/jobs",
    status_table=STATUS_TABLE,
    job_links=(("self", "", JSON), ("status", "/status", JSON), ("logs", "/logs", JSON)),
    ready_links=(("results", "/results", JSON), *_DOWNLOADS),
    artifacts=_DOWNLOADS,
    failure=_failure,
    create_body=to_submission,
    # The metrics, then the stored results (PlatformJobResult list) for the artifacts.
    result_paths=(EVALUATION_RESULTS, "/results"),
    read_result=_result,
    cancel_answers_job=True,
    named=True,
)


class NemoV2Adapter(NemoAdapterBase):
    api = V2
