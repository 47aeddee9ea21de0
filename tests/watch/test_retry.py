"""The shared watcher rides out a failing vendor (issue 11, item 6, library side): a retryable
problem (5xx, timeout, rate limit, open circuit), before the first answer as after it, keeps the
wait or watch polling with backoff until the caller's own timeout; a problem that will not pass
(job-not-found...) ends it at once. In-process simulators with a frozen clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway import AsyncGateway, Gateway, JobNotFound, JobStatus, config_from_dict
from gateway.errors import GatewayError
from gateway.ids import format_job_id
from gateway.simulators import Fault, SimState, Stage, vendor_sim
from gateway.watch import JobWatcher, StillFailing, WaitTimedOut

BACKEND = "ls"
FAST: dict[str, Any] = {"poll_initial": 0.01, "poll_max": 0.03}
# More 503s in a row than the resilience guard retries per read: several reads fail whole.
BURST = 12


def config() -> dict[str, object]:
    return {
        "backends": {
            BACKEND: {
                "vendor": "llama-stack",
                "base_url": "sim://llama-stack",
                "cache": {"enabled": False},
                "breaker": {"enabled": False},  # only the watcher's own backoff here
            }
        }
    }


@pytest.fixture
async def gw() -> AsyncIterator[AsyncGateway]:
    async with AsyncGateway(config_from_dict(config())) as gateway:
        yield gateway


@pytest.fixture
async def watcher(gw: AsyncGateway) -> AsyncIterator[JobWatcher]:
    w = JobWatcher(gw, linger=0.05, **FAST)
    yield w
    await w.aclose()


def sim(gw: AsyncGateway) -> SimState:
    return gw.simulator(BACKEND)


def finished_job(gw: AsyncGateway) -> str:
    vs = vendor_sim("llama-stack")
    job = vs.new_job(sim(gw), [Stage("completed")], {})
    return format_job_id(BACKEND, *vs.id_parts(job))


async def test_wait_through_a_fault_burst_before_the_first_answer_ends_with_the_job(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = finished_job(gw)
    sim(gw).arm(Fault("server_error", remaining=BURST, status=503))
    job = await watcher.wait(job_id, 20, **FAST)
    assert job.status is JobStatus.SUCCEEDED


def test_sync_gateway_wait_rides_out_a_fault_burst() -> None:
    with Gateway(config_from_dict(config())) as gateway:
        job_id = finished_job(gateway._gateway)
        sim(gateway._gateway).arm(Fault("server_error", remaining=BURST, status=503))
        assert gateway.wait(job_id, 30).status is JobStatus.SUCCEEDED


async def test_watch_through_a_fault_burst_before_the_first_answer_yields_the_job(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = finished_job(gw)
    sim(gw).arm(Fault("server_error", remaining=BURST, status=503))
    async with watcher.watch(job_id) as stream:
        seen = [event.job.status async for event in stream]
    assert seen == [JobStatus.SUCCEEDED]


async def test_a_watch_that_asks_for_problems_is_told_and_goes_on(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = finished_job(gw)
    sim(gw).arm(Fault("server_error", remaining=BURST, status=503))
    told: list[GatewayError] = []
    async with watcher.watch(job_id, report_problems=True) as stream:
        while True:
            try:
                event = await stream.__anext__()
            except StillFailing as exc:
                told.append(exc.problem)
                continue
            except StopAsyncIteration:
                break
            assert event.job.status is JobStatus.SUCCEEDED
    assert told and all(exc.retryable for exc in told)


async def test_wait_for_change_rides_out_a_fault_burst(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = finished_job(gw)
    sim(gw).arm(Fault("server_error", remaining=BURST, status=503))
    assert (await watcher.wait_for_change(job_id, 20)).status is JobStatus.SUCCEEDED


async def test_wait_gives_up_at_its_own_timeout_while_the_vendor_keeps_failing(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = finished_job(gw)
    sim(gw).arm(Fault("server_error", remaining=10_000, status=503))
    began = time.monotonic()
    with pytest.raises(GatewayError) as caught:  # never read: the vendor's own problem
        await watcher.wait(job_id, 0.5, **FAST)
    assert caught.value.retryable and not isinstance(caught.value, WaitTimedOut)
    assert 0.5 <= time.monotonic() - began < 3


async def test_a_missing_job_still_ends_wait_and_watch_at_once(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    missing = format_job_id(BACKEND, "mmlu", "nope")
    began = time.monotonic()
    with pytest.raises(JobNotFound):
        await watcher.wait(missing, 20, **FAST)
    with pytest.raises(JobNotFound):
        await watcher.watch(missing, report_problems=True).__anext__()
    assert time.monotonic() - began < 1.0
