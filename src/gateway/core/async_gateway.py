"""AsyncGateway: the one async core that the library, the proxy and the CLI all use.

A facade over small collaborators, each a module of gateway.core: `reads` (job_reads: a job,
its result pages, cancel), `listing` (job_listing: a backend's jobs), `submits` (job_submits:
submissions, once per idempotency key), all calling the vendor through `calls`
(vendor_calls.VendorCalls.run, the one wrapper around adapter calls: a backstop deadline,
spans, the health book, unexpected failures as typed problems). Retries, the circuit breaker,
the cache and coalescing are the backend's guard, in gateway.resilience (resilience/guard.py
gives the order of its layers). The public methods take what a library caller has (job id
strings, backend names, mappings) and parse, look up or validate each once before handing it
on; the proxy, which has parsed its input already, calls the collaborators with the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from gateway.core.backends import Backend, BackendInfo, open_backend
from gateway.core.job_listing import JobListing
from gateway.core.job_reads import JobReads, vendor_job_id
from gateway.core.job_submits import JobSubmits, as_submit_request
from gateway.core.opening import (
    ConfigSource,
    as_config,
    backend_infos,
    ledger_handle_for,
    open_guards,
)
from gateway.core.vendor_calls import UnknownStatuses, VendorCalls
from gateway.errors import InvalidRequest, UnknownBackend
from gateway.ids import JobRef, parse_job_id
from gateway.ledger_jobs import LedgerHandle, observing
from gateway.ledger_jobs.views import LedgerViews
from gateway.resilience import BackendGuard, Outcome, ResilienceHub
from gateway.result_tokens import DEFAULT_RESULT_PAGE_SIZE
from gateway.schemas import Job, JobStatus, Page, Result, Submission, SubmitRequest
from gateway.schemas.ledger import Observer
from gateway.telemetry import tracing_for
from gateway.vendors.registry import SimulatorState
from gateway.watch import WAIT_POLL_INITIAL, WAIT_POLL_MAX, JobWatcher, Subscription

if TYPE_CHECKING:
    from gateway.ledger import Ledger


class AsyncGateway(LedgerViews):
    """Reach every configured backend through one canonical API.

    >>> async with AsyncGateway("config.example.yaml") as gw:   # doctest: +SKIP
    ...     job = await gw.get_job("ls-sim~mmlu~eval-completed")
    """

    def __init__(
        self,
        config: ConfigSource = None,
        *,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        on_unknown_status: Callable[[str, str], None] | None = None,
        ledger: Ledger | LedgerHandle | None = None,
        on_vendor_outcome: Callable[[str, str], None] | None = None,
        sim_states: Mapping[str, SimulatorState] | None = None,
    ) -> None:
        self.config = as_config(config)
        transports = transports or {}
        sim_states = sim_states or {}
        self._backends = {
            name: open_backend(name, cfg, transports.get(name), sim_states.get(name))
            for name, cfg in self.config.backends.items()
        }
        # Retries, breakers and caches wrap every adapter call (gateway.resilience), one guard
        # per backend.
        self.resilience = ResilienceHub(self.config.redis)
        tracing = tracing_for(self.config.telemetry)  # OpenTelemetry spans (None: off)
        self._guards = open_guards(self.resilience, self.config)
        # `on_vendor_outcome(backend, slug or "ok")`: the proxy's health book (vendor_calls);
        # `on_unknown_status(backend, vendor word)`: each unmappable status seen (a metric).
        self.calls = VendorCalls(self._guards, tracing, on_vendor_outcome)
        unknown = UnknownStatuses(on_unknown_status)
        # The job ledger: given (shared, e.g. across the proxy's reloads; the giver closes it)
        # or opened from `config.ledger` on first use and closed with this gateway.
        self._ledger_handle = ledger_handle_for(self.config, ledger)
        self._owns_ledger = ledger is None
        self.reads = JobReads(self.calls, unknown, self._ledger_handle)
        self.listing = JobListing(self.calls, unknown, self._ledger_handle)
        self.submits = JobSubmits(self.calls, self.resilience.link, self._ledger_handle)
        # One shared poller per watched job, whatever the number of waiters and watchers.
        self.watcher = JobWatcher(observing.WatchSource(self))

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def guard(self, name: str) -> BackendGuard:
        """The resilience guard of a backend or alias (breaker state, cache statistics)."""
        return self._guards[self.backend(name).name]

    async def aclose(self) -> None:
        await self.watcher.aclose()
        await self.submits.aclose()
        if self._owns_ledger and self._ledger_handle is not None:
            await self._ledger_handle.aclose()
        await self.resilience.aclose()
        for backend in self._backends.values():
            await backend.aclose()

    # -- backends ------------------------------------------------------------------------------

    def backends(self) -> list[BackendInfo]:
        return backend_infos(self.config, self._backends.values())

    def backend(self, name: str) -> Backend:
        """The backend for a backend or alias name."""
        resolved = self.config.resolve(name)
        if resolved is None:
            raise UnknownBackend(f"no backend or alias named {name!r}", backend=name[:100])
        return self._backends[resolved]

    def simulator(self, name: str) -> SimulatorState:
        """The simulator state of a `sim://` backend (for tests and demos)."""
        state = self.backend(name).sim_state
        if state is None:
            raise InvalidRequest(f"backend {name!r} is not simulated")
        return state

    def job_id(self, backend_name: str, *vendor_ids: str) -> str:
        """The gateway id of a job a vendor already knows (e.g. one started outside us).

        `backend_name` may be an alias; the id names the backend it resolves to. The vendor
        identifiers go in the adapter's `id_parts` order (see gateway.ids).
        """
        return vendor_job_id(self.backend(backend_name), vendor_ids)

    # -- canonical operations ----------------------------------------------------------------
    # Each `fetch_*` returns the answer with its cache metadata (the proxy's Cache-Status and
    # Age); the plain methods return just the value. `fresh=True` skips cached answers
    # (Cache-Control: no-cache); `tenant` scopes cache entries to one caller.

    async def fetch_job(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        observed_by: Observer = "read",
    ) -> Outcome[Job]:
        backend, ref = self._locate(job_id)
        return await self.reads.fetch_job(
            backend,
            ref,
            job_id,
            include_raw=include_raw,
            fresh=fresh,
            tenant=tenant,
            observed_by=observed_by,
        )

    async def get_job(self, job_id: str, *, include_raw: bool = False, fresh: bool = False) -> Job:
        return (await self.fetch_job(job_id, include_raw=include_raw, fresh=fresh)).value

    async def fetch_result(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        page_size: int = DEFAULT_RESULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Outcome[Result]:
        """One page of a finished job's rows (`page_size`, then `next_page_token` back as
        `page_token`); the aggregated metrics and artifacts are on every page."""
        backend, ref = self._locate(job_id)
        return await self.reads.fetch_result(
            backend,
            ref,
            job_id,
            include_raw=include_raw,
            fresh=fresh,
            tenant=tenant,
            page_size=page_size,
            page_token=page_token,
        )

    async def get_result(
        self,
        job_id: str,
        *,
        include_raw: bool = False,
        fresh: bool = False,
        page_size: int = DEFAULT_RESULT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> Result:
        outcome = await self.fetch_result(
            job_id,
            include_raw=include_raw,
            fresh=fresh,
            page_size=page_size,
            page_token=page_token,
        )
        return outcome.value

    async def wait(
        self,
        job_id: str,
        timeout: float | None = None,  # noqa: ASYNC109 (an answer, not a cancellation)
        *,
        poll_initial: float = WAIT_POLL_INITIAL,
        poll_max: float = WAIT_POLL_MAX,
    ) -> Job:
        """The job once terminal, polled politely through the cache with backoff.

        Raises `WaitTimedOut` (a `JobNotReady` carrying the current status) at `timeout`.
        """
        return await self.watcher.wait(
            job_id, timeout, poll_initial=poll_initial, poll_max=poll_max
        )

    def watch(
        self, job_id: str, *, last_event_id: str | None = None, report_problems: bool = False
    ) -> Subscription:
        """Every change of a job until it is terminal (`async with gw.watch(id) as events:`);
        all watchers of one job share one poller, which rides out a failing vendor
        (`report_problems=True`: each failed read is raised as `StillFailing`; go on)."""
        return self.watcher.watch(
            job_id, last_event_id=last_event_id, report_problems=report_problems
        )

    async def cancel_job(self, job_id: str, *, tenant: str | None = None) -> Job:
        """Cancel a job; answers the job as it stands after the cancel (cache invalidated).

        One rule for every vendor: a job that already finished is `JobAlreadyTerminal` (409,
        `job_status` its terminal status), since the cancel changes nothing. The job is read
        fresh first; a vendor's own "already finished" answer (its error table) is the same.
        """
        backend, ref = self._locate(job_id)
        return await self.reads.cancel_job(backend, ref, job_id, tenant=tenant)

    async def submit(
        self,
        backend_name: str,
        request: SubmitRequest | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        tenant: str | None = None,
    ) -> Submission:
        """Start an evaluation on a backend or alias; the job(s) it created.

        With `idempotency_key`, the same key and body return the same jobs and never create a
        second vendor job (see gateway.core.submission). Without one, a submission is never retried
        once it may have reached the vendor.
        """
        backend = self.backend(backend_name)
        canonical = as_submit_request(request)
        return await self.submits.submit(
            backend, backend_name, canonical, idempotency_key=idempotency_key, tenant=tenant
        )

    async def fetch_jobs(
        self,
        backend_name: str,
        *,
        status: JobStatus | str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_raw: bool = False,
        fresh: bool = False,
        tenant: str | None = None,
        observed_by: Observer = "read",
    ) -> Outcome[Page]:
        return await self.listing.fetch_jobs(
            self.backend(backend_name),
            status=status,
            page_size=page_size,
            page_token=page_token,
            include_raw=include_raw,
            fresh=fresh,
            tenant=tenant,
            observed_by=observed_by,
        )

    async def list_jobs(
        self,
        backend_name: str,
        *,
        status: JobStatus | str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        include_raw: bool = False,
        fresh: bool = False,
    ) -> Page:
        outcome = await self.fetch_jobs(
            backend_name,
            status=status,
            page_size=page_size,
            page_token=page_token,
            include_raw=include_raw,
            fresh=fresh,
        )
        return outcome.value

    def _locate(self, job_id: str) -> tuple[Backend, JobRef]:
        """A library caller's job id, parsed once, and the backend it names."""
        ref = parse_job_id(job_id)
        return self.backend(ref.backend), ref
