"""Cache hits reuse what was derived from the cached object (gateway.memo), never a stale or
another object's result."""

from __future__ import annotations

from gateway import AsyncGateway
from gateway.memo import IdentityMemo


class Thing:
    def __init__(self, n: int) -> None:
        self.n = n


def test_a_result_is_made_once_per_object_and_never_given_to_an_equal_other() -> None:
    made: list[int] = []
    memo: IdentityMemo[Thing, int] = IdentityMemo(2)

    def make(thing: Thing) -> int:
        made.append(thing.n)
        return thing.n * 10

    a, b, c = Thing(1), Thing(1), Thing(3)
    assert memo.get(a, make) == 10
    assert memo.get(a, make) == 10
    assert memo.get(b, make) == 10  # equal value, another object: made again
    assert made == [1, 1]
    assert memo.get(c, make) == 30  # past the size: the oldest (a) goes
    assert len(memo) == 2
    assert memo.get(a, make) == 10
    assert made == [1, 1, 3, 1]


async def test_hits_answer_the_same_job_without_raw_and_include_raw_still_has_it() -> None:
    config = {"backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}}}
    async with AsyncGateway(config) as gw:
        job_id = "ls~mmlu~eval-completed"
        miss = await gw.fetch_job(job_id)
        first = await gw.fetch_job(job_id)
        second = await gw.fetch_job(job_id)
        with_raw = await gw.fetch_job(job_id, include_raw=True)
        after_raw = await gw.fetch_job(job_id)
    assert first.cache.value == "hit"
    assert miss.value.raw is None and first.value.raw is None
    assert first.value is second.value is after_raw.value  # one copy for every hit
    assert first.value == miss.value
    assert with_raw.value.raw is not None
