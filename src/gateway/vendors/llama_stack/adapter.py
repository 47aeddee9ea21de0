"""Llama Stack Eval API adapter (`/v1alpha/eval`, servers 0.3 to 0.7.x).

Contract: shared/vendor-apis/llama-stack/API.md. A Llama Stack job is addressed by its
benchmark and its job id, and carries nothing but `job_id` and `status`: no timestamps, no
progress, no failure reason, no job list. Results are `EvaluateResponse` bodies whose
`scores` map each scoring function to per-row scores and aggregated results; with the
`remote::nvidia` provider the aggregated results are a whole NeMo `EvaluationResult`.
Submissions (run-eval) are mapped in `llama_stack_submit`, which documents each field.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

from gateway.adapters.base import Adapter, BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import JOB_OPERATIONS, ErrorRule, StatusTable
from gateway.adapters.wire import dig, items, obj, text
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    UnsupportedOperation,
    UpstreamInvalidResponse,
    UpstreamUnavailable,
)
from gateway.ids import JobRef
from gateway.redact import bounded_vendor_error
from gateway.schemas import FieldError, Job, JobStatus, Link, Metric, Result, SubmitRequest
from gateway.vendors.llama_stack.results import (
    flatten_metrics,
    is_nemo_result,
    nemo_metrics,
    result_rows,
)
from gateway.vendors.llama_stack.submit import BENCHMARKS_PATH, run_eval_path, to_submission

VENDOR: Final = "llama-stack"

STATUS_TABLE = StatusTable.of(
    queued=["scheduled"],
    running=["in_progress"],
    succeeded=["completed"],
    failed=["failed"],
    cancelled=["cancelled"],
)

# Servers up to 0.5 prefix the text of mapped exceptions (API.md §4); 0.6+ send it bare.
_PREFIX = r"(?:(?:Invalid value|Not implemented|Permission denied|Operation timed out): )?"
# Result asked for too early: builtin `Job is not completed, Status: <s>`, remote::nvidia
# `Job <id> not completed. Status: <s>` (API.md §3.4).
NOT_READY_RE = re.compile(
    _PREFIX + r"(?:Job is not completed, Status: |Job .+ not completed\. Status: )(?P<status>\S+)"
)
JOB_NOT_FOUND_RE = re.compile(_PREFIX + r"Job .+ not found")
# An unknown benchmark (the first part of our job id). Lenient on the tail: the text names
# one provider or several, and older servers end it without the "Make sure..." sentence.
UNKNOWN_BENCHMARK_RE = re.compile(_PREFIX + r"Benchmark `.+` not served by .+")
# ResourceNotFoundError and its subclasses answer 404 (API.md §4) with `<Type> '<id>' not
# found. Use '<client call>' to list available <Type>s.`: on run-eval the model (a real 0.7.3
# server answers an unknown candidate model so) or the benchmark the caller named.
MODEL_NOT_FOUND_RE = re.compile(_PREFIX + r"Model '.+' not found(?:\. .*)?", re.DOTALL)
BENCHMARK_NOT_FOUND_RE = re.compile(_PREFIX + r"Benchmark '.+' not found(?:\. .*)?", re.DOTALL)
SUBMIT_ONLY = frozenset({Operation.SUBMIT})
SEND_BENCHMARK = (
    "send as 'evaluation' the id of a benchmark registered on the server"
    " (GET /v1alpha/eval/benchmarks lists them)"
)
SEND_MODEL = (
    "send as 'targets[0].model' the id of a model registered on the server"
    " (the models list of the Llama Stack server)"
)

ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(
        JobNotReady, status=400, message=NOT_READY_RE, operations=frozenset({Operation.GET_RESULT})
    ),
    ErrorRule(JobNotFound, status=400, message=JOB_NOT_FOUND_RE, operations=JOB_OPERATIONS),
    # The benchmark named in a job id is unknown, so the job it names does not exist either:
    # job-not-found tells the caller to stop polling, where invalid-request would suggest the
    # id is malformed. Outside job operations the default 400 -> invalid-request applies.
    ErrorRule(JobNotFound, status=400, message=UNKNOWN_BENCHMARK_RE, operations=JOB_OPERATIONS),
    # On run-eval the same texts name what the caller sent: invalid-request on that field.
    ErrorRule(
        InvalidRequest,
        status=400,
        message=UNKNOWN_BENCHMARK_RE,
        operations=SUBMIT_ONLY,
        fields=("evaluation",),
        send=SEND_BENCHMARK,
    ),
    ErrorRule(
        InvalidRequest,
        status=404,
        message=MODEL_NOT_FOUND_RE,
        operations=SUBMIT_ONLY,
        fields=("targets.0.model",),
        send=SEND_MODEL,
    ),
    ErrorRule(
        InvalidRequest,
        status=range(400, 405),
        message=BENCHMARK_NOT_FOUND_RE,
        operations=SUBMIT_ONLY,
        fields=("evaluation",),
        send=SEND_BENCHMARK,
    ),
    # FastAPI's route miss `{"detail":"Not Found"}`: this server has no Eval API at
    # /v1alpha (0.8+ removed it, <=0.2 served /v1/eval). Unknown jobs are 400s (above).
    ErrorRule(UnsupportedOperation, status=404, message=re.compile(r"Not Found")),
    # Llama Stack's 502: it could not reach its own provider, e.g. NeMo (API.md §4, §6).
    ErrorRule(UpstreamUnavailable, status=502),
)

_CANCEL_REPORTED_FAILED = (
    "Llama Stack's remote::nvidia provider reports a job that is still being cancelled as"
    " 'failed'; poll again to see whether it ends 'cancelled'"
)
_FAILED_DETAIL = "Llama Stack reports the job failed and gives no reason"


# -- identifiers and paths ----------------------------------------------------------------------


def job_ids(ref: JobRef) -> tuple[str, str]:
    """(benchmark_id, job_id) from a gateway job reference."""
    if len(ref.parts) != 2:
        raise InvalidRequest(
            "a Llama Stack job id has two parts: '<backend>~<benchmark_id>~<job_id>'",
            backend=ref.backend,
            vendor=VENDOR,
            job_id=str(ref),
        )
    return ref.parts[0], ref.parts[1]


def job_path(benchmark_id: str, job_id: str) -> str:
    return f"{BENCHMARKS_PATH}/{quote(benchmark_id, safe='')}/jobs/{quote(job_id, safe='')}"


def result_path(benchmark_id: str, job_id: str) -> str:
    return f"{job_path(benchmark_id, job_id)}/result"


def _invalid(ctx: BackendContext, what: str, payload: Any) -> UpstreamInvalidResponse:
    return UpstreamInvalidResponse(
        f"{VENDOR} answered with {what}",
        backend=ctx.backend,
        vendor=VENDOR,
        vendor_error=bounded_vendor_error(payload, ctx.secrets),
    )


# -- jobs -----------------------------------------------------------------------------------------


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """A Llama Stack `Job` (`{job_id, status}`) as a canonical job.

    The payload never names its benchmark, so `hint` must supply it. The job id is the one
    asked for (`hint`), whatever the payload says; the payload's only on a create."""
    if not isinstance(payload, dict):
        raise _invalid(ctx, "a job that is not a JSON object", payload)
    hint_parts = hint.parts if hint is not None else ()
    benchmark_id = hint_parts[0] if hint_parts else None
    asked = hint_parts[1] if len(hint_parts) > 1 else None
    job_id = asked_id(ctx, text(payload.get("job_id")), asked)
    if not benchmark_id or not job_id:
        raise _invalid(ctx, "a job without a job_id (or its benchmark is unknown)", payload)
    vendor_status = text(payload.get("status"))
    status = STATUS_TABLE.lookup(vendor_status)
    path = job_path(benchmark_id, job_id)
    links = [Link(rel="self", href=ctx.url(path), media_type="application/json")]
    if status is JobStatus.SUCCEEDED:
        links.append(
            Link(rel="result", href=ctx.url(f"{path}/result"), media_type="application/json")
        )
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


