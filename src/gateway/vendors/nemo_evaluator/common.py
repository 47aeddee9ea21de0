"""What the NeMo Evaluator v1 and v2 adapters share: errors, result metrics, paging, the I/O flow.

The two API versions differ in status words, job shape and where results live, but both are
FastAPI services with the same error envelopes (`{"detail": str}`, 422 `{"detail": [{loc, msg,
type}]}`) and the same page envelope (`{object, data, pagination{page, page_size,
current_page_size, total_pages, total_results}, ...}`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Final
from urllib.parse import quote

from gateway.adapters.base import Adapter, BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import ErrorRule
from gateway.adapters.wire import dig, integer, items, number, obj, text
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobAlreadyTerminal,
    JobNotReady,
    UpstreamInvalidResponse,
)
from gateway.ids import JobRef
from gateway.schemas import RESULT_READY_STATUSES, FieldError, Job, Link, Metric, SubmitRequest

VENDOR: Final = "nemo-evaluator"

# The shared DEFAULT_ERROR_RULES cover 401/403/404/400/422/429/5xx. NeMo documents no error
# messages, so no row matches on text. SDK 1.5.0 maps 409 to ConflictError; on cancel a
# conflict means the job already finished: job-already-terminal (the core adds its status).
# On create, the one thing sent by reference is the config (`evaluation`, '<namespace>/<name>';
# the target goes inline): a 404 there (the SDK's NotFoundError) names it.
SEND_CONFIG = (
    "send as 'evaluation' an existing evaluation config '<namespace>/<name>'"
    " (GET /v1/evaluation/configs/{namespace}/{name} reads one)"
)
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(JobAlreadyTerminal, status=409, operations=frozenset({Operation.CANCEL})),
    ErrorRule(
        InvalidRequest,
        status=404,
        operations=frozenset({Operation.SUBMIT}),
        fields=("evaluation",),
        send=SEND_CONFIG,
    ),
)

# Nested `groups` inside a GroupResult are free-form; follow them this deep at most.
_MAX_GROUP_DEPTH = 8


def verbatim(value: Any) -> str | None:
    """The vendor's status word exactly as sent (None when missing or not a string)."""
    return value if isinstance(value, str) and value.strip() else None


def unreadable(ctx: BackendContext, what: str) -> UpstreamInvalidResponse:
    return UpstreamInvalidResponse(
        f"{VENDOR} answered with {what}", backend=ctx.backend, vendor=VENDOR
    )


def vendor_job_id(ctx: BackendContext, payload: dict[str, Any], hint: JobRef | None) -> str:
    """The job's vendor id: the one asked for (`hint`), else the payload's (a create)."""
    asked = hint.parts[0] if hint is not None and len(hint.parts) == 1 else None
    found = asked_id(ctx, text(payload.get("id")), asked)
    if found is None:
        raise unreadable(ctx, "a job that has no id")
    return found


