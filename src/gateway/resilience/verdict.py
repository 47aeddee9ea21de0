"""What one guarded call says about the vendor's health (for the proxy's health book).

A fresh cache hit or a coalesced wait asked nobody, so it says nothing. A stale answer is
served *because* the vendor failed: it is that failure. A breaker fast-fail, a timeout and
every other upstream problem are failures; any other answer from the vendor (a 404 included)
is the vendor working.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import GatewayError, UpstreamProblem
from gateway.resilience.outcome import CacheStatus, Outcome

OK = "ok"
_ASKED_THE_VENDOR = frozenset({CacheStatus.MISS, CacheStatus.BYPASS, CacheStatus.UNCACHED})


def answer_verdict(outcome: Outcome[Any]) -> str | None:
    """The health outcome of a call that returned (None: it says nothing about the vendor)."""
    if outcome.cache is CacheStatus.STALE:
        return outcome.error.problem_type.slug if outcome.error is not None else "upstream-error"
    return OK if outcome.cache in _ASKED_THE_VENDOR else None


def error_verdict(exc: GatewayError) -> str | None:
    """The health outcome of a call that raised: every upstream problem (breaker fast-fails
    included) is a failure; another problem (a 404, a 400) counts only if the vendor said it,
    not when the gateway refused the request before asking."""
    if isinstance(exc, UpstreamProblem) or exc.vendor_status_code is not None:
        return exc.problem_type.slug
    return None
