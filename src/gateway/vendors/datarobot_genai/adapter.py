"""DataRobot job status: GenAI `/api/v2/genai/status/{id}/` and classic `/api/v2/status/{id}/`.

Contract: shared/vendor-apis/datarobot-genai/API.md. A gateway job id is
`<backend>~genai~<statusId>` or `<backend>~classic~<statusId>`. DataRobot answers a status
poll with 200 + a status object while the job is pending, or 303 See Other + `Location` (the
finished resource) once done; 307 means "ask there instead" and is followed once, as the
official client's waiter does. There is no cancel (classic DELETE only destroys the status
record) and only the classic API lists statuses. A canonical submission starts an
evaluation-dataset metric aggregation (`to_submission`, mapping in `submit`). The status
answers are translated in `jobs` (pure); this module is the calls and their order.

`base_url` is the DataRobot host (`https://app.datarobot.com`); a base URL that already ends
in `/api/v2` (the official client's `endpoint`) works too.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from gateway.adapters.base import RETRYABLE_VENDOR_STATUSES, Adapter, VendorResponse
from gateway.adapters.tables import ErrorRule
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.schemas import FieldError, Job, Result, SubmitRequest
from gateway.vendors.datarobot_genai.jobs import (
    STATUS_TABLE,
    VENDOR,
    completed_job,
    job_result,
    to_job,
    to_listed,
    to_result,
)
from gateway.vendors.datarobot_genai.submit import (
    aggregations_path,
    created_job_id,
    to_submission,
    with_canonical_fields,
)
from gateway.vendors.datarobot_genai.wire import (
    CLASSIC,
    CLASSIC_STATUS,
    GENAI,
    KINDS,
    api_path,
    cursor_offset,
    field_errors,
    parse_ref,
    resolve_location,
    status_path,
)

__all__ = [
    "CLASSIC",
    "ERROR_TABLE",
    "GENAI",
    "KINDS",
    "STATUS_TABLE",
    "DataRobotAdapter",
    "completed_job",
    "field_errors",
    "job_result",
    "parse_ref",
    "status_path",
    "to_job",
    "to_listed",
    "to_result",
    "to_submission",
]

# The official client retries 413 exactly like 429 (urllib3's Retry-After statuses) and
# honours its Retry-After: DataRobot uses 413 as a throttle, so callers see a rate limit.
# A 404 from the aggregation start names an id the caller sent: the evaluation dataset
# configuration or an LLM blueprint (undocumented which, API.md §4): invalid-request on both.
SEND_IDS: Final = (
    "send as 'evaluation' an evaluation dataset configuration id and each LLM blueprint id as"
    " a model target, both from the same DataRobot GenAI use case"
)
ERROR_TABLE: tuple[ErrorRule, ...] = (
    ErrorRule(UpstreamRateLimited, status=413),
    ErrorRule(
        InvalidRequest,
        status=404,
        operations=frozenset({Operation.SUBMIT}),
        fields=("evaluation", "targets"),
        send=SEND_IDS,
    ),
)

_AUTH_WORDS: Final = {"token": "Token", "bearer": "Bearer"}
_CANCEL_WHY: Final = (
    "DataRobot GenAI jobs cannot be cancelled through the API, and the classic"
    " 'DELETE /api/v2/status/{id}/' only destroys the status record; it does not stop the task"
)


class _Unreadable:
    """A body that is not JSON; only an error where the body is actually read."""

    def __init__(self, error: UpstreamInvalidResponse) -> None:
        self.error = error


def _body(answer: VendorResponse) -> Any:
    if isinstance(answer.body, _Unreadable):
        raise answer.body.error
    return answer.body


# -- the adapter ----------------------------------------------------------------------------------


class DataRobotAdapter(Adapter):
    vendor = VENDOR
    can_cancel = False  # no cancel in the API (see _CANCEL_WHY)
    # `Token` is the official client's default (Developer Tools keys); `Bearer` is for OAuth2.
    auth_schemes = ("token", "bearer")
    id_parts = ("kind", "status_id")
    status_table = STATUS_TABLE
    error_table = ERROR_TABLE
    # The official client retries 413 like 429 (see ERROR_TABLE), so callers may too.
    retryable_statuses = RETRYABLE_VENDOR_STATUSES | {413}
    # Classic `{"message": str | {field: msg}}`, FastAPI `{"detail": str | [{loc, msg, type}]}`.
    error_message_paths = (("message",), ("detail",))

    @classmethod
    def auth_headers(cls, api_key: str, scheme: str) -> dict[str, str]:
        word = _AUTH_WORDS.get(scheme.strip().lower())
        if word is None:
            raise ValueError(f"auth_scheme must be one of {', '.join(cls.auth_schemes)}")
        return {"Authorization": f"{word} {api_key}"}

    async def get_job(self, ref: JobRef) -> Job:
        return await self._poll(Operation.GET_JOB, ref)

    async def get_result(self, ref: JobRef) -> Result:
        return job_result(self.context, await self._poll(Operation.GET_RESULT, ref))

    async def cancel_job(self, ref: JobRef) -> Job:
        parse_ref(ref)
        raise self.unsupported("cancel", _CANCEL_WHY)

    async def submit(self, request: SubmitRequest) -> list[Job]:
        """Start an evaluation-dataset metric aggregation, then read its status back (the
        start answers only `{"jobId"}`). The job exists once the start answered, so a
        read-back that fails gives it as `unknown` instead of an error (which would say
        nothing was created)."""
        body = to_submission(self.context, request)
        # DataRobot's convention for async starts is 202; API.md leaves it unverified for GenAI.
        try:
            answer = await self.call(
                Operation.SUBMIT,
                "POST",
                aggregations_path(self.context),
                json_body=body,
                ok=(200, 201, 202),
            )
        except InvalidRequest as refused:
            raise with_canonical_fields(refused) from None
        job_id = created_job_id(self.context, _body(answer))
        ref = JobRef(self.context.backend, (GENAI, job_id))
        try:
            return [await self._poll(Operation.GET_JOB, ref)]
        except GatewayError as exc:
            unread = to_job(self.context, "", ref)
            message = f"created; its status could not be read yet: {exc.detail}"
            return [unread.model_copy(update={"message": message, "raw": answer.body})]

    async def list_jobs(self, query: ListQuery) -> ListedJobs:
        # Only the classic API lists statuses, and it has no status filter: the core filters.
        offset = cursor_offset(query.cursor)
        answer = await self.call(
            Operation.LIST,
            "GET",
            api_path(self.context, CLASSIC_STATUS),
            # limit=0 means "everything" to DataRobot, never what a page size of 0 wants.
            params={"offset": offset, "limit": max(1, query.page_size)},
        )
        return to_listed(self.context, _body(answer), offset)

    async def _poll(self, operation: Operation, ref: JobRef) -> Job:
        """One status poll as the official waiter does it: 200, 303 done, 307 followed once."""
        kind, status_id = parse_ref(ref)
        hint = JobRef(ref.backend, (kind, status_id))
        url = self.context.url(status_path(self.context, kind, status_id))
        answer = await self.call(operation, "GET", url, ok=(200, 303, 307))
        if answer.status_code == 307:
            url = self._redirect_target(url, answer.headers.get("location"))
            answer = await self.call(operation, "GET", url, ok=(200, 303))
        if answer.status_code == 303:
            location = resolve_location(url, answer.headers.get("location"))
            return completed_job(self.context, hint, location)
        return to_job(self.context, _body(answer), hint)

    def _redirect_target(self, url: str, location: str | None) -> str:
        target = resolve_location(url, location)
        # Our credential rides on every request of this client: never send it to another host.
        if target is None or urlsplit(target)[:2] != urlsplit(url)[:2]:
            raise UpstreamInvalidResponse(
                f"{self.vendor} redirected (307) to another host or nowhere; not followed",
                backend=self.context.backend,
                vendor=self.vendor,
                vendor_error={"location": location},
            )
        return target

    def decode(self, content: bytes) -> Any:
        # A redirect's body is never read (only its Location is) and need not be JSON, so an
        # unreadable body is an error only where `_body` reads it.
        try:
            return super().decode(content)
        except UpstreamInvalidResponse as exc:
            return _Unreadable(exc)

    @classmethod
    def field_errors(cls, body: Any) -> list[FieldError] | None:
        return field_errors(body) or None

    @classmethod
    def error_message(cls, body: Any) -> str | None:
        found = super().error_message(body)
        if found is not None:
            return found
        errors = field_errors(body)
        return "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors) or None
