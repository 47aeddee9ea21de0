"""The retry budget: retries stay under a share of calls in a sliding window."""

from __future__ import annotations

from gateway.resilience import ManualClock, RetryBudget


def test_retries_are_limited_to_a_share_of_calls() -> None:
    budget = RetryBudget(ratio=0.2, window=10, min_retries=0, clock=ManualClock())
    for _ in range(50):
        budget.record_call()
    spent = sum(budget.try_spend() for _ in range(30))
    assert spent == 10 and budget.totals() == (50, 10)


def test_a_floor_lets_quiet_backends_retry() -> None:
    budget = RetryBudget(ratio=0.2, window=10, min_retries=3, clock=ManualClock())
    budget.record_call()
    assert [budget.try_spend() for _ in range(4)] == [True, True, True, False]


def test_the_window_slides() -> None:
    clock = ManualClock()
    budget = RetryBudget(ratio=0.5, window=10, min_retries=0, clock=clock)
    for _ in range(4):
        budget.record_call()
    assert budget.try_spend() and budget.try_spend() and not budget.try_spend()
    clock.advance(5)
    assert budget.totals() == (4, 2)  # still in the window
    clock.advance(6)
    assert budget.totals() == (0, 0)  # all of it aged out
    assert not budget.try_spend()  # no calls, no floor: no retries
    budget.record_call()
    budget.record_call()
    assert budget.try_spend()