def job_object(ctx: BackendContext, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise unreadable(ctx, "a job that is not a JSON object")
    return payload


def progress_metrics(details: dict[str, Any]) -> list[Metric]:
    """Summary counters NeMo puts in `status_details`: samples processed and per-task status."""
    metrics: list[Metric] = []
    samples = integer(details.get("samples_processed"))
    if samples is not None:
        metrics.append(
            Metric(name="samples_processed", value=samples, value_type="number", unit="samples")
        )
    for task, word in obj(details.get("task_status")).items():
        if (status := verbatim(word)) is not None:
            metrics.append(
                Metric(name="task_status", value=status, value_type="string", group=str(task))
            )
    return metrics


def _score_stats(value: Any) -> dict[str, float | int | None] | None:
    """ScoreStats (count, sum, mean, stderr...) kept as numbers; other entries dropped."""
    stats: dict[str, float | int | None] = {}
    for key, raw in obj(value).items():
        if isinstance(raw, int) and not isinstance(raw, bool):
            stats[str(key)] = raw  # counts stay integers
        elif (parsed := number(raw)) is not None:
            stats[str(key)] = parsed
    return stats or None


def _metric_results(metrics: Any, group: str) -> list[Metric]:
    """`{metric: {scores: {score: {value, stats}}}}` -> one Metric per score."""
    out: list[Metric] = []
    for metric_name, metric in obj(metrics).items():
        for score_name, score in obj(dig(metric, "scores")).items():
            if not isinstance(score, dict):
                continue
            out.append(
                Metric(
                    name=f"{metric_name}.{score_name}",
                    value=number(score.get("value")),
                    value_type="number",
                    group=group,
                    stats=_score_stats(score.get("stats")),
                )
            )
    return out


def _group_metrics(groups: Any, prefix: str = "", depth: int = 0) -> list[Metric]:
    out: list[Metric] = []
    if depth >= _MAX_GROUP_DEPTH:
        return out
    for name, group in obj(groups).items():
        path = f"{prefix}{name}"
        out.extend(_metric_results(dig(group, "metrics"), path))
        # A group may nest further groups (free-form in the SDK); name them by their path.
        out.extend(_group_metrics(dig(group, "groups"), f"{path}/", depth + 1))
    return out


def result_metrics(payload: Any) -> list[Metric]:
    """Aggregated metrics of an EvaluationResult (v1) or EvaluationResultV2: tasks, then groups.

    Either `tasks` or `groups` may be missing (docs: evaluation-results).
    """
    metrics: list[Metric] = []
    for task_name, task in obj(dig(payload, "tasks")).items():
        metrics.extend(_metric_results(dig(task, "metrics"), str(task_name)))
    metrics.extend(_group_metrics(dig(payload, "groups")))
    return metrics


def field_errors(body: Any) -> list[FieldError] | None:
    """FastAPI's 422 `{"detail": [{loc, msg, type}]}` as field errors (None for other shapes)."""
    entries = dig(body, "detail")
    if not isinstance(entries, list):
        return None
    errors: list[FieldError] = []
    for entry in entries:
        msg = text(dig(entry, "msg"))
        if msg is None:
            continue
        loc: list[str | int] = [
            p
            for p in items(dig(entry, "loc"))
            if isinstance(p, str | int) and not isinstance(p, bool)
        ]
        errors.append(FieldError(loc=loc, msg=msg, type=text(dig(entry, "type"))))
    return errors or None


def link(ctx: BackendContext, rel: str, path: str, media_type: str | None = None) -> Link:
    return Link(rel=rel, href=ctx.url(path), media_type=media_type)


def jobs_page(
    ctx: BackendContext,
    payload: Any,
    page: int,
    page_size: int,
    translate: Callable[[BackendContext, Any], Job],
) -> ListedJobs:
    """The page envelope -> ListedJobs; the cursor is the vendor's 1-based page number."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise unreadable(ctx, "a list without a `data` array")
    jobs: list[Job] = []
    for item in payload["data"]:
        try:
            jobs.append(translate(ctx, item))
        except UpstreamInvalidResponse:
            # One unreadable entry (no id, not an object) must not hide the rest of the page.
            continue
    pagination = obj(payload.get("pagination"))
    total = integer(pagination.get("total_results"))
    total_pages = integer(pagination.get("total_pages"))
    # Without a pagination block, ask on while pages come back full (like the SDK's pager).
    full = len(payload["data"]) >= page_size > 0
    more = page < total_pages if total_pages is not None else full
    return ListedJobs(jobs, {"page": page + 1} if more else None, total)


class NemoAdapterBase(Adapter):
    """Shared by NemoV1Adapter and NemoV2Adapter; subclasses give the paths and translators."""

    vendor = VENDOR
    # SDK 1.5.0 sends no credential; the core sends `Authorization: Bearer` only when a key is
    # configured (the later NeMo Platform scheme).
    auth_schemes = ("bearer",)
    id_parts = ("job_id",)
    error_table = ERROR_TABLE
    error_message_paths = (("detail",),)
    jobs_path: ClassVar[str]

    # -- per-version translation -----------------------------------------------------------

    def translate_job(self, payload: Any, hint: JobRef | None = None) -> Job:
        raise NotImplementedError

    def submission(self, request: SubmitRequest) -> dict[str, Any]:
        """The version's create body (its module's pure `to_submission`)."""
        raise NotImplementedError

    # -- shared I/O ------------------------------------------------------------------------

    def job_path(self, ref: JobRef, suffix: str = "") -> str:
        if len(ref.parts) != 1:
            raise InvalidRequest(
                f"a {VENDOR} job id has exactly one vendor part (the job id)",
                backend=self.context.backend,
                job_id=str(ref),
            )
        return f"{self.jobs_path}/{quote(ref.parts[0], safe='')}{suffix}"

    async def get_job(self, ref: JobRef) -> Job:
        answer = await self.call(Operation.GET_JOB, "GET", self.job_path(ref))
        return self.translate_job(answer.body, ref)

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """POST the job once (never retried here) and answer the one job it created.

        Both versions answer the created job itself. The success code is not documented (the
        SDK takes any 2xx); an answer without a status is read back, and if that read fails
        the job, which exists, is given as it was answered (status unknown).
        """
        body = self.submission(request)
        answer = await self.call(
            Operation.SUBMIT, "POST", self.jobs_path, json_body=body, ok=(200, 201, 202)
        )
        created = job_object(self.context, answer.body)
        job = self.translate_job(created)
        if verbatim(created.get("status")) is not None:
            return [job]
        try:
            return [await self.get_job(JobRef(self.context.backend, (job.vendor_job_id,)))]
        except GatewayError as exc:
            message = f"created; its status could not be read yet: {exc.detail}"
            return [job.model_copy(update={"message": message})]

    async def ready_job(self, ref: JobRef) -> Job:
        """The job, if its result can be read; else JobNotReady with its canonical status."""
        job = await self.get_job(ref)
        if job.status not in RESULT_READY_STATUSES:
            raise JobNotReady(
                f"the job is {job.status.value} (vendor status {job.vendor_status!r});"
                " its result is available once it has succeeded",
                backend=self.context.backend,
                vendor=self.vendor,
                job_id=job.id,
                job_status=job.status.value,
            )
        return job

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        page = integer(dig(dict(query.cursor or {}), "page")) or 1
        params: dict[str, Any] = {"page": max(1, page), "page_size": query.page_size}
        if query.status is not None:
            words = self.status_table.vendor_words(query.status)
            # `filter[status]` takes one word; for several (or none) the core post-filters.
            if len(words) == 1:
                params["filter[status]"] = words[0]
        answer = await self.call(Operation.LIST, "GET", self.jobs_path, params=params)
        return jobs_page(
            self.context,
            answer.body,
            params["page"],
            query.page_size,
            lambda ctx, item: self.translate_job(item),
        )

    # -- errors ----------------------------------------------------------------------------

    @classmethod
    def error_message(cls, body: Any) -> str | None:
        errors = field_errors(body)
        if errors is not None:
            return "; ".join(
                f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" if e.loc else e.msg for e in errors
            )
        return super().error_message(body)

    @classmethod
    def field_errors(cls, body: Any) -> list[FieldError] | None:
        return field_errors(body)
