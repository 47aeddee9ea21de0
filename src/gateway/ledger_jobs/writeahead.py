"""Submissions recorded ahead: nothing acknowledged is ever missing from the ledger.

Before the vendor call the ledger durably records the intent (`begin_submission`); after it,
the jobs (`settle_submission`), or that the vendor refused (`abandon_submission`: nothing was
created), or that we cannot know (`submission_unknown`: a timeout or a dropped connection). A
process killed between the two leaves a pending intent that the refresher turns into an
"outcome unknown" record; it is never submitted again.

Idempotency keys are looked up in the ledger first, so they outlive a restart: a settled key
replays its jobs, a key whose outcome is unknown answers that problem, a key another replica
is submitting right now is waited for. (The in-memory/Redis store in gateway.core.submission still
coalesces concurrent identical calls in and across processes.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gateway.core.submission import check_key, fingerprint, unknown_outcome
from gateway.errors import GatewayError, InvalidRequest, LedgerUnavailable
from gateway.ledger_jobs.handle import LedgerHandle
from gateway.ledger_jobs.records import job_from_record
from gateway.schemas import Job, Problem, Submission, SubmitRequest

if TYPE_CHECKING:
    from gateway.ledger import Ledger

log = logging.getLogger("gateway.ledger")
SETTLE_ATTEMPTS = 5
SETTLE_PAUSE = 0.2  # seconds between settle attempts (doubling)
PENDING_POLL = 0.1
ORPHAN_MARGIN = 5.0  # seconds past its deadline after which a pending intent's owner is gone


def _refused(exc: LedgerUnavailable, backend: str | None = None) -> LedgerUnavailable:
    return LedgerUnavailable(
        f"submission refused: the job ledger cannot record it ({exc.detail}); nothing was "
        "sent to the vendor (ledger.require_for_submit: false submits without a record)",
        backend=backend,
    )


def _unknown_problem(detail: str, **context: Any) -> Problem:
    from gateway.errors import UpstreamTimeout

    problem = UpstreamTimeout(
        f"{detail}. The submission may or may not have reached the vendor, so this key will "
        "not submit again; check the backend's jobs, or use a new key to submit anew",
        retryable=False,
        **context,
    ).problem()
    return problem


async def replay_from_ledger(
    handle: LedgerHandle,
    *,
    tenant: str,
    key: str,
    request_hash: str,
    requested: str,
    locally_pending: Callable[[], Awaitable[bool]],
    deadline: float,
) -> Submission | None:
    """What the ledger knows of an idempotency key: its jobs (a replay), its problem (raised),
    or None (unknown or refused key, or in flight in this process: submit as usual)."""
    try:
        ledger = await handle.get()
        return await _look_up(
            ledger, tenant, key, request_hash, requested, locally_pending, deadline
        )
    except LedgerUnavailable as exc:
        if handle.config.require_for_submit:
            raise _refused(exc) from None
        return None  # the in-memory/Redis store still guards the key


async def _look_up(
    ledger: Ledger,
    tenant: str,
    key: str,
    request_hash: str,
    requested: str,
    locally_pending: Callable[[], Awaitable[bool]],
    deadline: float,
) -> Submission | None:
    while True:
        record = await ledger.find_submission(tenant, key)
        if record is None or record.state == "refused":
            return None
        if record.request_hash != request_hash:
            raise InvalidRequest(
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new submission"
            )
        if record.state == "settled" and record.job_ids:
            return await _replay(ledger, record.job_ids, record.backend, requested, key)
        if record.state == "unknown":
            problem = record.problem or _unknown_problem(
                "the outcome of this submission is unknown", backend=record.backend
            )
            raise GatewayError.from_problem(problem)
        if await locally_pending():
            return None  # ours, in flight: gateway.core.submission coalesces onto it
        age = (datetime.now(UTC) - record.created_at).total_seconds()
        if age > deadline + ORPHAN_MARGIN:  # its owner died mid-call (or it would be settled)
            await ledger.submission_unknown(
                record.id, _unknown_problem("the gateway that submitted this stopped mid-call")
            )
            continue
        await asyncio.sleep(PENDING_POLL)


async def _replay(
    ledger: Ledger, job_ids: list[str], backend: str, requested: str, key: str
) -> Submission:
    jobs: list[Job] = []
    for job_id in job_ids:
        record = await ledger.get(job_id)
        if record is not None:
            jobs.append(job_from_record(record).model_copy(update={"stale": False}))
    if not jobs:
        raise LedgerUnavailable("the ledger lost the jobs of this submission", backend=backend)
    return Submission(
        backend=backend,
        requested=requested,
        vendor=jobs[0].vendor,
        jobs=jobs,
        idempotency_key=key,
        replayed=True,
    )


async def submit_recorded(
    handle: LedgerHandle,
    call: Callable[[], Awaitable[Submission]],
    *,
    backend: str,
    vendor: str,
    api_version: str | None,
    caller: str | None,
    key: str | None,
    request_hash: str,
    submission: dict[str, Any],
    replay: Callable[[], Awaitable[Submission | None]] | None = None,
) -> Submission:
    """`call` (the vendor call) between a write-ahead intent and its settlement."""
    from gateway.ledger import IdempotencyKeyTaken  # (SQLAlchemy only once a ledger is used)

    try:
        ledger = await handle.get()
        intent = await ledger.begin_submission(
            backend=backend,
            vendor=vendor,
            api_version=api_version,
            caller=caller,
            idempotency_key=key,
            request_hash=request_hash,
            submission=submission,
        )
    except IdempotencyKeyTaken:
        if replay is None:
            raise
        # Another process began this key between our look-up and our write: wait for it.
        answer = await replay()
        if answer is None:
            raise
        return answer
    except LedgerUnavailable as exc:
        if handle.config.require_for_submit:
            raise _refused(exc, backend) from None
        log.warning("submitting to %s without a ledger record: %s", backend, exc.detail)
        return await call()
    try:
        done = await call()
    except GatewayError as exc:
        problem = exc.problem()
        if exc.vendor_status_code is not None:  # the vendor said no: nothing was created
            await _quietly(ledger.abandon_submission(intent, problem))
        else:
            await _quietly(ledger.submission_unknown(intent, unknown_outcome(exc)))
        raise
    except BaseException:
        await asyncio.shield(
            _quietly(ledger.submission_unknown(intent, _unknown_problem("the call was cut off")))
        )
        raise
    await asyncio.shield(_settle(ledger, intent, done.jobs))
    return done


async def _settle(ledger: Ledger, intent: str, jobs: list[Job]) -> None:
    pause = SETTLE_PAUSE
    for attempt in range(SETTLE_ATTEMPTS):
        try:
            await ledger.settle_submission(intent, jobs)
            return
        except Exception as exc:
            if attempt == SETTLE_ATTEMPTS - 1:
                # The jobs exist at the vendor: answer them; the write-behind keeps trying, and
                # the intent stays pending for the refresher.
                log.error("could not settle submission %s in the ledger: %s", intent, exc)
                for job in jobs:
                    ledger.observe(job, "submit")
                return
            await asyncio.sleep(pause)
            pause *= 2


async def _quietly(write: Awaitable[None]) -> None:
    try:
        await write
    except Exception as exc:  # the vendor's answer matters more than our bookkeeping
        log.warning("ledger write after a submission failed: %s", exc)


class RecordedSubmission:
    """One AsyncGateway.submit as the ledger sees it: a look-up of its key, then the vendor
    call wrapped between write-ahead and settlement."""

    def __init__(
        self,
        handle: LedgerHandle,
        *,
        in_flight: Callable[[str, str], Awaitable[bool]],
        scope: str,
        caller: str | None,
        key: str | None,
        requested: str,
        backend: str,
        vendor: str,
        api_version: str | None,
        request: SubmitRequest,
        deadline: float,
    ) -> None:
        self.handle = handle
        self.in_flight = in_flight
        self.scope = scope
        self.caller = caller
        self.key = check_key(key) if key is not None else None
        self.requested = requested
        self.backend = backend
        self.vendor = vendor
        self.api_version = api_version
        self.request = request
        self.request_hash = fingerprint(requested, request)
        self.deadline = deadline

    async def replayed(self) -> Submission | None:
        """The jobs (or problem) the ledger holds for this key; None: go on and submit."""
        key = self.key
        if key is None:
            return None
        return await self._replay(lambda: self.in_flight(self.scope, key))

    async def _replay(self, locally_pending: Callable[[], Awaitable[bool]]) -> Submission | None:
        assert self.key is not None
        return await replay_from_ledger(
            self.handle,
            tenant=self.scope,
            key=self.key,
            request_hash=self.request_hash,
            requested=self.requested,
            locally_pending=locally_pending,
            deadline=self.deadline,
        )

    def around(
        self, call: Callable[[], Awaitable[Submission]]
    ) -> Callable[[], Awaitable[Submission]]:
        async def not_ours() -> bool:
            return False

        async def recorded() -> Submission:
            return await submit_recorded(
                self.handle,
                call,
                backend=self.backend,
                vendor=self.vendor,
                api_version=self.api_version,
                caller=self.caller,
                key=self.key,
                request_hash=self.request_hash,
                submission=self.request.model_dump(mode="json"),
                replay=(lambda: self._replay(not_ours)) if self.key is not None else None,
            )

        return recorded
