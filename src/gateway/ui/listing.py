"""View models of the overview and the jobs table, built from the ledger and the backends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import cast, get_args
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from gateway.errors import InvalidRequest
from gateway.schemas import JobStatus
from gateway.schemas.ledger import JobRecord, LedgerPage, LedgerSort
from gateway.server.auth import Caller
from gateway.server.holder import GatewayHolder, Generation
from gateway.ui.source import list_records

STATUSES: tuple[JobStatus, ...] = tuple(JobStatus)
SORTS: tuple[str, ...] = get_args(LedgerSort)
PAGE_SIZES = (25, 50, 100, 200)
RUNNING_SHOWN = 20
FAILURES_SHOWN = 10
MAX_NAME_CHARS = 200
LIST_PARAMS = (
    "status",
    "backend",
    "vendor",
    "caller",
    "name",
    "created_from",
    "created_to",
    "sort",
    "page_size",
)


@dataclass(frozen=True)
class BackendRow:
    name: str
    vendor: str
    api_version: str | None
    simulated: bool
    aliases: list[str]
    health: str
    last_outcome: str | None
    consecutive_failures: int
    circuit: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int]
    backends: list[BackendRow]
    running: list[JobRecord]
    failures: list[JobRecord]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def visible_backends(gen: Generation, caller: Caller) -> list[str]:
    return [b for b in gen.config.backends if caller.may_use(gen.config, b)]


def backend_rows(
    gen: Generation, holder: GatewayHolder, caller: Caller, counts: list[dict[str, int]]
) -> list[BackendRow]:
    """The same health and circuit data as /v1/backends, with the ledger's counts."""
    by_name = dict(zip(visible_backends(gen, caller), counts, strict=False))
    rows = []
    for info in gen.gateway.backends():
        if info.name not in by_name:
            continue
        health = holder.health.view(info.name)
        rows.append(
            BackendRow(
                name=info.name,
                vendor=info.vendor,
                api_version=info.api_version,
                simulated=info.simulated,
                aliases=[a for a in info.aliases if caller.may_use(gen.config, a)],
                health=health.state,
                last_outcome=health.last_outcome,
                consecutive_failures=health.consecutive_failures,
                circuit=gen.gateway.guard(info.name).breaker_state.value,
                counts=by_name[info.name],
            )
        )
    return rows


async def overview(gen: Generation, holder: GatewayHolder, caller: Caller) -> Overview:
    gw, scope = gen.gateway, caller.allowed
    names = visible_backends(gen, caller)
    pages: list[LedgerPage] = await asyncio.gather(
        list_records(gw, scope=scope, page_size=1),
        list_records(
            gw, scope=scope, statuses=[JobStatus.RUNNING], sort="-updated", page_size=RUNNING_SHOWN
        ),
        list_records(
            gw, scope=scope, statuses=[JobStatus.FAILED], sort="-updated", page_size=FAILURES_SHOWN
        ),
        *(list_records(gw, scope=scope, backends=[n], page_size=1) for n in names),
    )
    everything, running, failures, *per_backend = pages
    return Overview(
        counts={s.value: everything.counts.get(s.value, 0) for s in STATUSES},
        backends=backend_rows(gen, holder, caller, [p.counts for p in per_backend]),
        running=running.items,
        failures=failures.items,
    )


@dataclass(frozen=True)
class JobsFilter:
    statuses: tuple[JobStatus, ...] = ()
    backends: tuple[str, ...] = ()
    vendor: str | None = None
    caller: str | None = None
    name: str | None = None
    created_from: date | None = None  # whole days, UTC, both ends included
    created_to: date | None = None
    sort: LedgerSort = "-created"
    page_size: int = 50
    page_token: str | None = None
    page_number: int = 1

    def query(self, **changes: object) -> str:
        """This filter as a query string, with `changes` (None drops a parameter)."""
        values: dict[str, object] = {
            "status": [s.value for s in self.statuses],
            "backend": list(self.backends),
            "vendor": self.vendor,
            "caller": self.caller,
            "name": self.name,
            "created_from": self.created_from,
            "created_to": self.created_to,
            "sort": None if self.sort == "-created" else self.sort,
            "page_size": None if self.page_size == 50 else self.page_size,
        }
        values.update(changes)
        pairs: list[tuple[str, str]] = []
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                if item is not None and item != "":
                    pairs.append((key, str(item)))
        return urlencode(pairs)


