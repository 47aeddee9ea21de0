"""The one wrapper around adapter calls: every vendor call of AsyncGateway goes through
`VendorCalls.run`.

Retries, the circuit breaker, the cache and coalescing live in the backend's guard
(gateway.resilience; resilience/guard.py gives the order of its layers). Here the guarded call
gets a backstop deadline and spans (gateway.telemetry), the outcome is told to the health book,
and anything unexpected becomes a typed problem carrying the backend, vendor and job id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from gateway.contract import Operation
from gateway.core.backends import Backend
from gateway.errors import GatewayError, InternalError, UpstreamInvalidResponse, UpstreamTimeout
from gateway.resilience import BackendGuard, Outcome
from gateway.resilience.verdict import answer_verdict, error_verdict
from gateway.schemas import Job, JobStatus

if TYPE_CHECKING:  # imported only when tracing is on (it imports opentelemetry)
    from gateway.telemetry.otel import Tracing

log = logging.getLogger("gateway")
DEADLINE_BACKSTOP = 1.0  # seconds past a guard's own deadline before the core cuts a call
MAX_UNKNOWN_TRACKED = 1000  # distinct (backend, word) pairs logged; bounds memory on a noisy vendor
T = TypeVar("T")


class VendorCalls:
    """Runs adapter calls under their backend's guard; one per AsyncGateway."""

    def __init__(
        self,
        guards: Mapping[str, BackendGuard],
        tracing: Tracing | None,
        on_vendor_outcome: Callable[[str, str], None] | None,
    ) -> None:
        self.guards = guards
        self._tracing = tracing  # None: off, and opentelemetry is never imported
        # Called with (backend, outcome slug or "ok") for each call that asked the vendor, or
        # whose vendor failure a stale answer covered (the proxy's health book).
        self._on_vendor_outcome = on_vendor_outcome

    def deadline(self, backend: Backend) -> float:
        """How long a call on `backend` may take at most, the backstop included."""
        return self.guards[backend.name].deadline + DEADLINE_BACKSTOP

    async def run(
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
        guard = self.guards[backend.name]
        key = cache_key or job_id
        if self._tracing is None:  # a fresh hit needs no deadline and says nothing of health
            hit = guard.fresh_hit(operation, key, tenant=tenant, fresh=fresh)
            if hit is not None:
                return hit
        vendor = backend.config.vendor
        context: dict[str, Any] = {"backend": backend.name, "vendor": vendor, "job_id": job_id}
        try:
            # The guard keeps the deadline itself (retries and waits included); this is only
            # a backstop, late enough not to pre-empt a stale-if-error answer.
            async with asyncio.timeout(guard.deadline + DEADLINE_BACKSTOP):
                if self._tracing is None:
                    outcome = await guard.run(
                        operation, fn, cache_key=key, tenant=tenant, fresh=fresh
                    )
                else:  # spans around the call and each vendor attempt (gateway.telemetry)
                    outcome = await self._tracing.call(
                        backend.name,
                        vendor,
                        operation,
                        job_id,
                        fn,
                        lambda traced: guard.run(
                            operation, traced, cache_key=key, tenant=tenant, fresh=fresh
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


class UnknownStatuses:
    """Vendor status words we cannot map (enum drift): logged once per (backend, word)."""

    def __init__(self, on_unknown_status: Callable[[str, str], None] | None) -> None:
        # Called with (backend, vendor word) for each unmappable status seen (e.g. a metric).
        self._on_unknown_status = on_unknown_status
        self._seen: set[tuple[str, str]] = set()

    def note(self, job: Job) -> None:
        """Log once per (backend, value) a vendor status word we cannot map (enum drift)."""
        if job.status is JobStatus.UNKNOWN and job.vendor_status is not None:
            key = (job.backend, job.vendor_status)
            if key not in self._seen:
                if len(self._seen) >= MAX_UNKNOWN_TRACKED:
                    return  # also bounds the metric's label values
                self._seen.add(key)
                log.warning(
                    "unknown vendor status %r from backend %s", job.vendor_status, job.backend
                )
            if self._on_unknown_status is not None:
                self._on_unknown_status(job.backend, job.vendor_status)
