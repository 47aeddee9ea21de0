"""The one retry layer: tenacity, assembled from small strategies that each do one thing.

- `should_retry`: typed errors worth another try, and only for idempotent operations;
- `WaitRetryAfterOrBackoff`: the vendor's Retry-After when it gave one, else full jitter;
- `stop_any(...)` of: attempts used up, a Retry-After longer than we will wait, the call's
  deadline, the backend's retry budget (last, so a retry is only charged when it will happen).

`RetryRunner.run` puts them together and stamps `attempts` on the final problem.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_any, stop_base
from tenacity.wait import wait_base, wait_exponential

from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.resilience.budget import RetryBudget
from gateway.resilience.clock import SYSTEM_CLOCK, Clock
from gateway.resilience.settings import RetrySettings
from gateway.resilience.stats import GuardStats

log = logging.getLogger("gateway.resilience")
T = TypeVar("T")

# Reading twice, or cancelling twice, changes nothing on the vendor's side; submitting twice
# starts two jobs, so SUBMIT is only retried when the caller vouches for an idempotency key.
IDEMPOTENT_OPERATIONS = frozenset(
    {Operation.GET_JOB, Operation.GET_RESULT, Operation.LIST, Operation.CANCEL}
)
MIN_ATTEMPT_SECONDS = 0.05  # no point starting an attempt with less time than this left


@dataclass(frozen=True)
class Deadline:
    """When a whole call must be over (monotonic seconds) and how long it was given."""

    at: float
    seconds: float

    @classmethod
    def start(cls, seconds: float, clock: Clock) -> Deadline:
        return cls(clock.monotonic() + seconds, seconds)

    def remaining(self, clock: Clock) -> float:
        return self.at - clock.monotonic()

    def error(self, attempts: int | None = None) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"no answer within the call's {self.seconds:g}s deadline",
            retryable=True,
            attempts=attempts,
        )


def may_retry(operation: Operation, settings: RetrySettings, idempotent: bool | None) -> bool:
    """Whether this operation may be sent twice at all."""
    if idempotent is not None:
        return idempotent
    if operation is Operation.SUBMIT:
        return settings.submit_idempotent
    return operation in IDEMPOTENT_OPERATIONS


def should_retry(exc: BaseException, settings: RetrySettings) -> bool:
    """Whether a failed attempt is worth another (the operation is known to be idempotent)."""
    if not isinstance(exc, GatewayError) or isinstance(exc, _DeadlinePassed):
        return False  # bugs and bad data do not get better by asking again
    code = exc.vendor_status_code
    if isinstance(exc, UpstreamRateLimited):
        return 429 in settings.retry_statuses  # DataRobot's 413 throttle is a rate limit too
    if isinstance(exc, UpstreamUnavailable | UpstreamTimeout):
        return code is None or code >= 500 or code in settings.retry_statuses
    if isinstance(exc, UpstreamInvalidResponse):
        # A truncated or non-JSON body on a success status is a transient glitch.
        return settings.retry_invalid_response and (code is None or code < 400)
    if isinstance(exc, UpstreamError):
        return code is not None and code in settings.retry_statuses
    return False  # not found, bad request, auth, unsupported...: the answer will not change


class _DeadlinePassed(UpstreamTimeout):
    """The call's own deadline passed during an attempt: final, never retried."""


class wait_full_jitter(wait_exponential):
    """Exponential backoff with full jitter: uniform(0, min(max, initial * 2**n))."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        super().__init__(multiplier=initial, max=maximum)
        self._rng = rng or random.Random()

    def __call__(self, retry_state: RetryCallState) -> float:
        return self._rng.uniform(0.0, super().__call__(retry_state))


class WaitRetryAfterOrBackoff(wait_base):
    """The vendor's Retry-After (already parsed onto the error) up to `cap`, else `backoff`."""

    def __init__(self, backoff: wait_base, cap: float) -> None:
        self.backoff = backoff
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        retry_after = _retry_after(retry_state)
        if retry_after is not None and retry_after <= self.cap:
            return retry_after
        # A longer hint on a rate limit ends the retries (StopOnLongRetryAfter); on a 5xx it
        # is often not a wait hint at all (DigitalOcean puts ratelimit-reset, the end of its
        # sliding hour, on every answer), so backoff applies.
        return self.backoff(retry_state)


