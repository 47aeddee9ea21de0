"""The retry layer's strategies, one at a time, then assembled (fake clock: no real waits)."""

from __future__ import annotations

import random

import pytest

from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.resilience import (
    Deadline,
    GuardStats,
    ManualClock,
    RetryBudget,
    RetryRunner,
    RetrySettings,
    SystemClock,
    should_retry,
)
from gateway.resilience.retry import may_retry
from tests.resilience.fakes import Upstream, make_job

SETTINGS = RetrySettings()


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (UpstreamUnavailable("connection reset"), True),
        (UpstreamTimeout("read timeout"), True),
        (UpstreamTimeout("vendor 408", vendor_status_code=408), True),
        (UpstreamRateLimited("429", vendor_status_code=429, retry_after=1.0), True),
        (UpstreamRateLimited("DataRobot 413 throttle", vendor_status_code=413), True),
        (UpstreamError("bad gateway", vendor_status_code=502), True),
        (UpstreamUnavailable("503", vendor_status_code=503), True),
        (UpstreamTimeout("504", vendor_status_code=504), True),
        (UpstreamInvalidResponse("truncated body"), True),
        (UpstreamError("500", vendor_status_code=500), False),
        (UpstreamError("409 conflict", vendor_status_code=409), False),
        (UpstreamError("vendor says failed"), False),
        (JobNotFound("404"), False),
        (InvalidRequest("400"), False),
        (UpstreamAuthFailed("401", vendor_status_code=401), False),
        (ValueError("a bug"), False),
    ],
)
def test_retry_predicate(error: BaseException, retried: bool) -> None:
    assert should_retry(error, SETTINGS) is retried


def test_rate_limits_are_not_retried_when_429_is_taken_out() -> None:
    settings = RetrySettings(retry_statuses=frozenset({502, 503}))
    assert not should_retry(UpstreamRateLimited("429", vendor_status_code=429), settings)


def test_only_idempotent_operations_may_be_sent_twice() -> None:
    assert may_retry(Operation.GET_JOB, SETTINGS, None)
    assert may_retry(Operation.CANCEL, SETTINGS, None)
    assert not may_retry(Operation.SUBMIT, SETTINGS, None)
    assert may_retry(Operation.SUBMIT, RetrySettings(submit_idempotent=True), None)
    assert may_retry(Operation.SUBMIT, SETTINGS, True)  # the caller vouches for an idempotency key
    assert not may_retry(Operation.GET_JOB, SETTINGS, False)


def runner(
    clock: ManualClock, budget: RetryBudget | None = None, **settings: object
) -> tuple[RetryRunner, GuardStats]:
    stats = GuardStats()
    retry = RetrySettings.model_validate(settings)
    return RetryRunner(retry, stats, clock, budget=budget, rng=random.Random(7)), stats


async def test_success_after_transient_failures_counts_attempts() -> None:
    clock = ManualClock()
    retry, stats = runner(clock)
    upstream = Upstream(UpstreamUnavailable("reset"), UpstreamTimeout("slow"), make_job())
    value, attempts = await retry.run(Operation.GET_JOB, upstream, Deadline.start(60, clock))
    assert value == make_job() and attempts == 3 and upstream.calls == 3
    assert (stats.retries, stats.upstream_attempts, stats.upstream_calls) == (2, 3, 1)


async def test_backoff_is_exponential_with_full_jitter() -> None:
    clock = ManualClock()
    retry, _ = runner(clock, max_attempts=6, backoff_initial=0.2, backoff_max=1.0)
    upstream = Upstream(UpstreamUnavailable("down"))
    with pytest.raises(UpstreamUnavailable) as caught:
        await retry.run(Operation.GET_JOB, upstream, Deadline.start(60, clock))
    assert caught.value.attempts == 6
    ceilings = [0.2, 0.4, 0.8, 1.0, 1.0]
    assert len(clock.slept) == 5
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(clock.slept, ceilings, strict=True))
    assert len(set(clock.slept)) == 5  # jittered, not a fixed schedule


async def test_retry_after_is_honoured_and_passed_on() -> None:
    clock = ManualClock()
    retry, _ = runner(clock)
    limited = UpstreamRateLimited("429", vendor_status_code=429, retry_after=1.5)
    with pytest.raises(UpstreamRateLimited) as caught:
        await retry.run(Operation.GET_JOB, Upstream(limited), Deadline.start(60, clock))
    assert clock.slept == [1.5, 1.5]
    assert caught.value.attempts == 3 and caught.value.retry_after == 1.5


