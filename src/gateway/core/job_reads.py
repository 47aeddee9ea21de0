"""Reading one job: its status, its result pages, and cancelling it, each through the guard.

The job id arrives parsed (a `JobRef`) with its backend looked up: AsyncGateway parses a
library caller's id once; the proxy parses the id of the URL once and hands both on. The id as
the caller wrote it stays the key of cache entries, problems and result page tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from gateway.contract import Operation
from gateway.core.backends import Backend
from gateway.core.vendor_calls import UnknownStatuses, VendorCalls
from gateway.errors import GatewayError, InvalidRequest, JobAlreadyTerminal
from gateway.ids import JobRef, format_job_id
from gateway.ledger_jobs import LedgerHandle, observing
from gateway.memo import IdentityMemo
from gateway.resilience import CacheStatus, Outcome
from gateway.result_tokens import (
    DEFAULT_RESULT_PAGE_SIZE,
    read_result_page,
    result_cache_key,
    result_query,
)
from gateway.schemas import Job, Result
from gateway.schemas.ledger import Observer

J = TypeVar("J", Job, Result)


def check_id_parts(backend: Backend, ref: JobRef, job_id: str) -> None:
    """The id has as many vendor identifiers as the backend's vendor addresses a job by."""
    expected = backend.adapter.id_parts
    if len(ref.parts) != len(expected):
        raise InvalidRequest(
            f"a {backend.config.vendor} job id has {len(expected)} part(s) after the backend "
            f"({', '.join(expected)}); got {len(ref.parts)}",
            backend=backend.name,
            job_id=job_id,
        )


def vendor_job_id(backend: Backend, vendor_ids: tuple[str, ...]) -> str:
    """The gateway id of a job `backend`'s vendor knows by `vendor_ids` (its `id_parts`)."""
    expected = backend.adapter.id_parts
    if len(vendor_ids) != len(expected):
        raise InvalidRequest(
            f"a {backend.config.vendor} job is addressed by {', '.join(expected)}",
            backend=backend.name,
        )
    return format_job_id(backend.name, *vendor_ids)


@dataclass(frozen=True, eq=False)
class JobReads:
    """Job, result and cancel calls of one AsyncGateway (`gw.reads`)."""

    calls: VendorCalls
    unknown: UnknownStatuses
    ledger: LedgerHandle | None

    async def fetch_job(
        self,
        backend: Backend,
        ref: JobRef,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        observed_by: Observer = "read",
    ) -> Outcome[Job]:
        check_id_parts(backend, ref, job_id)
        try:
            outcome = await self.calls.run(
                backend,
                Operation.GET_JOB,
                lambda: backend.adapter.get_job(ref),
                job_id=job_id,
                fresh=fresh,
                tenant=tenant,
            )
        except GatewayError as exc:
            # A job the vendor lost is answered from the ledger (a plain read; a watch ends).
            known = await observing.after_failed_read(
                self.ledger, job_id, exc, answer_gone=observed_by == "read"
            )
            if known is None:
                raise
            return known
        observing.observe_job(self.ledger, outcome, observed_by)
        self.unknown.note(outcome.value)
        return outcome if include_raw else _without_raw(outcome)

    async def fetch_result(
        self,
        backend: Backend,
        ref: JobRef,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        page_size: int = DEFAULT_RESULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Outcome[Result]:
        check_id_parts(backend, ref, job_id)
        query = result_query(backend.name, job_id, page_size, page_token)
        outcome = await self.calls.run(
            backend,
            Operation.GET_RESULT,
            lambda: read_result_page(backend.adapter, backend.name, ref, job_id, query),
            job_id=job_id,
            cache_key=result_cache_key(job_id, page_size, page_token),
            fresh=fresh,
            tenant=tenant,
        )
        observing.observe_result(self.ledger, job_id, outcome)
        return outcome if include_raw else _without_raw(outcome)

    async def cancel_job(
        self, backend: Backend, ref: JobRef, job_id: str, *, tenant: str | None = None
    ) -> Job:
        check_id_parts(backend, ref, job_id)
        await self._refuse_if_terminal(backend, ref, job_id, tenant)
        try:
            outcome = await self.calls.run(
                backend,
                Operation.CANCEL,
                lambda: backend.adapter.cancel_job(ref),
                job_id=job_id,
                tenant=tenant,
            )
        except JobAlreadyTerminal as exc:
            if exc.job_status is None:  # the vendor said so: read which terminal status
                await self._refuse_if_terminal(backend, ref, job_id, tenant)
            raise
        observing.observe_job(self.ledger, outcome, "read")
        return outcome.value.model_copy(update={"raw": None})

    async def _refuse_if_terminal(
        self, backend: Backend, ref: JobRef, job_id: str, tenant: str | None
    ) -> None:
        job = (await self.fetch_job(backend, ref, job_id, fresh=True, tenant=tenant)).value
        if job.status.terminal:
            raise JobAlreadyTerminal(
                f"the job is already {job.status.value}: there is nothing to cancel",
                backend=job.backend,
                vendor=job.vendor,
                job_id=job_id,
                job_status=job.status.value,
            )


def _without_raw(outcome: Outcome[J]) -> Outcome[J]:
    """The answer without the vendor payload (the cache keeps it for include=raw). A hit
    returns the cached object itself: its copy is made once (gateway.memo)."""
    if outcome.cache is CacheStatus.HIT:
        return outcome.with_value(_RAWLESS_HITS.get(outcome.value, _rawless))
    return outcome.with_value(_rawless(outcome.value))


def _rawless(value: Any) -> Any:
    return value.model_copy(update={"raw": None})


_RAWLESS_HITS: IdentityMemo[Any, Any] = IdentityMemo(1024)
