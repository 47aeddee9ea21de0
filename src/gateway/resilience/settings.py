"""Config models of the resilience layer (strict, frozen: same rules as gateway.config).

Per backend: `retry`, `breaker` and `cache`; once for the gateway: `redis`. Every key has a
default, so a config without these sections gets the behaviour documented here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(_Strict):
    """One retry layer around each adapter call (tenacity; httpx's own retries stay off)."""

    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per call, the first included")
    deadline: float | None = Field(
        None,
        gt=0,
        description="Seconds for a whole call, retries and waits included; "
        "null: the backend's timeouts.total",
    )
    backoff_initial: float = Field(
        0.2, gt=0, description="Backoff ceiling before the 2nd attempt (full jitter: 0..ceiling)"
    )
    backoff_max: float = Field(5.0, gt=0, description="Largest backoff ceiling")
    max_retry_after: float = Field(
        10.0,
        ge=0,
        description="Honour a vendor's Retry-After up to this many seconds; a longer one ends "
        "the retries and is passed on to the caller",
    )
    retry_statuses: frozenset[int] = Field(
        frozenset({408, 429, 502, 503, 504}),
        description="Vendor HTTP statuses worth retrying (connection errors and timeouts always "
        "are); other 4xx never are",
    )
    retry_invalid_response: bool = Field(
        True, description="Retry a body we cannot read (truncated or not JSON)"
    )
    submit_idempotent: bool = Field(
        False, description="Retry job submissions: only if the vendor deduplicates them"
    )
    budget_ratio: float = Field(
        0.2, ge=0, le=1, description="Retries allowed as a share of calls over budget_window"
    )
    budget_window: float = Field(10.0, gt=0, description="Seconds the retry budget looks back")
    budget_min_retries: int = Field(
        10, ge=0, description="Retries always allowed per window, so quiet backends still retry"
    )

    @field_validator("retry_statuses")
    @classmethod
    def _statuses_are_retryable(cls, value: frozenset[int]) -> frozenset[int]:
        bad = sorted(s for s in value if not (s in (408, 413, 429) or 500 <= s <= 599))
        if bad:
            raise ValueError(f"only 408, 413, 429 and 5xx may be retried; got {bad}")
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> RetrySettings:
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must be at least backoff_initial")
        return self


class BreakerSettings(_Strict):
    """A circuit breaker per backend: fail fast while the vendor is down."""

    enabled: bool = True
    consecutive_failures: int = Field(
        5, ge=1, description="Open after this many failed calls in a row"
    )
    failure_ratio: float = Field(
        0.5, gt=0, le=1, description="...or when this share of calls in `window` failed"
    )
    min_calls: int = Field(20, ge=1, description="Calls in `window` before the ratio counts")
    window: float = Field(30.0, gt=0, description="Seconds of history for failure_ratio")
    open_for: float = Field(15.0, gt=0, description="Seconds open before a half-open probe")
    half_open_probes: int = Field(1, ge=1, description="Concurrent probe calls when half-open")


class CacheSettings(_Strict):
    """Caching built for polling: status-aware TTLs, coalescing, stale-if-error."""

    enabled: bool = True
    running_ttl: float = Field(
        2.0, ge=0, description="Seconds a non-terminal job is served from cache"
    )
    terminal_ttl: float = Field(
        3600.0, ge=0, description="Seconds a terminal (immutable) job is served from cache"
    )
    result_ttl: float = Field(3600.0, ge=0, description="Seconds a result is served from cache")
    list_ttl: float = Field(0.0, ge=0, description="Seconds a list page is cached (0: never)")
    stale_if_error: float = Field(
        120.0,
        ge=0,
        description="Seconds past freshness a cached job may still be served, marked stale, "
        "when the vendor fails (0: never)",
    )
    max_entries: int = Field(10_000, ge=1, description="Entries kept in memory per backend")


class RedisSettings(_Strict):
    """Shared state for many replicas; null url: each replica keeps its own state."""

    url: SecretStr | None = Field(
        None, description="redis://[:password@]host:port/db, rediss://... or unix://...; null/''"
    )
    key_prefix: str = Field("eval-gateway:", description="Prefix of every key the gateway writes")
    socket_timeout: float = Field(
        0.25, gt=0, description="Seconds per Redis command before falling back to local state"
    )
    connect_timeout: float = Field(0.25, gt=0, description="Seconds to connect to Redis")
    retry_interval: float = Field(
        2.0, gt=0, description="After a Redis failure, seconds on local state before trying again"
    )
    lock_poll_interval: float = Field(
        0.02, gt=0, description="First poll interval while another replica fetches (grows x1.5)"
    )
    max_connections: int = Field(50, ge=1, description="Redis connection pool size per replica")

    @field_validator("url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # `url: ${REDIS_URL}` with REDIS_URL="" turns Redis off instead of failing.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = value.get_secret_value().split("://", 1)[0]
            if scheme not in ("redis", "rediss", "unix"):
                raise ValueError("url must start with redis://, rediss:// or unix://")
        return value

    @property
    def enabled(self) -> bool:
        return self.url is not None
