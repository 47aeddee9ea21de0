"""NeMo Evaluator: the adapter I/O both API versions share (read, list, submit, errors).

Each version's module (v1, v2) gives its `jobs.Api`: the data (paths, status table, links) and
its pure translators; this class makes the calls and hands the answers to them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway.adapters.base import Adapter
from gateway.adapters.wire import dig, integer
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import GatewayError, InvalidRequest, JobNotReady
from gateway.ids import JobRef
from gateway.schemas import RESULT_READY_STATUSES, FieldError, Job, Result, SubmitRequest
from gateway.vendors.nemo_evaluator.common import (
    ERROR_TABLE,
    VENDOR,
    field_errors,
    job_object,
    jobs_page,
)
from gateway.vendors.nemo_evaluator.jobs import Api, read_job
from gateway.vendors.nemo_evaluator.metrics import verbatim


class NemoAdapterBase(Adapter):
    """Shared by NemoV1Adapter and NemoV2Adapter; a subclass gives its version's `Api`."""

    vendor = VENDOR
    # SDK 1.5.0 sends no credential; the core sends `Authorization: Bearer` only when a key is
    # configured (the later NeMo Platform scheme).
    auth_schemes = ("bearer",)
    id_parts = ("job_id",)
    error_table = ERROR_TABLE
    error_message_paths = (("detail",),)
    api: ClassVar[Api]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status_table = cls.api.status_table  # declared once, in the version's Api

    # -- per-version translation -----------------------------------------------------------

    def translate_job(self, payload: Any, hint: JobRef | None = None) -> Job:
        return read_job(self.api, self.context, payload, hint)

    def submission(self, request: SubmitRequest) -> dict[str, Any]:
        """The version's create body (its module's pure `to_submission`)."""
        return self.api.create_body(self.context, request)

    # -- shared I/O ------------------------------------------------------------------------

    def job_path(self, ref: JobRef, suffix: str = "") -> str:
        if len(ref.parts) != 1:
            raise InvalidRequest(
                f"a {VENDOR} job id has exactly one vendor part (the job id)",
                backend=self.context.backend,
                job_id=str(ref),
            )
        return f"{self.api.job_base(ref.parts[0])}{suffix}"

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
            Operation.SUBMIT, "POST", self.api.jobs_path, json_body=body, ok=(200, 201, 202)
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

    async def get_result(self, ref: JobRef) -> Result:
        job = await self.ready_job(ref)
        answers = [
            (await self.call(Operation.GET_RESULT, "GET", self.job_path(ref, path))).body
            for path in self.api.result_paths
        ]
        return self.api.read_result(self.context, job, answers)

    async def cancel_job(self, ref: JobRef) -> Job:
        # The success code is undocumented in both versions, so any 2xx will do. v1's answer is
        # a bare `object` in the SDK (shape undocumented): the job is read back. v2 answers the
        # job itself; an empty answer is followed by a read.
        answer = await self.call(
            Operation.CANCEL, "POST", self.job_path(ref, "/cancel"), ok=(200, 201, 202, 204)
        )
        if answer.body is None or not self.api.cancel_answers_job:
            return await self.get_job(ref)
        return self.translate_job(answer.body, ref)

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        page = integer(dig(dict(query.cursor or {}), "page")) or 1
        params: dict[str, Any] = {"page": max(1, page), "page_size": query.page_size}
        if query.status is not None:
            words = self.status_table.vendor_words(query.status)
            # `filter[status]` takes one word; for several (or none) the core post-filters.
            if len(words) == 1:
                params["filter[status]"] = words[0]
        answer = await self.call(Operation.LIST, "GET", self.api.jobs_path, params=params)
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
