"""View models of the job page and the compare view: the ledger's record and timeline, the
vendor's live answer, the result's metrics and per-row scores (paged)."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from gateway.adapters.base import Adapter
from gateway.contract import Operation
from gateway.errors import GatewayError, JobNotFound
from gateway.ids import parse_job_id
from gateway.schemas import Job, Link, Metric, Problem, Result, ResultRow
from gateway.schemas.ledger import JobRecord, StatusChange
from gateway.schemas.status import RESULT_READY_STATUSES
from gateway.server.auth import Caller
from gateway.server.holder import Generation
from gateway.server.plumbing import upstream
from gateway.server.problems import problem_base
from gateway.ui.source import get_record, history

ROWS_PER_PAGE = 25
MAX_ROWS_PER_PAGE = 100
MAX_COMPARED = 8
MAX_RAW_CHARS = 200_000


@dataclass
class JobPage:
    job_id: str
    record: JobRecord | None
    live: Job | None
    live_problem: Problem | None
    changes: list[StatusChange]
    metrics: list[Metric] = field(default_factory=list)
    rows: list[ResultRow] = field(default_factory=list)
    rows_total: int | None = 0  # None: the vendor pages its rows and gives no total
    rows_page: int = 1
    rows_token: str | None = None  # the vendor's token of the next page of rows
    rows_more: bool = False
    rows_per_page: int = ROWS_PER_PAGE
    links: list[Link] = field(default_factory=list)
    result_problem: Problem | None = None
    raw: str | None = None
    can_cancel: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def status(self) -> str:
        if self.live is not None:
            return self.live.status.value
        return self.record.status.value if self.record else "unknown"

    @property
    def vendor_status(self) -> str | None:
        if self.live is not None:
            return self.live.vendor_status
        return self.record.vendor_status if self.record else None

    @property
    def terminal(self) -> bool:
        if self.live is not None:
            return self.live.terminal
        return bool(self.record and self.record.terminal)

    @property
    def settled(self) -> bool:
        """Terminal, and the ledger's timeline shows it too (it writes behind the live read):
        nothing more will change on the page, so its script stops polling."""
        if not self.terminal:
            return False
        return self.record is None or bool(self.changes and self.changes[-1].status == self.status)

    @property
    def error(self) -> Problem | None:
        if self.live is not None and self.live.error is not None:
            return self.live.error
        return self.record.last_problem if self.record else None

    @property
    def rows_shown(self) -> bool:
        return bool(self.rows) or self.rows_page > 1


def cancel_supported(gen: Generation, backend: str) -> bool:
    """Whether the vendor has a cancel at all, so the page offers one only where it can work
    (a refusal would still be shown as its unsupported-operation problem)."""
    adapter = gen.gateway.backend(backend).adapter
    return adapter.can_cancel and type(adapter).cancel_job is not Adapter.cancel_job


def _problem(request: Request, exc: GatewayError) -> Problem:
    return exc.problem(problem_base(request))


async def live_job(
    request: Request, gen: Generation, caller: Caller, job_id: str, *, raw: bool = False
) -> Job:
    backend = parse_job_id(job_id).backend
    outcome = await upstream(
        request,
        gen,
        backend,
        Operation.GET_JOB,
        lambda: gen.gateway.fetch_job(job_id, include_raw=raw, tenant=caller.name),
    )
    return outcome.value


def _pages_rows(gen: Generation) -> bool:
    """Whether this gateway reads a result's rows a page at a time (page_size/page_token)."""
    return "page_token" in inspect.signature(gen.gateway.fetch_result).parameters


async def live_result(
    request: Request,
    gen: Generation,
    caller: Caller,
    job_id: str,
    rows_token: str | None = None,
    rows_per_page: int = ROWS_PER_PAGE,
) -> Result:
    backend = parse_job_id(job_id).backend
    paging: dict[str, Any] = {}
    if _pages_rows(gen):
        paging = {"page_size": rows_per_page, "page_token": rows_token}
    outcome = await upstream(
        request,
        gen,
        backend,
        Operation.GET_RESULT,
        lambda: gen.gateway.fetch_result(job_id, tenant=caller.name, **paging),
    )
    return outcome.value


