"""AsyncGateway: the one async core that the library, the proxy and the CLI all use.

Every vendor call goes through `AsyncGateway._call`, the single place where calls are bounded
in time, unexpected failures become typed problems, and (later) retries and caching wrap the
adapters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx
from pydantic import ValidationError

from gateway.config import GatewayConfig, config_from_dict, default_config, load_config
from gateway.contract import ListQuery, Operation
from gateway.core.backends import Backend, BackendInfo, open_backend
from gateway.core.submission import IdempotencyStore, Submitter
from gateway.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    JobAlreadyTerminal,
    UnknownBackend,
    UpstreamInvalidResponse,
    UpstreamTimeout,
)
from gateway.ids import JobRef, format_job_id, parse_job_id
from gateway.ledger_jobs import LedgerHandle, observing
from gateway.ledger_jobs.views import LedgerViews
from gateway.ledger_jobs.writeahead import RecordedSubmission
from gateway.memo import IdentityMemo
from gateway.paging import check_page_size, decode_page_token, encode_page_token
from gateway.resilience import BackendGuard, CacheStatus, Outcome, ResilienceHub
from gateway.resilience.verdict import answer_verdict, error_verdict
from gateway.result_tokens import (
    DEFAULT_RESULT_PAGE_SIZE,
    read_result_page,
    result_cache_key,
    result_query,
)
from gateway.schemas import FieldError, Job, JobStatus, Page, Result, Submission, SubmitRequest
from gateway.schemas.ledger import Observer
from gateway.simulators import SimState
from gateway.telemetry import tracing_for
from gateway.watch import WAIT_POLL_INITIAL, WAIT_POLL_MAX, JobWatcher, Subscription

if TYPE_CHECKING:
    from gateway.ledger import Ledger

log = logging.getLogger("gateway")
DEADLINE_BACKSTOP = 1.0  # seconds past a guard's own deadline before the core cuts a call
MAX_UNKNOWN_TRACKED = 1000  # distinct (backend, word) pairs logged; bounds memory on a noisy vendor
T = TypeVar("T")
J = TypeVar("J", Job, Result)
ConfigSource = GatewayConfig | Mapping[str, Any] | str | Path | None


def _as_config(config: ConfigSource) -> GatewayConfig:
    if config is None:
        return default_config()
    if isinstance(config, GatewayConfig):
        return config
    if isinstance(config, str | Path):
        return load_config(config)
    return config_from_dict(dict(config))


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
        sim_states: Mapping[str, SimState] | None = None,
    ) -> None:
        self.config = _as_config(config)
        # Called with (backend, vendor word) for each unmappable status seen (e.g. a metric).
        self._on_unknown_status = on_unknown_status
        # Called with (backend, outcome slug or "ok") for each call that asked the vendor, or
        # whose vendor failure a stale answer covered (the proxy's health book).
        self._on_vendor_outcome = on_vendor_outcome
        transports = transports or {}
        sim_states = sim_states or {}
        self._backends = {
            name: open_backend(name, cfg, transports.get(name), sim_states.get(name))
            for name, cfg in self.config.backends.items()
        }
        self._unknown_seen: set[tuple[str, str]] = set()
        # Retries, breakers and caches wrap every adapter call here, one guard per backend.
        self.resilience = ResilienceHub(self.config.redis)
        # OpenTelemetry spans (None: off, and opentelemetry is never imported).
        self._tracing = tracing_for(self.config.telemetry)
        self._guards = {
            name: self.resilience.guard(
                name,
                retry=cfg.retry,
                breaker=cfg.breaker,
                cache=cfg.cache,
                deadline=cfg.timeouts.total,
            )
            for name, cfg in self.config.backends.items()
        }
        self._submitter = Submitter(IdempotencyStore(self.resilience.link))
        # The job ledger: given (shared, e.g. across the proxy's reloads; the giver closes it)
        # or opened from `config.ledger` on first use and closed with this gateway.
        self._ledger_handle = _ledger_handle(self.config, ledger)
        self._owns_ledger = ledger is None
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
        await self._submitter.aclose()
        if self._owns_ledger and self._ledger_handle is not None:
            await self._ledger_handle.aclose()
        await self.resilience.aclose()
        for backend in self._backends.values():
            await backend.aclose()

    # -- backends ------------------------------------------------------------------------------

    def backends(self) -> list[BackendInfo]:
        aliases: dict[str, list[str]] = {}
        for alias, target in self.config.aliases.items():
            aliases.setdefault(target, []).append(alias)
        return [
            BackendInfo(
                name=b.name,
                vendor=b.config.vendor,
                api_version=b.adapter.context.api_version,
                simulated=b.config.simulated,
                aliases=sorted(aliases.get(b.name, [])),
            )
            for b in self._backends.values()
        ]

    def backend(self, name: str) -> Backend:
        """The backend for a backend or alias name."""
        resolved = self.config.resolve(name)
        if resolved is None:
            raise UnknownBackend(f"no backend or alias named {name!r}", backend=name[:100])
        return self._backends[resolved]

    def simulator(self, name: str) -> SimState:
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
        backend = self.backend(backend_name)
        expected = backend.adapter.id_parts
        if len(vendor_ids) != len(expected):
            raise InvalidRequest(
                f"a {backend.config.vendor} job is addressed by {', '.join(expected)}",
                backend=backend.name,
            )
        return format_job_id(backend.name, *vendor_ids)

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
        try:
            outcome = await self._call(
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
                self._ledger_handle, job_id, exc, answer_gone=observed_by == "read"
            )
            if known is None:
                raise
            return known
        observing.observe_job(self._ledger_handle, outcome, observed_by)
        self._note_unknown(outcome.value)
        return outcome if include_raw else _without_raw(outcome)

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
        query = result_query(backend.name, job_id, page_size, page_token)
        outcome = await self._call(
            backend,
            Operation.GET_RESULT,
            lambda: read_result_page(backend.adapter, backend.name, ref, job_id, query),
            job_id=job_id,
            cache_key=result_cache_key(job_id, page_size, page_token),
            fresh=fresh,
            tenant=tenant,
        )
        observing.observe_result(self._ledger_handle, job_id, outcome)
        return outcome if include_raw else _without_raw(outcome)

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
        await self._refuse_if_terminal(job_id, tenant)
        try:
            outcome = await self._call(
                backend,
                Operation.CANCEL,
                lambda: backend.adapter.cancel_job(ref),
                job_id=job_id,
                tenant=tenant,
            )
        except JobAlreadyTerminal as exc:
            if exc.job_status is None:  # the vendor said so: read which terminal status
                await self._refuse_if_terminal(job_id, tenant)
            raise
        observing.observe_job(self._ledger_handle, outcome, "read")
        return outcome.value.model_copy(update={"raw": None})

    async def _refuse_if_terminal(self, job_id: str, tenant: str | None) -> None:
        job = (await self.fetch_job(job_id, fresh=True, tenant=tenant)).value
        if job.status.terminal:
            raise JobAlreadyTerminal(
                f"the job is already {job.status.value}: there is nothing to cancel",
                backend=job.backend,
                vendor=job.vendor,
                job_id=job_id,
                job_status=job.status.value,
            )

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
        second vendor job (see gateway.submission). Without one, a submission is never retried
        once it may have reached the vendor.
        """
        backend = self.backend(backend_name)
        canonical = _as_submit_request(request)

        async def vendor_call() -> Submission:
            outcome = await self._call(
                backend, Operation.SUBMIT, lambda: backend.adapter.submit(canonical)
            )
            return Submission(
                backend=backend.name,
                requested=backend_name,
                vendor=backend.config.vendor,
                jobs=[job.model_copy(update={"raw": None}) for job in outcome.value],
            )

        deadline = self._guards[backend.name].deadline + DEADLINE_BACKSTOP
        call: Callable[[], Awaitable[Submission]] = vendor_call
        scope = tenant or ""
        if self._ledger_handle is not None:  # written ahead, settled after (ledger_jobs)
            recorded = RecordedSubmission(
                self._ledger_handle,
                in_flight=self._submitter.in_flight,
                scope=scope,
                caller=tenant,
                key=idempotency_key,
                requested=backend_name,
                backend=backend.name,
                vendor=backend.config.vendor,
                api_version=backend.adapter.context.api_version,
                request=canonical,
                deadline=deadline,
            )
            replayed = await recorded.replayed()
            if replayed is not None:
                return replayed
            call = recorded.around(vendor_call)
        return await self._submitter.submit(
            idempotency_key, scope, backend_name, canonical, call, deadline
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
        backend = self.backend(backend_name)
        wanted = _parse_status(status)
        query = ListQuery(
            page_size=check_page_size(page_size),
            status=wanted,
            cursor=decode_page_token(backend.name, page_token),
        )
        key = f"list?status={wanted or ''}&page_size={page_size}&page_token={page_token or ''}"
        outcome = await self._call(
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
            self._note_unknown(job)
        if not include_raw:
            jobs = [j.model_copy(update={"raw": None}) for j in jobs]
        token = encode_page_token(backend.name, listed.next_cursor) if listed.next_cursor else None
        page = Page(items=jobs, next_page_token=token, total=listed.total)
        paged = cast(Outcome[Page], replace(cast(Outcome[Any], outcome), value=page))
        observing.observe_page(self._ledger_handle, paged, observed_by)
        return paged

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

    # -- the one wrapper around adapter calls ------------------------------------------------

    def _locate(self, job_id: str) -> tuple[Backend, JobRef]:
        ref = parse_job_id(job_id)
        backend = self.backend(ref.backend)
        expected = backend.adapter.id_parts
        if len(ref.parts) != len(expected):
            raise InvalidRequest(
                f"a {backend.config.vendor} job id has {len(expected)} part(s) after the backend "
                f"({', '.join(expected)}); got {len(ref.parts)}",
                backend=backend.name,
                job_id=job_id,
            )
        return backend, ref

    async def _call(
        self,
        backend: Backend,
        operation: Operation,
        fn: Callable[[], Awaitable[T]],
        job_id: str | None = None,
        *,
        cache_key: str | None = None,
        fresh: bool = False,
        tenant: str | None = None,
    ) -> Outcome[T]:
        """Run one adapter call under the backend's guard: cache and coalescing, circuit
        breaker, retries, deadline. Anything unexpected becomes a typed problem here."""
        vendor = backend.config.vendor
        context: dict[str, Any] = {"backend": backend.name, "vendor": vendor, "job_id": job_id}
        guard = self._guards[backend.name]
        try:
            # The guard keeps the deadline itself (retries and waits included); this is only
            # a backstop, late enough not to pre-empt a stale-if-error answer.
            async with asyncio.timeout(guard.deadline + DEADLINE_BACKSTOP):
                if self._tracing is None:
                    outcome = await guard.run(
                        operation, fn, cache_key=cache_key or job_id, tenant=tenant, fresh=fresh
                    )
                else:  # spans around the call and each vendor attempt (gateway.telemetry)
                    outcome = await self._tracing.call(
                        backend.name,
                        vendor,
                        operation,
                        job_id,
                        fn,
                        lambda traced: guard.run(
                            operation,
                            traced,
                            cache_key=cache_key or job_id,
                            tenant=tenant,
                            fresh=fresh,
                        ),
                    )
        except GatewayError as exc:
            self._vendor_outcome(backend.name, error_verdict(exc))
            raise exc.with_context(**context) from None
        except TimeoutError:
            self._vendor_outcome(backend.name, UpstreamTimeout.problem_type.slug)
            raise UpstreamTimeout(
                f"{vendor} did not answer within {guard.deadline:g}s", **context
            ) from None
        except ValidationError:
            self._vendor_outcome(backend.name, UpstreamInvalidResponse.problem_type.slug)
            raise UpstreamInvalidResponse(
                f"{vendor} answered with values outside the documented ranges", **context
            ) from None
        except Exception:
            log.exception("bug while calling %s %s", backend.name, operation.value)
            # Our bug, not the vendor's failure: shown as the last outcome, not counted.
            self._vendor_outcome(backend.name, InternalError.problem_type.slug)
            raise InternalError("the gateway hit an unexpected error", **context) from None
        self._vendor_outcome(backend.name, answer_verdict(outcome))
        return outcome

    def _vendor_outcome(self, backend: str, verdict: str | None) -> None:
        if verdict is not None and self._on_vendor_outcome is not None:
            self._on_vendor_outcome(backend, verdict)

    def _note_unknown(self, job: Job) -> None:
        """Log once per (backend, value) a vendor status word we cannot map (enum drift)."""
        if job.status is JobStatus.UNKNOWN and job.vendor_status is not None:
            key = (job.backend, job.vendor_status)
            if key not in self._unknown_seen:
                if len(self._unknown_seen) >= MAX_UNKNOWN_TRACKED:
                    return  # also bounds the metric's label values
                self._unknown_seen.add(key)
                log.warning(
                    "unknown vendor status %r from backend %s", job.vendor_status, job.backend
                )
            if self._on_unknown_status is not None:
                self._on_unknown_status(job.backend, job.vendor_status)


def _ledger_handle(
    config: GatewayConfig, ledger: Ledger | LedgerHandle | None
) -> LedgerHandle | None:
    if isinstance(ledger, LedgerHandle):
        return ledger
    if ledger is not None:
        return LedgerHandle(config.ledger, ledger=ledger, export=config.export)
    if not config.ledger.enabled:
        return None
    return LedgerHandle(config.ledger, export=config.export)


def _without_raw(outcome: Outcome[J]) -> Outcome[J]:
    """The answer without the vendor payload (the cache keeps it for include=raw). A hit
    returns the cached object itself: its copy is made once (gateway.memo)."""
    if outcome.cache is CacheStatus.HIT:
        return replace(outcome, value=_RAWLESS_HITS.get(outcome.value, _rawless))
    return replace(outcome, value=_rawless(outcome.value))


def _rawless(value: Any) -> Any:
    return value.model_copy(update={"raw": None})


_RAWLESS_HITS: IdentityMemo[Any, Any] = IdentityMemo(1024)


def _as_submit_request(request: SubmitRequest | Mapping[str, Any]) -> SubmitRequest:
    if isinstance(request, SubmitRequest):
        return request
    try:
        return SubmitRequest.model_validate(request)
    except ValidationError as exc:
        errors = [
            FieldError(loc=["body", *e["loc"]], msg=str(e["msg"]), type=e["type"])
            for e in exc.errors()
        ]
        raise InvalidRequest("the submission is not a valid request", errors=errors) from None


def _parse_status(status: JobStatus | str | None) -> JobStatus | None:
    if status is None or isinstance(status, JobStatus):
        return status
    try:
        return JobStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise InvalidRequest(f"unknown status {status!r}; one of: {allowed}") from None