async def test_a_retry_after_longer_than_the_cap_ends_retries_at_once() -> None:
    clock = ManualClock()
    retry, _ = runner(clock, max_retry_after=10)
    limited = UpstreamRateLimited("429", vendor_status_code=429, retry_after=3600)
    with pytest.raises(UpstreamRateLimited) as caught:
        await retry.run(Operation.GET_JOB, Upstream(limited), Deadline.start(60, clock))
    assert clock.slept == [] and caught.value.attempts == 1 and caught.value.retry_after == 3600


@pytest.mark.parametrize(
    "error",
    [JobNotFound("gone"), InvalidRequest("bad"), UpstreamError("409", vendor_status_code=409)],
)
async def test_other_4xx_are_never_retried(error: GatewayError) -> None:
    clock = ManualClock()
    retry, _ = runner(clock)
    upstream = Upstream(error)
    with pytest.raises(type(error)) as caught:
        await retry.run(Operation.GET_JOB, upstream, Deadline.start(60, clock))
    assert upstream.calls == 1 and caught.value.attempts == 1


async def test_a_submission_is_never_retried_without_an_idempotency_guarantee() -> None:
    clock = ManualClock()
    retry, _ = runner(clock)
    upstream = Upstream(UpstreamUnavailable("reset after sending"), make_job())
    with pytest.raises(UpstreamUnavailable):
        await retry.run(Operation.SUBMIT, upstream, Deadline.start(60, clock))
    assert upstream.calls == 1
    value, attempts = await retry.run(
        Operation.SUBMIT, upstream, Deadline.start(60, clock), idempotent=True
    )
    assert attempts == 1 and value == make_job()  # second call of the script succeeds


async def test_no_wait_runs_past_the_deadline() -> None:
    clock = ManualClock()
    retry, _ = runner(clock, max_attempts=10)
    limited = UpstreamRateLimited("429", vendor_status_code=429, retry_after=0.6)
    with pytest.raises(UpstreamRateLimited) as caught:
        await retry.run(Operation.GET_JOB, Upstream(limited), Deadline.start(1.0, clock))
    # t=0 fails, waits 0.6, t=0.6 fails; another 0.6 s wait would end past t=1.0: stop.
    assert caught.value.attempts == 2 and clock.slept == [0.6]


async def test_a_hanging_attempt_is_cut_at_the_deadline() -> None:
    clock = SystemClock()
    retry, _ = runner(ManualClock())
    retry.clock = clock
    deadline = Deadline.start(0.05, clock)
    with pytest.raises(UpstreamTimeout) as caught:
        await retry.run(Operation.GET_JOB, Upstream(hang=True), deadline)
    assert caught.value.attempts == 1 and "0.05s deadline" in caught.value.detail
    assert type(caught.value) is UpstreamTimeout
    assert clock.monotonic() - deadline.at < 0.05


async def test_the_budget_caps_retries_during_an_outage() -> None:
    clock = ManualClock()
    budget = RetryBudget(ratio=0.2, window=10, min_retries=0, clock=clock)
    retry, stats = runner(clock, budget=budget, max_attempts=3, backoff_initial=0.001)
    upstream = Upstream(UpstreamUnavailable("down"))
    for _ in range(100):
        with pytest.raises(UpstreamUnavailable):
            await retry.run(Operation.GET_JOB, upstream, Deadline.start(60, clock))
    # Without a budget: 300 vendor calls. With it: 100 calls + at most 20% retries.
    assert upstream.calls <= 120
    assert stats.retries <= 20 and stats.retry_budget_exhausted > 0


async def test_a_long_hint_on_a_server_error_falls_back_to_backoff() -> None:
    # DigitalOcean sends ratelimit-reset (up to an hour away) on every answer, 503s included.
    clock = ManualClock()
    retry, _ = runner(clock, max_retry_after=10)
    unavailable = UpstreamUnavailable("503", vendor_status_code=503, retry_after=3600)
    upstream = Upstream(unavailable, make_job())
    value, attempts = await retry.run(Operation.GET_JOB, upstream, Deadline.start(60, clock))
    assert attempts == 2 and value == make_job() and clock.slept[0] <= 0.2


async def test_a_short_hint_on_a_server_error_is_honoured() -> None:
    clock = ManualClock()
    retry, _ = runner(clock)
    upstream = Upstream(UpstreamUnavailable("503", vendor_status_code=503, retry_after=2), 1)
    assert (await retry.run(Operation.GET_JOB, upstream, Deadline.start(60, clock)))[0] == 1
    assert clock.slept == [2]
