"""Overmind (api.overmindlab.ai): the jobs API, a Django REST Framework service.

Contract: shared/vendor-apis/overmind/API.md. A job is `GET /api/jobs/{id}/` (with its
iterations); lists are DRF page-number pages; errors are DRF bodies (`{"detail": ...}` or
`{"<field>": ["msg", ...]}`). Submitting is `POST /api/jobs/` (the field mapping is in
gateway.vendors.overmind.submit). The schema drifts between backend versions (`waiting_user`,
new `job_type`s, extra fields), so everything here reads leniently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from gateway.adapters.base import Adapter, BackendContext
from gateway.adapters.tables import ErrorRule, StatusTable
from gateway.adapters.wire import dig, integer, items, text, timestamp
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotReady,
    UpstreamError,
    UpstreamInvalidResponse,
)
from gateway.ids import JobRef
from gateway.schemas import (
    RESULT_READY_STATUSES,
    FieldError,
    Job,
    JobStatus,
    Link,
    Result,
    SubmitRequest,
)
from gateway.vendors.overmind.submit import JOBS_PATH, to_submission, with_canonical_fields
from gateway.vendors.overmind.wire import (
    JSON,
    UUID_RE,
    VENDOR,
    drf_error_text,
    drf_field_errors,
    error_text,
    failure,
    iteration_row,
    iterations_url,
    job_body,
    job_path,
    page_of,
    summary_metrics,
    vendor_id,
)

# canonical-status.md, Overmind row. `waiting_user` is in the 2026-06-18 schema only (O3).
STATUS_TABLE = StatusTable.of(
    queued=["pending"],
    running=["running"],
    paused=["waiting_user"],
    succeeded=["completed"],
    failed=["failed"],
    cancelled=["cancelled"],
)

# The list filter's documented enum (O1). `waiting_user` is left out on purpose: a backend
# built from the published docs would answer 400 to it; the core post-filters instead.
LIST_FILTER_WORDS: Final = frozenset({"pending", "running", "completed", "failed", "cancelled"})

ERROR_TABLE: tuple[ErrorRule, ...] = (
    # 402 "insufficient credits" (O2): the gateway's vendor account is out of credits. The key
    # itself was accepted, so upstream-auth-failed ("fix the credential") would mislead the
    # operators; upstream-error keeps vendor_status_code 402 and the body, and is not retried.
    ErrorRule(UpstreamError, status=402),
    # DRF's page-number paginator answers 404 "Invalid page." past the last page (framework
    # convention): the page token is stale, not a vendor failure.
    ErrorRule(
        InvalidRequest,
        status=404,
        message=re.compile(r"Invalid page\."),
        operations=frozenset({Operation.LIST}),
    ),
)

# -- pure translators ------------------------------------------------------------------------


def to_job(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Job:
    """A job from the full job body or a (slimmer) list item."""
    body = job_body(ctx, payload)
    job_id = vendor_id(ctx, body, hint)
    word = body.get("status")
    status = STATUS_TABLE.lookup(word)
    message = error_text(body.get("error"))
    problem = failure(ctx, body, message) if status is JobStatus.FAILED else None
    return Job(
        id=ctx.job_id(job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        api_version=ctx.api_version,
        vendor_job_id=job_id,
        # Overmind jobs carry no name: prompt_slug names the prompt under work (many jobs
        # share it) and job_type is a kind, so either would make distinct jobs look alike.
        name=None,
        status=status,
        vendor_status=word if isinstance(word, str) and word.strip() else None,
        created_at=timestamp(body.get("created_at")),
        updated_at=timestamp(body.get("updated_at")),
        # No start/finish times and no progress in the contract; updated_at also moves on
        # later PATCHes, so it is not passed off as a finish time.
        message=message,
        error=problem,
        metrics=summary_metrics(body),
        links=[
            Link(rel="self", href=ctx.url(job_path(job_id)), media_type=JSON),
            Link(rel="iterations", href=iterations_url(ctx, job_id), media_type=JSON),
        ],
        raw=body,
    )


def to_result(ctx: BackendContext, payload: Any, hint: JobRef | None = None) -> Result:
    """The result of a job from its full body: summary scores and one row per iteration.

    `report_markdown`, `best_agent_code` and `result` (free-form) stay in `raw`.
    """
    body = job_body(ctx, payload)
    job_id = vendor_id(ctx, body, hint)
    return Result(
        job_id=ctx.job_id(job_id),
        backend=ctx.backend,
        vendor=VENDOR,
        status=STATUS_TABLE.lookup(body.get("status")),
        metrics=summary_metrics(body),
        rows=[iteration_row(i, it) for i, it in enumerate(items(body.get("iterations")))],
        artifacts=[Link(rel="iterations", href=iterations_url(ctx, job_id), media_type=JSON)],
        raw=body,
    )


# -- the adapter ---------------------------------------------------------------------------------


class OvermindAdapter(Adapter):
    vendor = VENDOR
    # The vendor's SDK/CLI sends X-Api-Key (O5); the same key also works as a Bearer token (O2).
    auth_schemes = ("x-api-key", "bearer")
    id_parts = ("job_id",)
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE
    # DRF bodies: `{"detail": "..."}`, `{"non_field_errors": [...]}`; field dicts are read by
    # `error_message` below, since their keys are the field names.
    error_message_paths = (("detail",), ("non_field_errors",))

    @classmethod
    def auth_headers(cls, api_key: str, scheme: str) -> dict[str, str]:
        if scheme == "x-api-key":
            return {"X-Api-Key": api_key}
        if scheme == "bearer":
            return {"Authorization": f"Bearer {api_key}"}
        raise ValueError(f"overmind auth_scheme must be one of {', '.join(cls.auth_schemes)}")

    @classmethod
    def error_message(cls, body: Any) -> str | None:
        if isinstance(body, str):
            return text(body)
        for path in cls.error_message_paths:
            found = drf_error_text(dig(body, *path))
            if found is not None:
                return found
        return drf_error_text(body) if isinstance(body, dict | list) else None

    @classmethod
    def field_errors(cls, body: Any) -> list[FieldError] | None:
        # `{"detail": ...}` alone is not a field error; field dicts are.
        if (isinstance(body, dict) and set(body) != {"detail"}) or isinstance(body, list):
            return drf_field_errors(body) or None
        return None

    # -- operations --------------------------------------------------------------------------

    async def get_job(self, ref: JobRef) -> Job:
        answer = await self.call(Operation.GET_JOB, "GET", self._path(ref))
        return to_job(self.context, answer.body, ref)

    async def get_result(self, ref: JobRef) -> Result:
        # The job body holds everything (scores, iterations, report): one call.
        answer = await self.call(Operation.GET_RESULT, "GET", self._path(ref))
        job = to_job(self.context, answer.body, ref)
        if job.status not in RESULT_READY_STATUSES:
            raise JobNotReady(
                f"overmind job is {job.vendor_status or 'without a status'}, not completed",
                backend=self.context.backend,
                vendor=VENDOR,
                job_id=job.id,
                job_status=job.status.value,
            )
        return to_result(self.context, answer.body, ref)

    async def cancel_job(self, ref: JobRef) -> Job:
        """Overmind has no job cancel endpoint; its own tools change a job's status with
        `PATCH /api/jobs/{id}/` (O4), so cancel is `PATCH {"status": "cancelled"}`.
        A job that already finished is returned as it is: no PATCH rewrites its outcome."""
        path = self._path(ref)
        current = await self.call(Operation.CANCEL, "GET", path)
        job = to_job(self.context, current.body, ref)
        if job.terminal:
            return job
        answer = await self.call(Operation.CANCEL, "PATCH", path, json_body={"status": "cancelled"})
        return to_job(self.context, answer.body, ref)

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """Create the job (one per submission). The create answer is the full job; only an
        answer without a status is read back, and a failed read-back gives the created job
        as `unknown` instead of an error (which would say nothing was created)."""
        body = to_submission(self.context, request)
        try:
            # 201 per the schema (O3); O1 labels its example "200 example" (API.md, Surprise 5).
            answer = await self.call(
                Operation.SUBMIT, "POST", JOBS_PATH, json_body=body, ok=(201, 200)
            )
        except InvalidRequest as refused:
            raise with_canonical_fields(refused) from None
        job = to_job(self.context, answer.body)
        if job.vendor_status is not None:
            return [job]
        try:
            return [await self.get_job(JobRef(self.context.backend, (job.vendor_job_id,)))]
        except GatewayError as exc:
            note = f"created; its status could not be read yet: {exc.detail}"
            return [job.model_copy(update={"message": note})]

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        page = self._cursor_page(query.cursor)
        params: dict[str, Any] = {
            "page": page,
            "page_size": max(1, query.page_size),
            # Newest first, stable across pages. DRF ignores ordering fields it does not
            # allow, so this cannot break a backend that orders otherwise.
            "ordering": "-created_at",
        }
        if query.status is not None:
            words = [w for w in STATUS_TABLE.vendor_words(query.status) if w in LIST_FILTER_WORDS]
            if len(words) == 1:  # the filter takes one value
                params["status"] = words[0]
        answer = await self.call(Operation.LIST, "GET", "/api/jobs/", params=params)
        body = answer.body
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise UpstreamInvalidResponse(
                f"{VENDOR} answered the job list without a `results` array",
                backend=self.context.backend,
                vendor=VENDOR,
            )
        jobs = [to_job(self.context, item) for item in body["results"]]
        next_page = page_of(body.get("next"), page + 1) if body.get("next") else None
        return ListedJobs(
            jobs=jobs,
            next_cursor={"page": next_page} if next_page is not None else None,
            total=integer(body.get("count")),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _path(self, ref: JobRef) -> str:
        if len(ref.parts) != 1 or not UUID_RE.fullmatch(ref.parts[0]):
            raise InvalidRequest(
                "an overmind job id has one part, the job's UUID",
                backend=self.context.backend,
                vendor=VENDOR,
                job_id=str(ref) if ref.parts else None,
            )
        return job_path(ref.parts[0])

    def _cursor_page(self, cursor: Mapping[str, Any] | None) -> int:
        if cursor is None:
            return 1
        page = cursor.get("page")
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise InvalidRequest(
                "the page token does not hold an overmind page number",
                backend=self.context.backend,
                vendor=VENDOR,
            )
        return page


__all__ = [
    "ERROR_TABLE",
    "STATUS_TABLE",
    "OvermindAdapter",
    "drf_error_text",
    "drf_field_errors",
    "iteration_row",
    "summary_metrics",
    "to_job",
    "to_result",
    "to_submission",
]
