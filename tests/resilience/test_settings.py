"""The resilience config sections: strict, frozen, with documented defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.resilience import BreakerSettings, CacheSettings, RedisSettings, RetrySettings


def test_defaults_match_the_documented_policy() -> None:
    retry, breaker, cache, redis = (
        RetrySettings(),
        BreakerSettings(),
        CacheSettings(),
        RedisSettings(),
    )
    assert retry.max_attempts == 3 and retry.budget_ratio == 0.2
    assert retry.retry_statuses == {408, 429, 502, 503, 504}
    assert not retry.submit_idempotent
    assert breaker.enabled and breaker.consecutive_failures == 5
    assert cache.running_ttl == 2.0 and cache.terminal_ttl == 3600.0 and cache.list_ttl == 0.0
    assert redis.url is None and not redis.enabled


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (RetrySettings, {"max_attempt": 3}),  # typo: unknown keys are errors
        (RetrySettings, {"retry_statuses": [404]}),  # other 4xx are never retried
        (RetrySettings, {"backoff_initial": 2.0, "backoff_max": 1.0}),
        (BreakerSettings, {"failure_ratio": 0}),
        (CacheSettings, {"running_ttl": -1}),
        (RedisSettings, {"url": "http://localhost:6379"}),
    ],
)
def test_invalid_settings_are_rejected(model: type[RetrySettings], data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        RetrySettings().max_attempts = 5  # type: ignore[misc]


def test_redis_url_is_secret_and_empty_means_off() -> None:
    settings = RedisSettings(url="redis://:hunter2@127.0.0.1:6379/0")
    assert settings.enabled and "hunter2" not in repr(settings)
    assert not RedisSettings(url="").enabled
