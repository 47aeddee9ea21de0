"""Waiting and watching in the library: wait(), the long-poll and shared watch pollers.

Jobs run on in-process simulators with a frozen clock that the tests advance, so every
transition is deterministic; the cache keeps running jobs for 0 s, so each poll is one vendor
call the simulator counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from gateway import AsyncGateway, Gateway, JobNotFound, JobNotReady, JobStatus, config_from_dict
from gateway.errors import UpstreamUnavailable
from gateway.ids import format_job_id
from gateway.simulators import Fault, SimState, Stage, vendor_sim
from gateway.watch import (
    EventId,
    JobEvent,
    JobWatcher,
    WaitTimedOut,
    WatcherClosed,
    iterate_blocking,
)
from gateway.watch.events import state_digest

BACKEND = "ls"
LIFECYCLE = (Stage("scheduled", 10), Stage("in_progress", 10), Stage("completed"))
FAST = {"poll_initial": 0.01, "poll_max": 0.03}


def config() -> dict[str, object]:
    return {
        "backends": {
            BACKEND: {
                "vendor": "llama-stack",
                "base_url": "sim://llama-stack",
                "cache": {"running_ttl": 0},
            },
            "ls2": {"vendor": "llama-stack", "base_url": "sim://llama-stack"},
        }
    }


@pytest.fixture
async def gw() -> AsyncIterator[AsyncGateway]:
    async with AsyncGateway(config_from_dict(config())) as gateway:
        gateway.simulator(BACKEND).clock.freeze()
        yield gateway


@pytest.fixture
async def watcher(gw: AsyncGateway) -> AsyncIterator[JobWatcher]:
    w = JobWatcher(gw, linger=0.05, **FAST)
    yield w
    await w.aclose()


def sim(gw: AsyncGateway) -> SimState:
    return gw.simulator(BACKEND)


def new_job(gw: AsyncGateway, *stages: Stage) -> str:
    vs = vendor_sim("llama-stack")
    job = vs.new_job(sim(gw), list(stages or LIFECYCLE), {})
    return format_job_id(BACKEND, *vs.id_parts(job))


def reads(gw: AsyncGateway) -> int:
    """GETs of single jobs the simulator served."""
    return sum(
        n for k, n in sim(gw).requests.items() if k.startswith("GET ") and "/eval/benchmarks/" in k
    )


async def advance_when_polled(gw: AsyncGateway, seconds: float, polls: int = 2) -> None:
    """Let the watchers see the current state (a few more vendor reads), then move time."""
    target = reads(gw) + polls
    deadline = time.monotonic() + 5
    while reads(gw) < target:
        assert time.monotonic() < deadline, "nobody polled"
        await asyncio.sleep(0.005)
    sim(gw).clock.advance(seconds)


async def collect(stream: AsyncIterator[JobEvent]) -> list[JobEvent]:
    return [event async for event in stream]


# -- wait ----------------------------------------------------------------------------------------


async def test_wait_returns_the_terminal_job(gw: AsyncGateway, watcher: JobWatcher) -> None:
    job_id = new_job(gw)
    waiting = asyncio.create_task(watcher.wait(job_id, 5, **FAST))
    await advance_when_polled(gw, 10)
    await advance_when_polled(gw, 10)
    job = await waiting
    assert (job.id, job.status, job.terminal, job.raw) == (job_id, JobStatus.SUCCEEDED, True, None)


async def test_wait_backs_off_politely(gw: AsyncGateway, watcher: JobWatcher) -> None:
    job_id = new_job(gw, Stage("in_progress"))
    before = reads(gw)
    with pytest.raises(WaitTimedOut):
        await watcher.wait(job_id, 1.0, poll_initial=0.05, poll_max=0.3)
    # 0.05, 0.075, 0.11, 0.17, 0.25, 0.3, 0.3 ... over 1 s: about 7 reads, never 20 (0.05 s).
    assert 5 <= reads(gw) - before <= 9


async def test_wait_times_out_with_a_typed_job_not_ready(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw, Stage("in_progress"))
    began = time.monotonic()
    with pytest.raises(WaitTimedOut) as caught:
        await watcher.wait(job_id, 0.3, **FAST)
    assert 0.3 <= time.monotonic() - began < 1.0
    assert isinstance(caught.value, JobNotReady)
    problem = caught.value.problem()
    assert (problem.status, problem.slug, problem.job_status) == (409, "job-not-ready", "running")
    assert problem.job_id == job_id and problem.backend == BACKEND and problem.retryable


async def test_wait_raises_at_once_for_a_job_that_does_not_exist(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    began = time.monotonic()
    with pytest.raises(JobNotFound):
        await watcher.wait(format_job_id(BACKEND, "mmlu", "nope"), 5, **FAST)
    assert time.monotonic() - began < 1.0


async def test_wait_rides_out_a_passing_vendor_failure(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw, Stage("in_progress", 10), Stage("completed"))
    await gw.get_job(job_id)
    # More 503s in a row than the guard retries: one read fails as a whole.
    sim(gw).arm(Fault("server_error", remaining=6, status=503))
    waiting = asyncio.create_task(watcher.wait(job_id, 5, **FAST))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    sim(gw).clock.advance(10)
    assert (await waiting).status is JobStatus.SUCCEEDED


def test_wait_refuses_nonsense_intervals() -> None:
    with pytest.raises(ValueError, match="poll_initial"):
        JobWatcher(None, poll_initial=2, poll_max=1)  # type: ignore[arg-type]


# -- the long-poll -------------------------------------------------------------------------------


async def test_wait_for_change_returns_as_soon_as_the_status_changes(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    waiting = asyncio.create_task(watcher.wait_for_change(job_id, 5))
    await advance_when_polled(gw, 10)
    began = time.monotonic()
    job = await waiting
    assert job.status is JobStatus.RUNNING and time.monotonic() - began < 0.5


async def test_wait_for_change_answers_the_current_job_at_the_timeout(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    began = time.monotonic()
    job = await watcher.wait_for_change(job_id, 0.3)
    assert 0.3 <= time.monotonic() - began < 0.8
    assert job.status is JobStatus.QUEUED


async def test_wait_for_change_on_a_terminal_job_answers_at_once(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw, Stage("completed"))
    began = time.monotonic()
    assert (await watcher.wait_for_change(job_id, 5)).status is JobStatus.SUCCEEDED
    assert time.monotonic() - began < 0.5


async def test_wait_for_change_raises_the_problem_of_an_unreadable_job(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    with pytest.raises(JobNotFound):
        await watcher.wait_for_change(format_job_id(BACKEND, "mmlu", "nope"), 5)
    assert watcher.stats().pollers == 0


# -- watch ---------------------------------------------------------------------------------------


async def test_watch_yields_every_transition_in_order_then_ends(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    watching = asyncio.create_task(collect(watcher.watch(job_id)))
    await advance_when_polled(gw, 10)
    await advance_when_polled(gw, 10)
    events = await watching
    assert [e.job.status for e in events] == [
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
    ]
    assert [EventId.parse(e.id).seq for e in events] == [1, 2, 3]  # type: ignore[union-attr]
    assert all(e.job.raw is None for e in events) and events[-1].terminal
    assert len({EventId.parse(e.id).epoch for e in events}) == 1  # type: ignore[union-attr]


async def test_many_watchers_of_one_job_share_one_poller(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    before = reads(gw)
    watchers = [asyncio.create_task(collect(watcher.watch(job_id))) for _ in range(200)]
    await advance_when_polled(gw, 10)
    stats = watcher.stats()
    assert (stats.pollers, stats.subscribers) == (1, 200)
    await advance_when_polled(gw, 10)
    results = await asyncio.gather(*watchers)
    assert all(
        [e.job.status for e in r] == [r[0].job.status, JobStatus.RUNNING, JobStatus.SUCCEEDED]
        for r in results
    )
    assert {tuple(e.id for e in r) for r in results} == {tuple(e.id for e in results[0])}
    # One poller: the vendor saw one read per poll, not one per watcher per poll.
    assert reads(gw) - before == watcher.stats().polls
    assert watcher.stats().pollers == 0


async def test_watchers_of_different_tenants_do_not_share(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    a, b = watcher.watch(job_id, tenant="a"), watcher.watch(job_id, tenant="b")
    await a.__anext__()
    await b.__anext__()
    assert watcher.stats().pollers == 2
    await a.aclose()
    await b.aclose()


async def test_resume_on_the_same_poller_replays_what_was_missed(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    keeper = watcher.watch(job_id)  # keeps the poller (and its history) alive
    first = await keeper.__anext__()
    await advance_when_polled(gw, 10)
    await keeper.__anext__()
    resumed = await collect_until_terminal(watcher, job_id, first.id, gw)
    assert [e.job.status for e in resumed] == [JobStatus.RUNNING, JobStatus.SUCCEEDED]
    await keeper.aclose()


async def collect_until_terminal(
    watcher: JobWatcher, job_id: str, last_event_id: str, gw: AsyncGateway
) -> list[JobEvent]:
    stream = watcher.watch(job_id, last_event_id=last_event_id)
    events = [await stream.__anext__()]
    await advance_when_polled(gw, 10)
    events += await collect(stream)
    return events


async def test_resume_elsewhere_skips_the_state_the_client_has(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    job = await gw.get_job(job_id)
    # An id from another poller (another replica, or before a reload) with the same state.
    elsewhere = str(EventId("0badcafe", 7, state_digest(job)))
    stream = watcher.watch(job_id, last_event_id=elsewhere)
    nxt = asyncio.create_task(stream.__anext__())
    await advance_when_polled(gw, 10)
    assert (await nxt).job.status is JobStatus.RUNNING  # not a repeat of "queued"
    await stream.aclose()


async def test_resume_after_the_terminal_event_yields_nothing(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw, Stage("completed"))
    (last,) = await collect(watcher.watch(job_id))
    assert await collect(watcher.watch(job_id, last_event_id=last.id)) == []
    other = str(EventId("0badcafe", 1, state_digest(last.job)))
    assert await collect(watcher.watch(job_id, last_event_id=other)) == []


@pytest.mark.parametrize("junk", ["", "x", "1.2", "a.b.c", "zz.1.ff", "ab." * 40, "ab.-1.cd"])
async def test_a_foreign_last_event_id_means_no_resume(
    gw: AsyncGateway, watcher: JobWatcher, junk: str
) -> None:
    assert EventId.parse(junk) is None
    job_id = new_job(gw, Stage("completed"))
    assert len(await collect(watcher.watch(job_id, last_event_id=junk))) == 1


async def test_a_poller_stops_once_nobody_watches(gw: AsyncGateway, watcher: JobWatcher) -> None:
    job_id = new_job(gw)
    stream = watcher.watch(job_id)
    await stream.__anext__()
    assert watcher.stats().pollers == 1
    await stream.aclose()
    await asyncio.sleep(0.3)  # linger is 0.05 s
    assert watcher.stats().pollers == 0
    polls = watcher.stats().polls
    await asyncio.sleep(0.1)
    assert watcher.stats().polls == polls


async def test_an_abandoned_watch_is_released_when_collected(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    job_id = new_job(gw)
    stream = watcher.watch(job_id)
    await stream.__anext__()
    del stream
    await asyncio.sleep(0.3)
    assert watcher.stats().pollers == 0


async def test_a_job_that_cannot_be_read_ends_every_watch_with_its_problem(
    gw: AsyncGateway, watcher: JobWatcher
) -> None:
    missing = format_job_id(BACKEND, "mmlu", "nope")
    streams = [watcher.watch(missing) for _ in range(3)]
    for stream in streams:
        with pytest.raises(JobNotFound):
            await stream.__anext__()
    assert watcher.stats().pollers == 0


async def test_history_and_pollers_are_bounded(gw: AsyncGateway) -> None:
    small = JobWatcher(gw, history=2, max_pollers=2, linger=0.05, **FAST)
    try:
        job_id = new_job(gw)
        keeper = small.watch(job_id)
        first = await keeper.__anext__()
        poller = small.pollers.current(job_id, None)
        assert poller is not None
        for i in range(1, 6):  # progress updates, as some vendors report them
            assert poller.publish(first.job.model_copy(update={"progress": i / 10}))
        assert [e.seq for e in poller.events] == [5, 6]  # only the last two are kept
        late = small.watch(job_id, last_event_id=first.id)  # missed more than is kept
        assert [(await late.__anext__()).seq, (await late.__anext__()).seq] == [5, 6]
        await late.aclose()
        others = [small.watch(new_job(gw)) for _ in range(2)]
        await others[0].__anext__()
        with pytest.raises(UpstreamUnavailable, match="watching 2 jobs"):
            await others[1].__anext__()
    finally:
        await small.aclose()


async def test_aclose_ends_every_watch_and_leaves_no_task(gw: AsyncGateway) -> None:
    w = JobWatcher(gw, **FAST)
    job_id = new_job(gw)
    stream = w.watch(job_id)
    await stream.__anext__()
    pending = asyncio.create_task(stream.__anext__())
    await asyncio.sleep(0.05)
    tasks_before = {t for t in asyncio.all_tasks() if t.get_name().startswith("watch ")}
    assert tasks_before
    await w.aclose()
    with pytest.raises(WatcherClosed):
        await pending
    assert all(t.done() for t in tasks_before)
    with pytest.raises(WatcherClosed):
        await w.watch(job_id).__anext__()


async def test_a_long_poll_answers_early_when_the_watcher_closes(gw: AsyncGateway) -> None:
    w = JobWatcher(gw, **FAST)
    job_id = new_job(gw)
    waiting = asyncio.create_task(w.wait_for_change(job_id, 30))
    await asyncio.sleep(0.1)
    await w.aclose()
    job = await asyncio.wait_for(waiting, 1)
    assert job.status is JobStatus.QUEUED


# -- the blocking twin ---------------------------------------------------------------------------


def test_the_sync_gateway_waits_and_watches() -> None:
    with Gateway(config_from_dict(config())) as gw:
        vs = vendor_sim("llama-stack")
        stages = [Stage("scheduled", 0.3), Stage("in_progress", 0.3), Stage("completed")]
        job = vs.new_job(gw.simulator(BACKEND), stages, {})
        job_id = format_job_id(BACKEND, *vs.id_parts(job))
        done = gw.wait(job_id, 10)
        assert done.status is JobStatus.SUCCEEDED
        running = vs.new_job(gw.simulator(BACKEND), [Stage("in_progress")], {})
        with pytest.raises(WaitTimedOut):
            gw.wait(format_job_id(BACKEND, *vs.id_parts(running)), 0.2)
        events = list(iterate_blocking(gw._portal, gw._gateway.watch(job_id)))
        assert [e.job.status for e in events] == [JobStatus.SUCCEEDED]


def test_iterate_blocking_closes_the_watch_when_left_early() -> None:
    with Gateway(config_from_dict(config())) as gw:
        inner = gw._gateway
        vs = vendor_sim("llama-stack")
        job = vs.new_job(gw.simulator(BACKEND), [Stage("in_progress")], {})
        job_id = format_job_id(BACKEND, *vs.id_parts(job))
        watcher = JobWatcher(inner, **FAST)
        events = iterate_blocking(gw._portal, watcher.watch(job_id))
        assert next(events).job.status is JobStatus.RUNNING
        events.close()
        assert gw._portal.call(lambda: _subscribers(watcher)) == 0
        gw._portal.call(watcher.aclose)


async def _subscribers(watcher: JobWatcher) -> int:
    return watcher.stats().subscribers
