"""The circuit breaker's state machine (fake clock)."""

from __future__ import annotations

import pytest

from gateway.errors import (
    JobNotFound,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.resilience import (
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
    GuardStats,
    ManualClock,
)
from gateway.resilience.breaker import breaker_verdict

DOWN = UpstreamUnavailable("connection refused")


def breaker(clock: ManualClock, **settings: object) -> CircuitBreaker:
    defaults: dict[str, object] = {"consecutive_failures": 3, "open_for": 10.0}
    return CircuitBreaker(BreakerSettings.model_validate(defaults | settings), GuardStats(), clock)


async def fail(cb: CircuitBreaker, times: int = 1, error: BaseException = DOWN) -> None:
    for _ in range(times):
        await cb.record(await cb.admit(5.0), error)


async def test_a_run_of_failures_opens_the_circuit_and_it_answers_at_once() -> None:
    clock = ManualClock()
    cb = breaker(clock)
    await fail(cb, 2)
    assert cb.state is BreakerState.CLOSED
    await fail(cb)
    assert cb.state is BreakerState.OPEN
    clock.advance(4)
    with pytest.raises(UpstreamUnavailable) as caught:
        await cb.admit(5.0)
    assert caught.value.retry_after == 6 and caught.value.attempts == 0
    assert cb.stats.breaker_opened == 1 and cb.stats.breaker_rejected == 1


async def test_a_success_resets_the_run() -> None:
    cb = breaker(ManualClock())
    await fail(cb, 2)
    await cb.record(await cb.admit(5.0), None)
    await fail(cb, 2)
    assert cb.state is BreakerState.CLOSED


async def test_a_failure_ratio_opens_it_once_there_are_enough_calls() -> None:
    cb = breaker(ManualClock(), consecutive_failures=100, min_calls=10, failure_ratio=0.5)
    for _ in range(4):
        await cb.record(await cb.admit(5.0), None)
        await fail(cb)
    assert cb.state is BreakerState.CLOSED  # 4 of 8: not enough calls yet
    await cb.record(await cb.admit(5.0), None)
    await fail(cb)
    assert cb.state is BreakerState.OPEN  # 5 of 10


async def test_old_failures_leave_the_window() -> None:
    clock = ManualClock()
    cb = breaker(clock, consecutive_failures=100, min_calls=4, failure_ratio=0.5, window=10)
    await fail(cb, 3)
    clock.advance(11)
    await cb.record(await cb.admit(5.0), None)
    await cb.record(await cb.admit(5.0), None)
    await cb.record(await cb.admit(5.0), None)
    await fail(cb)
    assert cb.state is BreakerState.CLOSED  # 1 of 4 in the window


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (None, False),
        (UpstreamUnavailable("reset"), True),
        (UpstreamTimeout("slow"), True),
        (UpstreamError("502", vendor_status_code=502), True),
        (UpstreamError("409", vendor_status_code=409), False),  # the vendor is up
        (JobNotFound("404"), False),
        (UpstreamRateLimited("429"), None),  # pacing, not an outage
        (RuntimeError("our bug"), None),
    ],
)
def test_what_counts_as_a_vendor_failure(error: BaseException | None, verdict: bool | None) -> None:
    assert breaker_verdict(error) is verdict


async def test_client_errors_and_rate_limits_never_open_it() -> None:
    cb = breaker(ManualClock())
    await fail(cb, 10, JobNotFound("404"))
    await fail(cb, 10, UpstreamRateLimited("429"))
    assert cb.state is BreakerState.CLOSED


async def test_half_open_lets_one_probe_through_and_a_success_closes() -> None:
    clock = ManualClock()
    cb = breaker(clock)
    await fail(cb, 3)
    clock.advance(10)
    probe = await cb.admit(5.0)
    assert probe.probe and cb.state is BreakerState.HALF_OPEN
    with pytest.raises(UpstreamUnavailable) as caught:
        await cb.admit(5.0)  # a second caller while the probe runs
    assert caught.value.retry_after == 1
    await cb.record(probe, None)
    assert cb.state is BreakerState.CLOSED
    assert not (await cb.admit(5.0)).probe
    assert (cb.stats.breaker_opened, cb.stats.breaker_half_opened, cb.stats.breaker_closed) == (
        1,
        1,
        1,
    )


async def test_a_failed_probe_opens_it_again() -> None:
    clock = ManualClock()
    cb = breaker(clock)
    await fail(cb, 3)
    clock.advance(10)
    await cb.record(await cb.admit(5.0), DOWN)
    assert cb.state is BreakerState.OPEN
    with pytest.raises(UpstreamUnavailable) as caught:
        await cb.admit(5.0)
    assert caught.value.retry_after == 10


async def test_a_neutral_probe_frees_its_slot_and_a_lost_probe_lapses() -> None:
    clock = ManualClock()
    cb = breaker(clock)
    await fail(cb, 3)
    clock.advance(10)
    await cb.record(await cb.admit(5.0), UpstreamRateLimited("429"))
    assert cb.state is BreakerState.HALF_OPEN
    await cb.admit(5.0)  # probe whose caller vanished without recording
    clock.advance(5.0)
    assert (await cb.admit(5.0)).probe  # its slot lapsed after the probe's deadline


async def test_a_disabled_breaker_never_rejects() -> None:
    cb = breaker(ManualClock(), enabled=False)
    await fail(cb, 50)
    assert not (await cb.admit(5.0)).probe and cb.state is BreakerState.CLOSED
