"""NVIDIA NeMo Evaluator, API v1 (the default): shared/vendor-apis/nemo-evaluator/API.md §3.

v1 keeps the job's state in `status` and `status_details{message, progress (0-100),
samples_processed, task_status}`; a failure's text is `status_details.message` (v1 jobs have no
`error_details`). Results are `GET .../results` (EvaluationResult) plus zip downloads.
Submission (`to_submission`, full table in submit): `evaluation` -> `config`
("namespace/name"), the one model target -> `target` (inline, with `api_endpoint` when an
endpoint is given), vendor_options -> namespace, description, project, custom_fields,
output_files_url, ownership; refused: `name` (v1 jobs have none), agents, several targets,
temperature/top_p/max_tokens/num_samples (config params, not expressible by reference).
The v2 (preview) adapter lives in v2 and is re-exported here for the registry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gateway.adapters.base import BackendContext
from gateway.adapters.tables import StatusTable
from gateway.adapters.wire import dig, obj, text
from gateway.ids import JobRef
from gateway.schemas import Job, Link, Result, SubmitRequest
from gateway.vendors.nemo_evaluator.adapter import NemoAdapterBase
from gateway.vendors.nemo_evaluator.common import link
from gateway.vendors.nemo_evaluator.jobs import JSON, ZIP, Api, read_job, read_result
from gateway.vendors.nemo_evaluator.submit import V1_FORM, create_parts
from gateway.vendors.nemo_evaluator.v2 import NemoV2Adapter

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


def _failure(body: dict[str, Any]) -> tuple[str | None, Any]:
    # v1 jobs have no error_details: the text is status_details.message, the details go whole.
    return None, obj(body.get("status_details"))


def _body_links(ctx: BackendContext, body: dict[str, Any]) -> list[Link]:
    links: list[Link] = []
    if (result_id := text(body.get("result"))) is not None:
        links.append(
            link(ctx, "result", f"/v1/evaluation/results/{quote(result_id, safe='')}", JSON)
        )
    if (files_url := text(body.get("output_files_url"))) is not None:
        # A data-store location (hf://datasets/...), already absolute.
        links.append(Link(rel="output-files", href=files_url))
    return links


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """An EvaluationJob -> Job. `hint` supplies the id when the payload lacks one."""
    return read_job(V1, ctx, payload, hint)


def to_result(ctx: BackendContext, payload: Any, job: Job) -> Result:
    """An EvaluationResult (for `job`, which has succeeded) -> Result."""
    files_url = text(dig(payload, "files_url"))
    found = [] if files_url is None else [Link(rel="files", href=files_url)]
    return read_result(V1, ctx, payload, job, found, payload)


def to_submission(ctx: BackendContext, request: SubmitRequest) -> dict[str, Any]:
    """The v1 JobCreateParams for `request`, or `invalid-request` naming what cannot be
    expressed."""
    config, target, options = create_parts(ctx, request, V1_FORM)
    return {"config": config, "target": target, **options}


def _result(ctx: BackendContext, job: Job, answers: list[Any]) -> Result:
    return to_result(ctx, answers[0], job)


V1 = Api(
    version="v1",
    jobs_path="/v1/evaluation/jobs",
    status_table=STATUS_TABLE,
    job_links=(("self", "", JSON), ("status", "/status", JSON), ("logs", "/logs", ZIP)),
    ready_links=(("results", "/results", JSON), ("download-results", "/download-results", ZIP)),
    artifacts=(("download-results", "/download-results", ZIP), ("logs", "/logs", ZIP)),
    failure=_failure,
    create_body=to_submission,
    result_paths=("/results",),
    read_result=_result,
    # The SDK types the cancel answer as a bare `object` (shape undocumented).
    cancel_answers_job=False,
    body_links=_body_links,
)


class NemoV1Adapter(NemoAdapterBase):
    api = V1


__all__ = [
    "STATUS_TABLE",
    "V1",
    "NemoV1Adapter",
    "NemoV2Adapter",
    "to_job",
    "to_result",
    "to_submission",
]
