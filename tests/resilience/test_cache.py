"""TTL policy, keys, the bounded local cache, invalidation, the Redis codec and Cache-Status."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.contract import Operation
from gateway.errors import JobNotFound, UpstreamUnavailable
from gateway.resilience import CacheKey, CacheSettings, CacheStatus, ManualClock, Outcome, TtlPolicy
from gateway.resilience.cache import CacheEntry, LocalCache, mark_stale
from gateway.resilience.codec import decode_entry, decode_error, encode_entry, encode_error
from gateway.schemas import JobStatus
from tests.resilience.fakes import make_job, make_listed, make_result

POLICY = TtlPolicy(CacheSettings())


@pytest.mark.parametrize(
    ("operation", "value", "seconds"),
    [
        (Operation.GET_JOB, make_job(JobStatus.RUNNING), 2.0),
        (Operation.GET_JOB, make_job(JobStatus.UNKNOWN), 2.0),
        (Operation.GET_JOB, make_job(JobStatus.CANCELLING), 2.0),
        (Operation.GET_JOB, make_job(JobStatus.SUCCEEDED), 3600.0),
        (Operation.GET_JOB, make_job(JobStatus.FAILED), 3600.0),
        (Operation.GET_RESULT, make_result(), 3600.0),
        (Operation.LIST, make_listed(make_job()), 0.0),
        (Operation.CANCEL, make_job(JobStatus.CANCELLING), 0.0),
        (Operation.SUBMIT, make_job(), 0.0),
    ],
)
def test_ttls_follow_the_status(operation: Operation, value: Any, seconds: float) -> None:
    assert POLICY.fresh_seconds(operation, value) == seconds


def test_terminal_answers_are_immutable_and_entries_keep_the_stale_bound() -> None:
    policy = TtlPolicy(CacheSettings(stale_if_error=30))
    entry = policy.entry(Operation.GET_JOB, make_job(), fetched_at=99.0, now=100.0)
    assert entry is not None and not entry.immutable
    assert (entry.fresh_until, entry.keep_until) == (102.0, 132.0)
    assert policy.is_immutable(Operation.GET_JOB, make_job(JobStatus.SUCCEEDED))
    assert policy.entry(Operation.LIST, make_listed(), 0.0, 0.0) is None
    assert TtlPolicy(CacheSettings(enabled=False)).fresh_seconds(Operation.GET_JOB, make_job()) == 0


def test_keys_are_scoped_and_cannot_be_forged() -> None:
    a = CacheKey("b", "team:a", Operation.GET_JOB, "b~1")
    b = CacheKey("b", "team", Operation.GET_JOB, "a:b~1")
    assert a.path() != b.path() and ":" not in a.path().split(":")[1]
    assert CacheKey("b", None, Operation.LIST, "q").job is None
    assert a.job == ("b", "b~1")


def entry_at(clock: ManualClock, seconds: float = 2.0, **kw: Any) -> CacheEntry[Any]:
    now = clock.time()
    return CacheEntry(make_job(), now, now + seconds, now + seconds + 10, False, **kw)


def test_local_entries_live_until_their_stale_bound_and_memory_is_bounded() -> None:
    clock = ManualClock()
    cache = LocalCache(max_entries=3, marker_seconds=60, clock=clock)
    keys = [CacheKey("b", None, Operation.GET_JOB, f"b~{i}") for i in range(4)]
    for key in keys[:3]:
        cache.put(key, entry_at(clock))
    clock.advance(5)  # past fresh, within the stale bound: still kept
    assert cache.get(keys[0]) is not None
    cache.put(keys[3], entry_at(clock))
    assert len(cache) == 3 and cache.get(keys[1]) is None  # least recently used went
    clock.advance(8)
    assert cache.get(keys[0]) is None  # past the stale bound


def test_a_cancel_hides_every_tenants_older_entries() -> None:
    clock = ManualClock()
    cache = LocalCache(max_entries=10, marker_seconds=60, clock=clock)
    mine = CacheKey("b", "a", Operation.GET_JOB, "b~1")
    theirs = CacheKey("b", "z", Operation.GET_RESULT, "b~1")
    other_job = CacheKey("b", "a", Operation.GET_JOB, "b~2")
    for key in (mine, theirs, other_job):
        cache.put(key, entry_at(clock))
    clock.advance(0.5)
    cache.invalidate(("b", "b~1"), clock.time())
    assert cache.get(mine) is None and cache.get(theirs) is None
    assert cache.get(other_job) is not None
    clock.advance(0.5)
    cache.put(mine, entry_at(clock))  # fetched after the cancel
    assert cache.get(mine) is not None


@pytest.mark.parametrize(
    "value",
    [make_job(progress=0.5), make_job(JobStatus.SUCCEEDED), make_result(), make_listed(make_job())],
)
def test_entries_round_trip_through_the_codec(value: Any) -> None:
    entry = CacheEntry(value, 1.0, 3.0, 10.0, True)
    data = encode_entry(entry)
    assert data is not None
    assert decode_entry(data) == entry


def test_unreadable_or_foreign_entries_are_misses() -> None:
    assert encode_entry(CacheEntry({"not": "canonical"}, 1.0, 2.0, 3.0, False)) is None
    for raw in (b"not json", b"{}", b'{"format": 99}', b'{"format": 1, "kind": "job"}', None):
        assert decode_entry(raw) is None


def test_a_shared_problem_is_read_back_only_for_its_own_fetch() -> None:
    error = JobNotFound("gone", vendor_status_code=404, attempts=1, backend="b")
    data = encode_error(error, "flight-1")
    again = decode_error(data, "flight-1")
    assert isinstance(again, JobNotFound) and again.vendor_status_code == 404
    assert decode_error(data, "flight-2") is None and decode_error(b"junk", "flight-1") is None


def test_stale_values_are_marked() -> None:
    assert mark_stale(make_job()).stale
    assert all(job.stale for job in mark_stale(make_listed(make_job(), make_job())).jobs)
    assert mark_stale(make_result()) == make_result()


@pytest.mark.parametrize(
    ("outcome", "headers"),
    [
        (
            Outcome(1, CacheStatus.HIT, age=3.7, ttl=1.2),
            {"Cache-Status": "eval-gateway; hit; ttl=1", "Age": "3"},
        ),
        (
            Outcome(1, CacheStatus.MISS, stored=True),
            {"Cache-Status": "eval-gateway; fwd=uri-miss; stored"},
        ),
        (Outcome(1, CacheStatus.BYPASS), {"Cache-Status": "eval-gateway; fwd=request"}),
        (
            Outcome(1, CacheStatus.COALESCED),
            {"Cache-Status": "eval-gateway; fwd=uri-miss; collapsed"},
        ),
        (
            Outcome(1, CacheStatus.STALE, age=12.0, error=UpstreamUnavailable("down")),
            {
                "Cache-Status": 'eval-gateway; fwd=stale; fwd-status=503; detail="stale-if-error"',
                "Age": "12",
            },
        ),
        (Outcome(1, CacheStatus.UNCACHED), {}),
    ],
)
def test_outcome_headers(outcome: Outcome[int], headers: dict[str, str]) -> None:
    assert outcome.headers() == headers