async def job_page(
    request: Request,
    gen: Generation,
    caller: Caller,
    job_id: str,
    *,
    rows_page: int = 1,
    rows_token: str | None = None,
    rows_per_page: int = ROWS_PER_PAGE,
    raw: bool = False,
    with_result: bool = True,
) -> JobPage:
    """Everything the job page shows; a vendor failure becomes a shown problem, not an error
    page, as long as the ledger knows the job."""
    backend = parse_job_id(job_id).backend  # a malformed id is invalid-request (400)
    caller.check(gen.config, backend)  # forbidden (403) beyond the key's backends
    record = await get_record(gen.gateway, job_id)
    live: Job | None = None
    live_problem: Problem | None = None
    try:
        live = await live_job(request, gen, caller, job_id, raw=raw)
    except GatewayError as exc:
        if record is None:
            raise
        live_problem = _problem(request, exc)
    if record is None and live is None:
        raise JobNotFound("neither the ledger nor the vendor knows this job", job_id=job_id)
    changes = await history(gen.gateway, job_id) if record is not None else []
    page = JobPage(
        job_id=job_id,
        record=record,
        live=live,
        live_problem=live_problem,
        changes=changes,
        rows_page=max(1, rows_page),
        rows_token=rows_token,
        rows_per_page=min(max(1, rows_per_page), MAX_ROWS_PER_PAGE),
        can_cancel=cancel_supported(gen, backend),
    )
    if live is not None:
        page.metrics, page.links = list(live.metrics), list(live.links)
        if live.raw is not None:
            page.raw = json.dumps(live.raw, indent=2, sort_keys=True)[:MAX_RAW_CHARS]
    if record is not None and record.result is not None and not page.metrics:
        page.metrics = list(record.result.metrics)
    if with_result and _result_ready(page):
        await _add_result(request, gen, caller, page)
    return page


def _result_ready(page: JobPage) -> bool:
    return page.status in {s.value for s in RESULT_READY_STATUSES}


async def _add_result(request: Request, gen: Generation, caller: Caller, page: JobPage) -> None:
    try:
        result = await live_result(
            request, gen, caller, page.job_id, page.rows_token, page.rows_per_page
        )
    except GatewayError as exc:
        page.result_problem = _problem(request, exc)
        return
    if result.metrics:
        page.metrics = list(result.metrics)
    page.links = [*page.links, *(a for a in result.artifacts if a not in page.links)]
    if _pages_rows(gen):  # the vendor's page of rows, and its token for the next one
        page.rows = result.rows[: page.rows_per_page]
        page.rows_token = getattr(result, "next_page_token", None)
        page.rows_more = page.rows_token is not None
        page.rows_total = len(page.rows) if page.rows_page == 1 and not page.rows_more else None
        return
    page.rows_total = len(result.rows)  # every row in one answer: paged here
    size = page.rows_per_page
    pages = max(1, -(-len(result.rows) // size))
    page.rows_page = min(page.rows_page, pages)
    start = (page.rows_page - 1) * size
    page.rows = result.rows[start : start + size]
    page.rows_more, page.rows_token = page.rows_page < pages, None


@dataclass(frozen=True)
class Compared:
    job_id: str
    label: str
    status: str
    backend: str
    metrics: list[Metric]
    problem: Problem | None = None


async def compare(
    request: Request, gen: Generation, caller: Caller, job_ids: list[str]
) -> list[Compared]:
    """The metrics of each picked job: the ledger's result snapshot, else the vendor's."""
    shown: list[Compared] = []
    for job_id in list(dict.fromkeys(job_ids))[:MAX_COMPARED]:
        backend = parse_job_id(job_id).backend
        caller.check(gen.config, backend)
        record = await get_record(gen.gateway, job_id)
        metrics = list(record.result.metrics) if record and record.result else []
        problem: Problem | None = None
        status = record.status.value if record else "unknown"
        if not metrics:
            try:
                metrics = list((await live_result(request, gen, caller, job_id)).metrics)
            except GatewayError as exc:
                problem = _problem(request, exc)
        name = record.name if record and record.name else job_id
        shown.append(Compared(job_id, name, status, backend, metrics, problem))
    return shown
