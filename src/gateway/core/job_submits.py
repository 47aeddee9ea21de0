"""Starting an evaluation: the vendor call through the guard, written ahead to the ledger, run
once per idempotency key (gateway.core.submission).

The request arrives validated (a `SubmitRequest`) with its backend looked up: AsyncGateway
validates a library caller's mapping once; the proxy validates the body once and hands it on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import ValidationError

from gateway.contract import Operation
from gateway.core.backends import Backend
from gateway.core.submission import IdempotencyStore, Submitter
from gateway.core.vendor_calls import VendorCalls
from gateway.errors import InvalidRequest, field_errors
from gateway.ledger_jobs import LedgerHandle
from gateway.ledger_jobs.writeahead import RecordedSubmission
from gateway.resilience import RedisLink
from gateway.schemas import Submission, SubmitRequest


class JobSubmits:
    """The submissions of one AsyncGateway (`gw.submits`)."""

    def __init__(
        self, calls: VendorCalls, link: RedisLink | None, ledger: LedgerHandle | None
    ) -> None:
        self._calls = calls
        self._submitter = Submitter(IdempotencyStore(link))
        self._ledger = ledger

    async def submit(
        self,
        backend: Backend,
        requested: str,
        canonical: SubmitRequest,
        *,
        idempotency_key: str | None = None,
        tenant: str | None = None,
    ) -> Submission:
        """`canonical` on `backend`, which the caller named `requested` (maybe an alias)."""

        async def vendor_call() -> Submission:
            outcome = await self._calls.run(
                backend, Operation.SUBMIT, lambda: backend.adapter.submit(canonical)
            )
            return Submission(
                backend=backend.name,
                requested=requested,
                vendor=backend.config.vendor,
                jobs=[job.model_copy(update={"raw": None}) for job in outcome.value],
            )

        deadline = self._calls.deadline(backend)
        call: Callable[[], Awaitable[Submission]] = vendor_call
        scope = tenant or ""
        if self._ledger is not None:  # written ahead, settled after (ledger_jobs)
            recorded = RecordedSubmission(
                self._ledger,
                in_flight=self._submitter.in_flight,
                scope=scope,
                caller=tenant,
                key=idempotency_key,
                requested=requested,
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
            idempotency_key, scope, requested, canonical, call, deadline
        )

    async def aclose(self) -> None:
        await self._submitter.aclose()


def as_submit_request(request: SubmitRequest | Mapping[str, Any]) -> SubmitRequest:
    """A library caller's submission as a `SubmitRequest`, validated here once."""
    if isinstance(request, SubmitRequest):
        return request
    try:
        return SubmitRequest.model_validate(request)
    except ValidationError as exc:
        errors = field_errors(exc, "body")
        raise InvalidRequest("the submission is not a valid request", errors=errors) from None