def not_ready_status(message: str | None) -> JobStatus:
    """The canonical status named in a 'job is not completed' message."""
    match = NOT_READY_RE.fullmatch(message.strip()) if message else None
    if match is None:
        return JobStatus.UNKNOWN
    # Lenient: an enum formatted with str() would read `JobStatus.in_progress`.
    return STATUS_TABLE.lookup(match["status"].removeprefix("JobStatus."))


# -- results --------------------------------------------------------------------------------------


def to_result(ctx: BackendContext, payload: Any, ref: JobRef) -> Result:
    """An `EvaluateResponse` as a canonical result (Llama Stack only serves completed jobs')."""
    if not isinstance(payload, dict):
        raise _invalid(ctx, "a result that is not a JSON object", payload)
    benchmark_id, job_id = job_ids(ref)
    scores = obj(payload.get("scores"))
    metrics: list[Metric] = []
    artifacts = [
        Link(
            rel="result",
            href=ctx.url(result_path(benchmark_id, job_id)),
            media_type="application/json",
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


# -- errors ---------------------------------------------------------------------------------------


def field_errors(body: Any) -> list[FieldError] | None:
    """Request-validation errors from either shape Llama Stack sends them in: <=0.4
    `{"error":{"detail":{"errors":[...]}}}`, 0.5+ the repr of that dict as the message."""
    errors = dig(body, "error", "detail", "errors")
    if errors is None:
        message = text(dig(body, "error", "message")) or text(dig(body, "error", "detail"))
        if message is None or not message.startswith("{'errors':") or len(message) > 20_000:
            return None
        try:
            errors = dig(ast.literal_eval(message), "errors")
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    found: list[FieldError] = []
    for entry in items(errors):
        msg = text(dig(entry, "msg"))
        if msg is None:
            continue
        loc = [part for part in items(dig(entry, "loc")) if isinstance(part, str | int)]
        found.append(FieldError(loc=loc, msg=msg, type=text(dig(entry, "type"))))
    return found or None


# -- the adapter ----------------------------------------------------------------------------------


class LlamaStackAdapter(Adapter):
    vendor = VENDOR
    auth_schemes = ("bearer",)
    id_parts = ("benchmark_id", "job_id")
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE
    # Llama Stack 0.7.3 breaks the keep-alive connection after some 4xx/501 answers.
    fresh_connection_after_error = True
    # 0.6+ {"error":{"message"}}, 0.5 {"error":{"detail"}}, <=0.4 {"detail"}, and the spec's
    # (never sent) {status, title, detail}.
    error_message_paths = (("error", "message"), ("error", "detail"), ("detail",), ("title",))

    async def get_job(self, ref: JobRef) -> Job:
        benchmark_id, job_id = job_ids(ref)
        response = await self.call(Operation.GET_JOB, "GET", job_path(benchmark_id, job_id))
        return to_job(self.context, response.body, ref)

    async def get_result(self, ref: JobRef) -> Result:
        # No status check first: the result call itself answers 400 with the job's status
        # when it is not completed (see to_problem).
        benchmark_id, job_id = job_ids(ref)
        response = await self.call(Operation.GET_RESULT, "GET", result_path(benchmark_id, job_id))
        return to_result(self.context, response.body, ref)

    async def cancel_job(self, ref: JobRef) -> Job:
        benchmark_id, job_id = job_ids(ref)
        # v0.5+ answers 200 with `null`, <=0.4 answers 204 (API.md §3.3).
        await self.call(Operation.CANCEL, "DELETE", job_path(benchmark_id, job_id), ok=(200, 204))
        job = await self.get_job(ref)
        if job.status is JobStatus.FAILED:
            job = job.model_copy(update={"message": _CANCEL_REPORTED_FAILED})
        return job

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """Run-eval: one job. Its `Job {job_id, status}` answer never names the benchmark,
        so the request's `evaluation` completes the gateway id. No retry here (see core)."""
        body = to_submission(self.context, request)
        benchmark_id = request.evaluation
        response = await self.call(
            Operation.SUBMIT, "POST", run_eval_path(benchmark_id), json_body=body
        )
        job = to_job(self.context, response.body, JobRef(self.context.backend, (benchmark_id,)))
        if job.vendor_status is None:  # the answer lacks the (required) status: read it back
            job = await self.get_job(
                JobRef(self.context.backend, (benchmark_id, job.vendor_job_id))
            )
        # remote::nvidia answers `in_progress` whatever NeMo said (API.md §6): the next read
        # may say `scheduled`. The create answer is kept as is: a read-back that failed would
        # hide a job that exists.
        return [job]

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        raise self.unsupported(
            "list jobs", "its Eval API has no job list; a job is read by benchmark and job id"
        )

    def to_problem(
        self, operation: Operation, status: int, headers: Mapping[str, str], content: bytes
    ) -> GatewayError:
        problem = super().to_problem(operation, status, headers, content)
        if isinstance(problem, JobNotReady):
            message = self.error_message(problem.vendor_error)
            problem.job_status = not_ready_status(message).value
        return problem

    @classmethod
    def field_errors(cls, body: Any) -> list[FieldError] | None:
        return field_errors(body)
