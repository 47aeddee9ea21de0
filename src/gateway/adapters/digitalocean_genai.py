"""DigitalOcean GenAI Platform agent evaluation runs (vendor-apis/digitalocean-genai/API.md).

A job is one evaluation run (`/v2/gen-ai/evaluation_runs/{evaluation_run_uuid}`); submitting
creates one run per agent (the field mapping is in digitalocean_genai_submit). Every field
of the vendor's schemas is optional, uint64 counters arrive as strings, and the run status
enum has two running sub-stages that stay visible in `vendor_status` and `message`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from ..errors import GatewayError, InvalidRequest, JobNotReady, UpstreamInvalidResponse
from ..ids import JobRef
from ..schemas import (
    RESULT_READY_STATUSES,
    Job,
    JobStatus,
    Link,
    Metric,
    Result,
    ResultRow,
    SubmitRequest,
)
from .base import Adapter, BackendContext, ListedJobs, ListQuery
from .digitalocean_genai_submit import RUNS_PATH, created_run_uuids, to_submission
from .tables import ErrorRule, Operation, StatusTable
from .wire import boolean, dig, integer, items, number, obj, text, timestamp

VENDOR = "digitalocean-genai"
TEST_CASES_PATH = "/v2/gen-ai/evaluation_test_cases"

STATUS_TABLE = StatusTable.of(
    queued=["EVALUATION_RUN_QUEUED"],
    running=["EVALUATION_RUN_RUNNING_DATASET", "EVALUATION_RUN_EVALUATING_RESULTS"],
    cancelling=["EVALUATION_RUN_CANCELLING"],
    succeeded=["EVALUATION_RUN_SUCCESSFUL"],
    partially_succeeded=["EVALUATION_RUN_PARTIALLY_SUCCESSFUL"],
    failed=["EVALUATION_RUN_FAILED"],
    cancelled=["EVALUATION_RUN_CANCELLED"],
    unknown=["EVALUATION_RUN_STATUS_UNSPECIFIED"],
)

# DigitalOcean's error `id` mirrors the HTTP status one to one (not_found, unauthorized,
# too_many_requests, server_error, bad_request, forbidden) and its messages are fixed per
# status, so the shared defaults say nearly everything. One row: a 404 from the create names
# something the caller sent (the test case, or an agent) -- the caller's invalid request.
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(InvalidRequest, status=404, operations=frozenset({Operation.SUBMIT})),
)

# The sub-stages of `running`, spelled out for people reading the job.
STAGE_MESSAGES: dict[str, str] = {
    "evaluation_run_running_dataset": "running the test case dataset through the agent",
    "evaluation_run_evaluating_results": "evaluating the agent's answers",
}

ValueType = Literal["number", "percentage", "string", "boolean"]
_VALUE_TYPES: dict[str, ValueType] = {
    "METRIC_VALUE_TYPE_NUMBER": "number",
    "METRIC_VALUE_TYPE_PERCENTAGE": "percentage",
    "METRIC_VALUE_TYPE_STRING": "string",
}
STAR_METRIC_GROUP = "star_metric"


def run_path(run_uuid: str) -> str:
    return f"{RUNS_PATH}/{quote(run_uuid, safe='')}"


def _run_of(payload: Any) -> dict[str, Any]:
    """The run object from `{evaluation_run: {...}}` or a bare run (list entries are bare)."""
    body = obj(payload)
    wrapped = body.get("evaluation_run")
    return wrapped if isinstance(wrapped, dict) else body


def to_metric(payload: Any, group: str | None = None) -> Metric | None:
    """One `apiEvaluationMetricResult`; None when it names no metric."""
    result = obj(payload)
    name = text(result.get("metric_name")) or text(result.get("metric_uuid"))
    if name is None:
        return None
    raw_type = result.get("metric_value_type")
    value_type = _VALUE_TYPES.get(raw_type) if isinstance(raw_type, str) else None
    string_value = result.get("string_value")
    value: float | str | None
    if value_type == "string":
        value = string_value if isinstance(string_value, str) else None
    elif value_type is not None:
        value = number(result.get("number_value"))
    else:
        # UNSPECIFIED (the spec's own example) or an unknown type: take whichever value is set.
        value = number(result.get("number_value"))
        if value is not None:
            value_type = "number"
        elif isinstance(string_value, str):
            value, value_type = string_value, "string"
    return Metric(
        name=name,
        value=value,
        value_type=value_type,
        group=group,
        detail=text(result.get("reasoning")) or text(result.get("error_description")),
    )


def run_metrics(run: Mapping[str, Any]) -> list[Metric]:
    """The star metric (+ its pass status) and the run-level metric results."""
    metrics: list[Metric] = []
    star = to_metric(run.get("star_metric_result"), STAR_METRIC_GROUP)
    if star is not None:
        metrics.append(star)
    passed = boolean(run.get("pass_status"))
    if passed is not None:
        metrics.append(
            Metric(name="pass_status", value=passed, value_type="boolean", group=STAR_METRIC_GROUP)
        )
    for entry in items(run.get("run_level_metric_results")):
        metric = to_metric(entry)
        if metric is not None:
            metrics.append(metric)
    return metrics


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """`{evaluation_run: APIEvaluationRun}` (or a bare run) -> Job."""
    run = _run_of(payload)
    run_uuid = text(run.get("evaluation_run_uuid"))
    if run_uuid is None and hint is not None and hint.parts:
        run_uuid = hint.parts[0]
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


def to_row(index: int, payload: Any) -> ResultRow:
    """One `apiPrompt` -> ResultRow (token counts are uint64 strings on the wire)."""
    prompt = obj(payload)
    data: dict[str, Any] = {}
    for key in ("input_tokens", "output_tokens"):
        count = integer(prompt.get(key))
        if count is not None:
            data[key] = count
    trace_id = text(prompt.get("trace_id"))
    if trace_id is not None:
        data["trace_id"] = trace_id
    for key in ("prompt_chunks", "evaluation_trace_spans"):
        if items(prompt.get(key)):
            data[key] = prompt[key]
    scores = [m for m in map(to_metric, items(prompt.get("prompt_level_metric_results"))) if m]
    return ResultRow(
        index=index,
        id=text(prompt.get("prompt_id")),
        input=prompt.get("input"),
        output=prompt.get("output"),
        expected=prompt.get("ground_truth"),
        scores=scores,
        data=data,
    )


def to_result(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Result:
    """Results pages (`{evaluation_run, prompts, links, meta}`, one or a list) -> Result."""
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
        rows=[to_row(i, p) for i, p in enumerate(prompts)],
        artifacts=[link for link in job.links if link.rel == "results"],
        raw={"pages": pages},
    )


def more_pages(page: Mapping[str, Any], number_asked: int) -> bool:
    """Whether a results page says another follows: `meta.pages`, else `links.pages.next`."""
    if not items(page.get("prompts")):
        return False  # an empty page ends the walk, whatever the meta claims
    pages = integer(dig(page, "meta", "pages"))
    if pages is not None:
        return number_asked < pages
    # GenAI spells the link `next` (and `previous`, where the generic API says `prev`).
    return text(dig(page, "links", "pages", "next")) is not None


class DigitalOceanAdapter(Adapter):
    vendor: ClassVar[str] = VENDOR
    auth_schemes: ClassVar[tuple[str, ...]] = ("bearer",)
    id_parts: ClassVar[tuple[str, ...]] = ("evaluation_run_uuid",)
    status_table: ClassVar[StatusTable] = STATUS_TABLE
    error_table: ClassVar[tuple[ErrorRule, ...]] = ERROR_TABLE
    # The one documented envelope: {id, message, request_id}; `id` when a message is missing.
    error_message_paths: ClassVar[tuple[tuple[str, ...], ...]] = (("message",), ("id",))
    # 200 is the vendor's documented maximum per_page.
    results_page_size: ClassVar[int] = 200
    # A vendor that keeps announcing pages cannot keep us paging forever.
    max_result_pages: ClassVar[int] = 500
    # Test cases visited per list page, so one page costs a bounded number of calls.
    max_test_cases_per_list_page: ClassVar[int] = 20

    def _run_uuid(self, ref: JobRef) -> str:
        if len(ref.parts) != 1:
            raise InvalidRequest(
                "a DigitalOcean job id carries exactly one evaluation run uuid",
                backend=self.context.backend,
                job_id=str(ref),
            )
        return ref.parts[0]

    async def get_job(self, ref: JobRef) -> Job:
        answer = await self.call(Operation.GET_JOB, "GET", run_path(self._run_uuid(ref)))
        return to_job(self.context, answer.body, ref)

    async def get_result(self, ref: JobRef) -> Result:
        path = f"{run_path(self._run_uuid(ref))}/results"
        pages: list[Any] = []
        page_number = 1
        while True:
            answer = await self.call(
                Operation.GET_RESULT,
                "GET",
                path,
                params={"page": page_number, "per_page": self.results_page_size},
            )
            page = obj(answer.body)
            if not pages:
                # The results answer carries the run: it tells whether results are final.
                if isinstance(page.get("evaluation_run"), dict):
                    job = to_job(self.context, page["evaluation_run"], ref)
                else:
                    job = await self.get_job(ref)
                if job.status not in RESULT_READY_STATUSES:
                    raise JobNotReady(
                        f"evaluation run is {job.vendor_status or 'in an unknown state'}",
                        backend=self.context.backend,
                        vendor=self.vendor,
                        job_id=job.id,
                        job_status=job.status.value,
                    )
                if not isinstance(page.get("evaluation_run"), dict):
                    page = {**page, "evaluation_run": _run_of(job.raw)}
            pages.append(page)
            if not more_pages(page, page_number):
                return to_result(self.context, pages, ref)
            if page_number >= self.max_result_pages:
                raise UpstreamInvalidResponse(
                    f"{self.vendor} kept announcing result pages past {self.max_result_pages}",
                    backend=self.context.backend,
                    vendor=self.vendor,
                    job_id=str(ref),
                )
            page_number += 1

    async def cancel_job(self, ref: JobRef) -> Job:
        raise self.unsupported("cancel", "DigitalOcean has no cancel for agent evaluation runs")

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """Create the runs (one per agent), then read each back: the create answer holds only
        their uuids. The runs exist once the create answered, so a read-back that fails gives
        that run as `unknown` instead of an error (which would say nothing was created)."""
        body = to_submission(self.context, request)
        answer = await self.call(Operation.SUBMIT, "POST", RUNS_PATH, json_body=body)
        jobs = []
        for run_uuid in created_run_uuids(self.context, answer.body):
            try:
                jobs.append(await self.get_job(JobRef(self.context.backend, (run_uuid,))))
            except GatewayError as exc:
                unread = {"evaluation_run_uuid": run_uuid, "run_name": request.name}
                job = to_job(self.context, unread).model_copy(
                    update={
                        "message": f"created; its status could not be read yet: {exc.detail}",
                        "raw": obj(answer.body),
                    }
                )
                jobs.append(job)
        return jobs

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        """DigitalOcean has no list of all runs, only runs per test case (unpaged), so we
        walk the test cases in the vendor's order. The cursor is the position in that walk:
        the test case (uuid, and its index should it vanish) and how many of its runs were
        already returned. The status filter is applied here while filling the page, as the
        vendor cannot filter runs; no total, since the vendor gives none across test cases."""
        cursor = self._list_cursor(query.cursor)
        answer = await self.call(Operation.LIST, "GET", TEST_CASES_PATH)
        cases = [
            uuid
            for case in items(obj(answer.body).get("evaluation_test_cases"))
            if (uuid := text(obj(case).get("test_case_uuid"))) is not None
        ]
        index, skip = 0, 0
        if cursor is not None:
            uuid, index, skip = cursor
            if uuid in cases:
                index = cases.index(uuid)
            else:
                skip = 0  # that test case is gone: go on from where it stood
        page_size = max(1, query.page_size)
        jobs: list[Job] = []
        visited = 0
        while index < len(cases) and visited < self.max_test_cases_per_list_page:
            runs = await self._runs_of(cases[index])
            visited += 1
            for position in range(skip, len(runs)):
                job = runs[position]
                if query.status is None or job.status is query.status:
                    if len(jobs) == page_size:
                        return ListedJobs(jobs, {"tc": cases[index], "i": index, "skip": position})
                    jobs.append(job)
            index, skip = index + 1, 0
        if index < len(cases):
            return ListedJobs(jobs, {"tc": cases[index], "i": index, "skip": 0})
        return ListedJobs(jobs)

    async def _runs_of(self, test_case_uuid: str) -> list[Job]:
        answer = await self.call(
            Operation.LIST,
            "GET",
            f"{TEST_CASES_PATH}/{quote(test_case_uuid, safe='')}/evaluation_runs",
            ok=(200, 404),  # a test case deleted since it was listed simply has no runs
        )
        if answer.status_code == 404:
            return []
        jobs = []
        for run in items(obj(answer.body).get("evaluation_runs")):
            if text(obj(run).get("evaluation_run_uuid")) is not None:  # unaddressable: skip
                jobs.append(to_job(self.context, run))
        return jobs

    def _list_cursor(self, cursor: Mapping[str, Any] | None) -> tuple[str, int, int] | None:
        if cursor is None:
            return None
        uuid, index, skip = cursor.get("tc"), cursor.get("i"), cursor.get("skip")
        if (
            not isinstance(uuid, str)
            or isinstance(index, bool)
            or not isinstance(index, int)
            or isinstance(skip, bool)
            or not isinstance(skip, int)
            or index < 0
            or skip < 0
        ):
            raise InvalidRequest(
                "page token does not belong to this backend's list", backend=self.context.backend
            )
        return uuid, index, skip
