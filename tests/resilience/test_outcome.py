"""An outcome copied for another value keeps everything else (cache status, age, the error)."""

from __future__ import annotations

import dataclasses

from gateway.errors import UpstreamUnavailable
from gateway.resilience import CacheStatus, Outcome


def test_with_value_keeps_every_other_field() -> None:
    error = UpstreamUnavailable("down", vendor_status_code=503)
    outcome = Outcome("a", CacheStatus.STALE, 3.5, 1.0, 2, True, error)
    copied = outcome.with_value("b")
    assert copied == dataclasses.replace(outcome, value="b")
    assert outcome.value == "a"  # the original is untouched
    assert copied.headers() == outcome.headers()
