"""Llama Stack Eval API adapter (`/v1alpha/eval`, servers 0.3 to 0.7.x).

Contract: shared/vendor-apis/llama-stack/API.md. A Llama Stack job is addressed by its
benchmark and its job id, and carries nothing but `job_id` and `status`: no timestamps, no
progress, no failure reason, no job list. Results are `EvaluateResponse` bodies whose
`scores` map each scoring function to per-row scores and aggregated results; with the
`remote::nvidia` provider the aggregated results are a whole NeMo `EvaluationResult`.
Submissions (run-eval) are mapped in `gateway.vendors.llama_stack.submit`, which documents
each field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.adapters.base import Adapter
from gateway.adapters.tables import JOB_OPERATIONS, ErrorRule
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    UnsupportedOperation,
    UpstreamUnavailable,
)
from gateway.ids import JobRef
from gateway.schemas import FieldError, Job, JobStatus, Result, SubmitRequest
from gateway.vendors.llama_stack.jobs import STATUS_TABLE, to_job, to_result
from gateway.vendors.llama_stack.submit import to_submission
from gateway.vendors.llama_stack.wire import (
    VENDOR,
    field_errors,
    job_ids,
    job_path,
    result_path,
    run_eval_path,
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


def _refused_on_submit(
    status: int | range, message: re.Pattern[str], field: str, send: str
) -> ErrorRule:
    """A run-eval answer naming a field the caller sent: invalid-request on that field."""
    return ErrorRule(
        InvalidRequest,
        status=status,
        message=message,
        operations=SUBMIT_ONLY,
        fields=(field,),
        send=send,
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
    _refused_on_submit(400, UNKNOWN_BENCHMARK_RE, "evaluation", SEND_BENCHMARK),
    _refused_on_submit(404, MODEL_NOT_FOUND_RE, "targets.0.model", SEND_MODEL),
    _refused_on_submit(range(400, 405), BENCHMARK_NOT_FOUND_RE, "evaluation", SEND_BENCHMARK),
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


# -- jobs -----------------------------------------------------------------------------------------


def not_ready_status(message: str | None) -> JobStatus:
    """The canonical status named in a 'job is not completed' message."""
    match = NOT_READY_RE.fullmatch(message.strip()) if message else None
    if match is None:
        return JobStatus.UNKNOWN
    # Lenient: an enum formatted with str() would read `JobStatus.in_progress`.
    return STATUS_TABLE.lookup(match["status"].removeprefix("JobStatus."))


# -- errors ---------------------------------------------------------------------------------------


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


__all__ = [
    "ERROR_TABLE",
    "STATUS_TABLE",
    "LlamaStackAdapter",
    "field_errors",
    "job_ids",
    "not_ready_status",
    "to_job",
    "to_result",
    "to_submission",
]
