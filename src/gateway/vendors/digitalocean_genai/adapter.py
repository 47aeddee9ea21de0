"""DigitalOcean GenAI Platform agent evaluation runs (vendor-apis/digitalocean-genai/API.md).

A job is one evaluation run (`/v2/gen-ai/evaluation_runs/{evaluation_run_uuid}`); submitting
creates one run per agent (the field mapping is in `submit`). Every field of the vendor's
schemas is optional, uint64 counters arrive as strings, and the run status enum has two
running sub-stages that stay visible in `vendor_status` and `message`. Runs and results
pages are translated in `jobs` and `rows` (pure); this module is the calls and their order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from gateway.adapters.base import Adapter
from gateway.adapters.tables import ErrorRule, StatusTable
from gateway.adapters.wire import dig, integer, items, obj, text
from gateway.contract import (
    DEFAULT_RESULT_PAGE_SIZE,
    ListedJobs,
    ListQuery,
    Operation,
    ResultPage,
    ResultQuery,
)
from gateway.errors import GatewayError, InvalidRequest, JobNotReady
from gateway.ids import JobRef
from gateway.schemas import RESULT_READY_STATUSES, Job, Result, SubmitRequest
from gateway.vendors.digitalocean_genai.jobs import (
    STATUS_TABLE,
    VENDOR,
    run_of,
    run_path,
    to_job,
    to_result,
)
from gateway.vendors.digitalocean_genai.rows import (
    STAR_METRIC_GROUP,
    ResultsCursor,
    fingerprint,
    more_pages,
    row_bound,
    run_metrics,
    to_metric,
    to_row,
)
from gateway.vendors.digitalocean_genai.spec import MAX_PER_PAGE, RUNS_PATH, TEST_CASES_PATH
from gateway.vendors.digitalocean_genai.submit import created_run_uuids, to_submission

__all__ = [
    "STAR_METRIC_GROUP",
    "STATUS_TABLE",
    "DigitalOceanAdapter",
    "more_pages",
    "run_metrics",
    "to_job",
    "to_metric",
    "to_result",
    "to_row",
]

# DigitalOcean's error `id` mirrors the HTTP status one to one (not_found, unauthorized,
# too_many_requests, server_error, bad_request, forbidden) and its messages are fixed per
# status, so the shared defaults say nearly everything. One row: a 404 from the create names
# something the caller sent (the test case, or an agent; the fixed message says not which) --
# the caller's invalid request on those fields.
SEND_IDS = (
    "send as 'evaluation' the uuid of an existing evaluation test case"
    " (GET /v2/gen-ai/evaluation_test_cases lists them) and each agent as a target"
    " {type: agent, agent: <agent uuid>} (the agent's page in the DigitalOcean control panel,"
    " or `agent_uuid` on its earlier runs)"
)
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(
        InvalidRequest,
        status=404,
        operations=frozenset({Operation.SUBMIT}),
        fields=("evaluation", "targets"),
        send=SEND_IDS,
    ),
)


class DigitalOceanAdapter(Adapter):
    vendor: ClassVar[str] = VENDOR
    can_cancel = False  # API.md: agent evaluation runs have no cancel or delete
    auth_schemes: ClassVar[tuple[str, ...]] = ("bearer",)
    id_parts: ClassVar[tuple[str, ...]] = ("evaluation_run_uuid",)
    status_table: ClassVar[StatusTable] = STATUS_TABLE
    error_table: ClassVar[tuple[ErrorRule, ...]] = ERROR_TABLE
    # The one documented envelope: {id, message, request_id}; `id` when a message is missing.
    error_message_paths: ClassVar[tuple[tuple[str, ...], ...]] = (("message",), ("id",))
    # Rows per page when `get_result` is asked without a page size.
    results_page_size: ClassVar[int] = DEFAULT_RESULT_PAGE_SIZE
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
        """The first page of rows (`get_result_page` reads the others)."""
        page = await self.get_result_page(ref, ResultQuery(page_size=self.results_page_size))
        return page.result

    async def get_result_page(self, ref: JobRef, query: ResultQuery) -> ResultPage:
        """One vendor results page per caller page: never a walk over all of them, so a
        read costs one results call (plus, on a first page that claims more, the job when
        the page lacks it and the test case for its row count). See `rows` for the evidence
        the walk stops on."""
        cursor = ResultsCursor.parse(query.cursor) if query.cursor is not None else None
        number = cursor.page if cursor else 1
        per_page = cursor.per_page if cursor else max(1, min(query.page_size, MAX_PER_PAGE))
        answer = await self.call(
            Operation.GET_RESULT,
            "GET",
            f"{run_path(self._run_uuid(ref))}/results",
            params={"page": number, "per_page": per_page},
        )
        page = obj(answer.body)
        run = await self._finished_run(ref, page)
        prompts = items(page.get("prompts"))
        digest = fingerprint(prompts)
        if cursor is not None and digest == cursor.last:
            prompts = []  # the vendor served the page before again: nothing new follows
        seen = cursor.rows if cursor else 0
        claims_more = len(prompts) == per_page and more_pages(page, number)
        limit = cursor.limit if cursor else None
        if cursor is None and claims_more:
            limit = await self._row_count(run)
        bound = row_bound(limit, integer(dig(page, "meta", "total")))
        if bound is not None:
            prompts = prompts[: max(0, bound - seen)]
        shown = {**page, "evaluation_run": run, "prompts": prompts}
        result = to_result(self.context, shown, ref, first_row=seen)
        rows = seen + len(prompts)
        if not (claims_more and len(prompts) == per_page and (bound is None or rows < bound)):
            return ResultPage(result)
        following = ResultsCursor(number + 1, per_page, rows, digest, limit)
        return ResultPage(result, following.as_dict())

    async def _finished_run(self, ref: JobRef, page: Mapping[str, Any]) -> dict[str, Any]:
        """The run of a results page (read when the page lacks it); JobNotReady unless its
        results are final."""
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
        return run_of(job.raw)

    async def _row_count(self, run: Mapping[str, Any]) -> int | None:
        """The rows of the run's test case dataset (`dataset.row_count`), or None when the
        test case cannot be read: it is evidence for ending a walk, never a reason to fail."""
        case_uuid = text(run.get("test_case_uuid"))
        if case_uuid is None:
            return None
        version = integer(run.get("test_case_version"))
        try:
            answer = await self.call(
                Operation.GET_RESULT,
                "GET",
                f"{TEST_CASES_PATH}/{quote(case_uuid, safe='')}",
                params={"evaluation_test_case_version": version} if version is not None else None,
            )
        except GatewayError:
            return None
        return integer(dig(answer.body, "evaluation_test_case", "dataset", "row_count"))

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