def parse_filter(params: QueryParams, gen: Generation) -> JobsFilter:
    """The jobs table's query string; a bad value is a typed 400, never a 500."""
    unknown = set(params) - {*LIST_PARAMS, "page_token", "page", "fragment"}
    if unknown:
        raise InvalidRequest(
            f"unknown query parameter(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(LIST_PARAMS)}, page_token, page"
        )
    try:
        statuses = tuple(JobStatus(s) for s in params.getlist("status") if s)
    except ValueError:
        allowed = ", ".join(s.value for s in STATUSES)
        raise InvalidRequest(f"status must be one of: {allowed}") from None
    backends = tuple(b for b in params.getlist("backend") if b)
    for name in backends:
        if gen.config.resolve(name) is None:
            raise InvalidRequest(f"no backend or alias named {name[:100]!r}")
    given = params.get("sort") or "-created"
    if given not in SORTS:
        raise InvalidRequest(f"sort must be one of: {', '.join(SORTS)}")
    sort = cast(LedgerSort, given)
    try:
        page_size = int(params.get("page_size") or 50)
        page_number = max(1, int(params.get("page") or 1))
    except ValueError:
        raise InvalidRequest("page_size and page must be whole numbers") from None
    if not 1 <= page_size <= 500:
        raise InvalidRequest("page_size must be between 1 and 500")
    days = [_day(params, "created_from"), _day(params, "created_to")]
    searched = (params.get("name") or "").strip()[:MAX_NAME_CHARS] or None
    return JobsFilter(
        statuses=statuses,
        backends=backends,
        vendor=params.get("vendor") or None,
        caller=params.get("caller") or None,
        name=searched,
        created_from=days[0],
        created_to=days[1],
        sort=sort,
        page_size=page_size,
        page_token=params.get("page_token") or None,
        page_number=page_number,
    )


def _day(params: QueryParams, name: str) -> date | None:
    given = params.get(name)
    if not given:
        return None
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise InvalidRequest(f"{name} must be a day as YYYY-MM-DD") from None


def _midnight(day: date | None, *, after: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=after)


@dataclass(frozen=True)
class JobsTable:
    filter: JobsFilter
    page: LedgerPage
    backends: list[str]
    vendors: list[str]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def matching(self) -> int:
        """Rows matching the whole filter: counts ignore the status filter, so add back
        only the chosen statuses."""
        chosen = {s.value for s in self.filter.statuses}
        return sum(n for s, n in self.page.counts.items() if not chosen or s in chosen)

    @property
    def first_row(self) -> int:
        return (self.filter.page_number - 1) * self.filter.page_size + 1

    @property
    def next_query(self) -> str | None:
        if self.page.next_page_token is None:
            return None
        return self.filter.query(
            page_token=self.page.next_page_token, page=self.filter.page_number + 1
        )


async def jobs_table(gen: Generation, caller: Caller, wanted: JobsFilter) -> JobsTable:
    page = await list_records(
        gen.gateway,
        scope=caller.allowed,
        statuses=wanted.statuses,
        backends=wanted.backends,
        vendor=wanted.vendor,
        caller=wanted.caller,
        name=wanted.name,
        sort=wanted.sort,
        page_size=wanted.page_size,
        page_token=wanted.page_token,
        created_after=_midnight(wanted.created_from),
        created_before=_midnight(wanted.created_to, after=1),
    )
    names = visible_backends(gen, caller)
    vendors = sorted({str(gen.config.backends[n].vendor) for n in names})
    return JobsTable(filter=wanted, page=page, backends=names, vendors=vendors)
