"""What the NeMo Evaluator v1 and v2 adapters share: the error table and the wire helpers.

The two API versions differ in status words, job shape and where results live, but both are
FastAPI services with the same error envelopes (`{"detail": str}`, 422 `{"detail": [{loc, msg,
type}]}`) and the same page envelope (`{object, data, pagination{page, page_size,
current_page_size, total_pages, total_results}, ...}`). The per-version job and result
translation is in `jobs` (one reader, a spec per version), the I/O in `adapter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gateway.adapters.base import BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.tables import ErrorRule
from gateway.adapters.wire import dig, integer, items, obj, text
from gateway.contract import ListedJobs, Operation
from gateway.errors import InvalidRequest, JobAlreadyTerminal, UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.schemas import FieldError, Job, Link

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
