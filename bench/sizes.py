"""How big a run is: `full` for docs/benchmarks.md, `tiny` for CI (well under a minute)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Size:
    name: str
    duration: int  # seconds per measured run (wrk counts whole seconds)
    repeats: int  # runs per (target, concurrency), interleaved; the median run is reported
    concurrencies: tuple[int, ...]  # closed-loop connections for scenarios 1 and 2
    worker_concurrencies: tuple[int, ...]  # scenario 6
    anchor_requests: int  # scenario 1's published anchor setup: this many at concurrency 10
    pollers: int  # scenario 3: concurrent pollers of one running job
    poll_seconds: int  # scenario 3: how long they poll
    running_ttl: float  # scenario 3: the cache's running_ttl (the TTL window)
    cached_jobs: int  # scenario 4: distinct cached jobs
    library_calls: int  # scenario 5: calls per case
    profile_seconds: int  # py-spy sampling per profiled target (0: no profile)
    variants: bool  # also run the gateway with its access log off (scenarios 1 and 2)
    warmup_requests: int  # untimed requests per target before its first measured run
    time_limit: int  # seconds: the whole run is stopped (and cleaned up) past this
    # A shared machine: a run during which other processes used more than `quiet_cores`
    # is run again (up to `retries` times, after waiting up to `quiet_wait` s for quiet) while
    # the whole run has spent under `retry_budget` s on such re-runs, waits included; past it,
    # runs are kept as measured and the report says so (0: no re-runs).
    quiet_cores: float = 0.25
    quiet_wait: float = 0.0
    retries: int = 0
    retry_budget: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


FULL = Size(
    name="full",
    duration=5,
    repeats=3,
    concurrencies=(1, 10, 64),
    worker_concurrencies=(10, 64),
    anchor_requests=8_000,
    pollers=1_000,
    poll_seconds=20,
    running_ttl=2.0,
    cached_jobs=100_000,
    library_calls=20_000,
    profile_seconds=15,
    variants=True,
    warmup_requests=300,
    time_limit=3_600,
    # The 2,351 s full run spent about 1,200 s re-running disturbed runs and waiting for
    # quiet (up to 60 s per wait, 3 re-runs per run): now at most 15 s per wait and 300 s in
    # all, which keeps a full run near 17 min undisturbed and under ~23 min on a busy machine.
    quiet_wait=15.0,
    retries=2,
    retry_budget=300.0,
)

TINY = Size(
    name="tiny",
    duration=1,
    repeats=1,
    concurrencies=(1, 64),  # the anchor run covers 10
    worker_concurrencies=(64,),
    anchor_requests=500,
    pollers=100,
    poll_seconds=2,
    running_ttl=0.5,
    cached_jobs=300,
    library_calls=200,
    profile_seconds=0,
    variants=False,
    warmup_requests=60,
    time_limit=120,
)

SIZES = {s.name: s for s in (FULL, TINY)}
