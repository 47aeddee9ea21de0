"""What AsyncGateway tells the ledger after each job read, off the request's path.

Only answers that came from the vendor are observed (a cache hit or a stale answer repeats
one already observed), and the ledger itself writes only changes. A vendor's "not found" for
a job the ledger knows is observed as gone, and answered from the ledger (see records).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from gateway.errors import GatewayError, JobNotFound, UpstreamProblem
from gateway.ledger_jobs.handle import LedgerHandle
from gateway.ledger_jobs.records import AT_VENDOR_HEADER, job_from_record
from gateway.resilience import Outcome
from gateway.resilience.outcome import CacheStatus
from gateway.schemas import Job, Page, Result
from gateway.schemas.ledger import Observer

log = logging.getLogger("gateway.ledger")
GONE_LOOKUP_TIMEOUT = 2.0  # seconds the ledger may take to answer for a job the vendor lost
_REPEATS = (CacheStatus.HIT, CacheStatus.STALE)


def from_vendor(outcome: Outcome[Any]) -> bool:
    return outcome.cache not in _REPEATS


def observe_job(handle: LedgerHandle | None, outcome: Outcome[Job], by: Observer) -> None:
    if handle is not None and from_vendor(outcome):
        handle.observe(outcome.value, by)


def observe_page(handle: LedgerHandle | None, outcome: Outcome[Page], by: Observer) -> None:
    if handle is not None and from_vendor(outcome):
        for job in outcome.value.items:
            handle.observe(job, by)


def observe_result(handle: LedgerHandle | None, job_id: str, outcome: Outcome[Result]) -> None:
    if handle is not None and from_vendor(outcome):
        handle.observe_result(job_id, outcome.value)


def vendor_lost(exc: GatewayError) -> bool:
    """The vendor itself answered that it does not know the job (not a bad id of ours)."""
    return isinstance(exc, JobNotFound) and exc.vendor_status_code is not None


async def after_failed_read(
    handle: LedgerHandle | None, job_id: str, exc: GatewayError, answer_gone: bool
) -> Outcome[Job] | None:
    """Record a failed job read; for a job the vendor lost, its last known record (if the
    ledger has one and `answer_gone`), marked stale and no longer at the vendor."""
    if handle is None:
        return None
    if vendor_lost(exc):
        handle.observe_gone(job_id, exc.problem())
        if answer_gone:
            return await _last_known(handle, job_id, exc)
    elif isinstance(exc, UpstreamProblem):
        handle.observe_problem(job_id, exc.problem())
    return None


async def _last_known(handle: LedgerHandle, job_id: str, exc: GatewayError) -> Outcome[Job] | None:
    try:
        async with asyncio.timeout(GONE_LOOKUP_TIMEOUT):
            ledger = await handle.get()
            record = await ledger.get(job_id)
    except (GatewayError, TimeoutError) as failure:
        log.info("ledger lookup of a job the vendor lost failed: %s", failure)
        return None
    if record is None:
        return None
    return Outcome(value=job_from_record(record), cache=CacheStatus.STALE, error=exc)


def gone_headers(outcome: Outcome[Job]) -> dict[str, str]:
    """`Job-At-Vendor: false` on an answer the ledger gave for a job the vendor lost."""
    if outcome.error is not None and vendor_lost(outcome.error):
        return {AT_VENDOR_HEADER: "false"}
    return {}


class JobFetcher(Protocol):
    """What a watch needs of AsyncGateway (a Protocol: the ledger wiring sits below core)."""

    async def fetch_job(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        observed_by: Observer = "read",
    ) -> Outcome[Job]: ...


class WatchSource:
    """The AsyncGateway as the job watcher sees it: its polls are observed as `watch`, and a
    lost job ends a watch (JobNotFound) instead of being answered from the ledger."""

    def __init__(self, gateway: JobFetcher) -> None:
        self._gateway = gateway

    async def fetch_job(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
    ) -> Outcome[Job]:
        return await self._gateway.fetch_job(
            job_id, include_raw=include_raw, fresh=fresh, tenant=tenant, observed_by="watch"
        )
