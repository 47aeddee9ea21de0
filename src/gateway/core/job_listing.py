"""Listing a backend's jobs: one vendor page at a time, through the guard, as a canonical Page.

(The ledger's list across every backend is gateway.ledger_jobs.views: it never asks a vendor.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from gateway.contract import ListQuery, Operation
from gateway.core.backends import Backend
from gateway.core.vendor_calls import UnknownStatuses, VendorCalls
from gateway.errors import InvalidRequest
from gateway.ledger_jobs import LedgerHandle, observing
from gateway.paging import check_page_size, decode_page_token, encode_page_token
from gateway.resilience import Outcome
from gateway.schemas import JobStatus, Page
from gateway.schemas.ledger import Observer


@dataclass(frozen=True, eq=False)
class JobListing:
    """The vendor listings of one AsyncGateway (`gw.listing`)."""

    calls: VendorCalls
    unknown: UnknownStatuses
    ledger: LedgerHandle | None

    async def fetch_jobs(
        self,
        backend: Backend,
        *,
        status: JobStatus | str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        observed_by: Observer = "read",
    ) -> Outcome[Page]:
        wanted = parse_status(status)
        query = ListQuery(
            page_size=check_page_size(page_size),
            status=wanted,
            cursor=decode_page_token(backend.name, page_token),
        )
        key = f"list?status={wanted or ''}&page_size={page_size}&page_token={page_token or ''}"
        outcome = await self.calls.run(
            backend,
            Operation.LIST,
            lambda: backend.adapter.list_jobs(query),
            cache_key=key,
            fresh=fresh,
            tenant=tenant,
        )
        listed = outcome.value
        jobs = [j for j in listed.jobs if wanted is None or j.status is wanted]
        for job in jobs:
            self.unknown.note(job)
        if not include_raw:
            jobs = [j.model_copy(update={"raw": None}) for j in jobs]
        token = encode_page_token(backend.name, listed.next_cursor) if listed.next_cursor else None
        page = Page(items=jobs, next_page_token=token, total=listed.total)
        paged = cast(Outcome[Page], replace(cast(Outcome[Any], outcome), value=page))
        observing.observe_page(self.ledger, paged, observed_by)
        return paged


def parse_status(status: JobStatus | str | None) -> JobStatus | None:
    if status is None or isinstance(status, JobStatus):
        return status
    try:
        return JobStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise InvalidRequest(f"unknown status {status!r}; one of: {allowed}") from None
