"""`gw.jobs()` and `gw.history()`: the ledger's answers, on AsyncGateway (a mixin).

The job list spans every backend the ledger has seen, whatever the vendor; `tenant_backends`
limits it to a caller key's backends (the proxy passes it; a library user may too).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.config import GatewayConfig
from gateway.errors import JobNotFound, LedgerUnavailable
from gateway.ids import parse_job_id
from gateway.ledger_jobs.handle import LedgerHandle
from gateway.ledger_jobs.records import build_query
from gateway.schemas import JobStatus
from gateway.schemas.ledger import JobHistory, JobRecord, LedgerPage

if TYPE_CHECKING:
    from gateway.ledger import Ledger


class LedgerViews:
    """Ledger reads for AsyncGateway (which sets `config` and `_ledger_handle`)."""

    config: GatewayConfig
    _ledger_handle: LedgerHandle | None

    @property
    def ledger(self) -> Ledger | None:
        """The open ledger (None until first used, or when `ledger.enabled` is false)."""
        handle = self._ledger_handle
        return handle.ledger if handle is not None else None

    @property
    def ledger_handle(self) -> LedgerHandle | None:
        return self._ledger_handle

    async def open_ledger(self) -> Ledger:
        """The ledger, opened now if it is not yet; `LedgerUnavailable` if it cannot be."""
        if self._ledger_handle is None:
            raise LedgerUnavailable("this gateway keeps no ledger (ledger.enabled is false)")
        return await self._ledger_handle.get()

    async def jobs(
        self,
        *,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        backend: str | Iterable[str] | None = None,
        vendor: str | Iterable[str] | None = None,
        caller: str | Iterable[str] | None = None,
        alias: str | Iterable[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        name_contains: str | None = None,
        sort: str = "-created",
        page_size: int = 50,
        page_token: str | None = None,
        tenant_backends: frozenset[str] | None = None,
    ) -> LedgerPage:
        """One page of the ledger's jobs across every backend, newest first by default, with
        counts per status over the whole filter. Pass `next_page_token` back for the next."""
        query = build_query(
            self.config,
            status=status,
            backend=backend,
            alias=alias,
            vendor=vendor,
            caller=caller,
            created_after=created_after,
            created_before=created_before,
            updated_after=updated_after,
            updated_before=updated_before,
            name_contains=name_contains,
            sort=sort,
            page_size=page_size,
            page_token=page_token,
            tenant_backends=tenant_backends,
        )
        ledger = await self.open_ledger()
        return await ledger.list(query)

    async def job_record(self, job_id: str) -> JobRecord:
        """The ledger's record of one job (`JobNotFound` if it has none)."""
        parse_job_id(job_id)  # a malformed id is a 400, not a miss
        record = await (await self.open_ledger()).get(job_id)
        if record is None:
            raise JobNotFound("the ledger has no record of this job", job_id=job_id)
        return record

    async def history(self, job_id: str) -> JobHistory:
        """A job's status timeline, oldest first (`JobNotFound` if the ledger never saw it)."""
        parse_job_id(job_id)
        ledger = await self.open_ledger()
        changes = await ledger.history(job_id)
        if not changes and await ledger.get(job_id) is None:
            raise JobNotFound("the ledger has no record of this job", job_id=job_id)
        return JobHistory(job_id=job_id, changes=changes)