class StopOnLongRetryAfter(stop_base):
    """Stop when a rate limit asks for a longer wait than `cap`: the caller gets the 429 and
    its Retry-After instead of a wait that would outlast any sensible deadline."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        if not isinstance(exc, UpstreamRateLimited):
            return False
        return exc.retry_after is not None and exc.retry_after > self.cap


class StopAtDeadline(stop_base):
    """Stop when the wait before the next attempt would leave it no time before the deadline."""

    def __init__(self, deadline: Deadline, clock: Clock) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        # tenacity 9 computes the wait (upcoming_sleep) before asking the stop strategy; with
        # an older one the attempt itself still refuses to start past the deadline.
        upcoming: float = getattr(retry_state, "upcoming_sleep", 0.0)
        left_after_wait = self.deadline.remaining(self.clock) - upcoming
        return left_after_wait < MIN_ATTEMPT_SECONDS


class StopWhenBudgetSpent(stop_base):
    """Stop when the backend's retry budget is spent; otherwise charge this retry to it."""

    def __init__(self, budget: RetryBudget, stats: GuardStats) -> None:
        self.budget = budget
        self.stats = stats

    def __call__(self, retry_state: RetryCallState) -> bool:
        if self.budget.try_spend():
            return False
        self.stats.retry_budget_exhausted += 1
        return True


def _retry_after(retry_state: RetryCallState) -> float | None:
    outcome = retry_state.outcome
    exc = outcome.exception() if outcome is not None and outcome.failed else None
    return exc.retry_after if isinstance(exc, GatewayError) else None


class RetryRunner:
    """Runs one logical call with the backend's retry policy."""

    def __init__(
        self,
        settings: RetrySettings,
        stats: GuardStats,
        clock: Clock = SYSTEM_CLOCK,
        budget: RetryBudget | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.stats = stats
        self.clock = clock
        self.budget = budget or RetryBudget(
            settings.budget_ratio, settings.budget_window, settings.budget_min_retries, clock
        )
        self._backoff = wait_full_jitter(settings.backoff_initial, settings.backoff_max, rng)

    async def run(
        self,
        operation: Operation,
        fn: Callable[[], Awaitable[T]],
        deadline: Deadline,
        *,
        idempotent: bool | None = None,
        max_attempts: int | None = None,
    ) -> tuple[T, int]:
        """(value, attempts made). A final GatewayError carries `attempts`."""
        attempts = 0
        self.stats.upstream_calls += 1
        self.budget.record_call()

        async def attempt() -> T:
            nonlocal attempts
            remaining = deadline.remaining(self.clock)
            if remaining <= 0:
                raise _DeadlinePassed(deadline.error().detail, retryable=True)
            attempts += 1
            self.stats.upstream_attempts += 1
            try:
                async with asyncio.timeout(remaining):  # cheaper than an anyio scope
                    return await fn()
            except TimeoutError:
                raise _DeadlinePassed(deadline.error().detail, retryable=True) from None

        limit = max_attempts or self.settings.max_attempts
        if not may_retry(operation, self.settings, idempotent):
            limit = 1
        # The first attempt runs bare: most calls succeed, and tenacity's machinery costs
        # more than the call itself on a fast vendor. A failure worth retrying is replayed
        # to tenacity as its attempt 1, so waits, stops and the budget see what they always
        # did.
        try:
            return await attempt(), attempts
        except GatewayError as exc:
            if limit == 1 or not should_retry(exc, self.settings):
                exc.attempts = attempts
                if isinstance(exc, _DeadlinePassed):
                    raise _as_plain_timeout(exc) from None
                raise
            first_failure: list[GatewayError] = [exc]

        async def replay_then_attempt() -> T:
            if first_failure:
                raise first_failure.pop()
            return await attempt()

        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda exc: should_retry(exc, self.settings)),
            wait=WaitRetryAfterOrBackoff(self._backoff, self.settings.max_retry_after),
            stop=stop_any(
                stop_after_attempt(limit),
                StopOnLongRetryAfter(self.settings.max_retry_after),
                StopAtDeadline(deadline, self.clock),
                StopWhenBudgetSpent(self.budget, self.stats),  # last: charged only if retrying
            ),
            sleep=self.clock.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            value: T = await retrying(replay_then_attempt)
        except GatewayError as exc:
            exc.attempts = attempts
            if isinstance(exc, _DeadlinePassed):
                raise _as_plain_timeout(exc) from None
            raise
        return value, attempts

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        self.stats.retries += 1
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        log.debug(
            "retrying after %s (attempt %d, waiting %.3fs)",
            type(exc).__name__,
            retry_state.attempt_number,
            retry_state.upcoming_sleep,
        )


def _as_plain_timeout(exc: _DeadlinePassed) -> UpstreamTimeout:
    # Callers catch UpstreamTimeout; the private subclass only steered the retry decision.
    return UpstreamTimeout(exc.detail, retryable=True, attempts=exc.attempts)
