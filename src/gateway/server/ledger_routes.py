"""The ledger over HTTP: `GET /v1/jobs` (every backend's jobs, one list) and
`GET /v1/jobs/{id}/history` (a job's status timeline).

Both answer from the ledger, never from a vendor. A caller key limited to some backends sees
only their rows, and naming another backend (or alias) is a 403. Every bad filter, cursor or
page size is a typed 400 listing each bad parameter; `ledger-unavailable` (503) while the
ledger's database cannot be read.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import InvalidRequest
from gateway.ledger_jobs import LedgerHandle
from gateway.schemas import FieldError, JobStatus
from gateway.schemas.job import VendorName
from gateway.schemas.ledger import LedgerSort
from gateway.server.auth import Caller
from gateway.server.models import LedgerReadiness
from gateway.server.plumbing import job_ref, json_response, parse_query, serving

_RFC3339_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _rfc3339_only(value: object) -> object:
    """pydantic also reads a number as a Unix time; the document promises RFC 3339 only."""
    if isinstance(value, str) and not _RFC3339_DATE.match(value):
        raise ValueError("a date-time in RFC 3339 form with a zone, e.g. 2026-01-31T12:00:00Z")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]
MAX_LEDGER_PAGE = 500
MAX_LEDGER_TOKEN = 2048
REPEATABLE = frozenset({"status", "backend"})


class LedgerListQuery(BaseModel):
    """Query of `GET /v1/jobs`; `status` and `backend` may be given several times."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: list[JobStatus] = Field(
        default_factory=list, description="Only jobs in these statuses (repeat for several)"
    )
    backend: list[str] = Field(
        default_factory=list,
        description="Only these backends (names or aliases; repeat for several)",
    )
    alias: str | None = Field(
        default=None, max_length=128, description="Only the backend this alias points at today"
    )
    vendor: VendorName | None = Field(default=None, description="Only this vendor's jobs")
    caller: str | None = Field(
        default=None, max_length=128, description="Only jobs submitted with this API key name"
    )
    created_after: Moment | None = Field(default=None, description="RFC 3339, with zone")
    created_before: Moment | None = None
    updated_after: Moment | None = Field(
        default=None, description="Last observed status change after this moment"
    )
    updated_before: Moment | None = None
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Name contains (any case)"
    )
    sort: LedgerSort = Field(default="-created", description="`-` for newest first")
    page_size: int = Field(default=50, ge=1, le=MAX_LEDGER_PAGE)
    page_token: str | None = Field(
        default=None, max_length=MAX_LEDGER_TOKEN, description="`next_page_token` of a page"
    )


class HistoryQuery(BaseModel):
    """`GET /v1/jobs/{id}/history` takes no parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_ledger_query(request: Request) -> LedgerListQuery:
    """Like plumbing.parse_query, but `status` and `backend` may repeat."""
    data: dict[str, str | list[str]] = {}
    errors: list[FieldError] = []
    for key, value in request.query_params.multi_items():
        if key in REPEATABLE:
            listed = data.setdefault(key, [])
            assert isinstance(listed, list)
            listed.append(value)
        elif key in data:
            errors.append(
                FieldError(loc=["query", key], msg="given more than once", type="repeated")
            )
        else:
            data[key] = value
    try:
        parsed = LedgerListQuery.model_validate(data)
    except ValidationError as exc:
        allowed = ", ".join(LedgerListQuery.model_fields)
        for err in exc.errors():
            msg = str(err["msg"])
            if err["type"] == "extra_forbidden":
                msg = f"unknown query parameter; allowed: {allowed}"
            errors.append(FieldError(loc=["query", *err["loc"]], msg=msg, type=err["type"]))
    if errors:
        summary = "; ".join(f"{'.'.join(map(str, e.loc[1:]))}: {e.msg}" for e in errors)
        raise InvalidRequest(f"invalid query: {summary}", errors=errors)
    return parsed


def tenant_backends(caller: Caller) -> frozenset[str] | None:
    """The backends (and aliases) a caller key may see; None: every one."""
    return caller.allowed


async def list_ledger_jobs(request: Request) -> Response:
    async with serving(request) as (gen, caller):
        query = parse_ledger_query(request)
        page = await gen.gateway.jobs(
            status=query.status,
            backend=query.backend,
            alias=query.alias,
            vendor=query.vendor,
            caller=query.caller,
            created_after=query.created_after,
            created_before=query.created_before,
            updated_after=query.updated_after,
            updated_before=query.updated_before,
            name_contains=query.name,
            sort=query.sort,
            page_size=query.page_size,
            page_token=query.page_token,
            tenant_backends=tenant_backends(caller),
        )
        return json_response(page)


async def job_history(request: Request) -> Response:
    job_id: str = request.path_params["job_id"]
    async with serving(request) as (gen, caller):
        job_ref(gen, caller, job_id)  # a malformed id: 400; another caller's backend: 403
        parse_query(request, HistoryQuery)
        return json_response(await gen.gateway.history(job_id))


def ledger_readiness(handle: LedgerHandle | None) -> LedgerReadiness:
    if handle is None:
        return LedgerReadiness(state="off", queued=0)
    status = handle.status()
    return LedgerReadiness(
        state=status.state,
        queued=status.queued,
        written=status.written,
        failed_writes=status.failed_writes,
        dropped=status.dropped,
        last_error=status.last_error,
    )
