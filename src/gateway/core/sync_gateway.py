"""Gateway: the blocking twin of AsyncGateway, for scripts and notebooks.

It runs one AsyncGateway on a private event loop in a background thread (anyio's blocking
portal), so it works the same inside or outside other async code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from gateway.core.async_gateway import AsyncGateway
from gateway.core.backends import BackendInfo
from gateway.core.opening import ConfigSource
from gateway.result_tokens import DEFAULT_RESULT_PAGE_SIZE
from gateway.schemas import Job, JobStatus, Page, Result, Submission, SubmitRequest
from gateway.schemas.ledger import JobHistory, LedgerPage
from gateway.vendors.registry import SimulatorState
from gateway.watch import JobEvent, iterate_blocking

if TYPE_CHECKING:
    from gateway.ledger import Ledger


class Gateway:
    """Blocking access to every configured backend; same methods as AsyncGateway."""

    def __init__(
        self,
        config: ConfigSource = None,
        *,
        transports: dict[str, httpx.AsyncBaseTransport] | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self._portal_cm: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        try:
            self._gateway: AsyncGateway = self._portal.call(
                partial(_build, config, transports, ledger)
            )
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise
        self.config = self._gateway.config
        self._closed = False

    def __enter__(self) -> Gateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._portal.call(self._gateway.aclose)
        finally:
            self._portal_cm.__exit__(None, None, None)

    def backends(self) -> list[BackendInfo]:
        return self._gateway.backends()

    def simulator(self, name: str) -> SimulatorState:
        return self._gateway.simulator(name)

    @property
    def ledger(self) -> Ledger | None:
        """The open ledger (None until first used; a Ledger is used on the gateway's loop)."""
        return self._gateway.ledger

    def jobs(
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
        """One page of the ledger's jobs across every backend (see AsyncGateway.jobs)."""
        return self._portal.call(
            partial(
                self._gateway.jobs,
                status=status,
                backend=backend,
                vendor=vendor,
                caller=caller,
                alias=alias,
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
        )

    def history(self, job_id: str) -> JobHistory:
        """A job's status timeline, oldest first."""
        return self._portal.call(partial(self._gateway.history, job_id))

    def flush_ledger(self) -> None:
        """Wait until what was observed so far is written (scripts, tests)."""
        ledger = self._gateway.ledger
        if ledger is not None:
            self._portal.call(ledger.flush)

    def job_id(self, backend: str, *vendor_ids: str) -> str:
        return self._gateway.job_id(backend, *vendor_ids)

    def get_job(self, job_id: str, *, include_raw: bool = False) -> Job:
        return self._portal.call(partial(self._gateway.get_job, job_id, include_raw=include_raw))

    def get_result(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        page_size: int = DEFAULT_RESULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Result:
        """One page of rows; pass `result.next_page_token` back as `page_token` for the next."""
        read = partial(
            self._gateway.get_result,
            job_id,
            include_raw=include_raw,
            page_size=page_size,
            page_token=page_token,
        )
        return self._portal.call(read)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """The job once terminal; raises `WaitTimedOut` at `timeout` seconds."""
        return self._portal.call(partial(self._gateway.wait, job_id, timeout))

    def watch(self, job_id: str, *, last_event_id: str | None = None) -> Iterator[JobEvent]:
        """The job's changes, blocking; close the iterator (or read it to the end) to stop."""
        return iterate_blocking(
            self._portal, self._gateway.watch(job_id, last_event_id=last_event_id)
        )

    def cancel_job(self, job_id: str) -> Job:
        return self._portal.call(partial(self._gateway.cancel_job, job_id))

    def submit(
        self,
        backend: str,
        request: SubmitRequest | dict[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Submission:
        return self._portal.call(
            partial(self._gateway.submit, backend, request, idempotency_key=idempotency_key)
        )

    def list_jobs(
        self,
        backend: str,
        *,
        status: JobStatus | str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_raw: bool = False,
    ) -> Page:
        return self._portal.call(
            partial(
                self._gateway.list_jobs,
                backend,
                status=status,
                page_size=page_size,
                page_token=page_token,
                include_raw=include_raw,
            )
        )


async def _build(
    config: ConfigSource,
    transports: dict[str, httpx.AsyncBaseTransport] | None,
    ledger: Ledger | None = None,
) -> AsyncGateway:
    return AsyncGateway(config, transports=transports, ledger=ledger)
