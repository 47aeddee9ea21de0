"""Many pollers, one vendor call per TTL window: real `eval-gateway serve` replicas, a real
standalone simulator and a real redis-server.

What a user relies on: however many internal services poll one running job, and however
many gateway replicas they are spread over, the vendor sees one call per cache window; and
when Redis dies under load the replicas keep answering on local state, none of them fails a
request, and /readyz says `shared_state: degraded` until Redis is back.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.conftest import RedisServer
from tests.resilience.e2e import (
    Poller,
    create_running_job,
    gateway_config,
    job_path_suffix,
    llama_backend,
    metric,
    readyz,
    sim_status,
    summary,
    vendor_calls,
)
from tests.server.proc import Proc, gateway, simulator, write_config

POLLERS = 1000  # concurrent identical polls per burst
RUNNING_TTL = 2.0  # the default: how long a running job is served from cache
# Redis timeouts count the time a replica's event loop is busy with other requests. Here a
# burst of 1000 polls, two replicas, the simulator, Redis and the test share two cores: the
# loop lags for about as long as the burst lasts (0.5-2 s), so with the default 0.25 s a
# healthy Redis is taken for a failed one and each replica falls back to its own state.
REDIS_TIMEOUTS = {"socket_timeout": 5.0, "connect_timeout": 5.0}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """One standalone Llama Stack simulator; each test polls a job of its own on it."""
    with simulator(tmp_path_factory.mktemp("e2e-sim"), "llama-stack") as proc:
        yield proc


@contextmanager
def replicas(workdir: Path, count: int, config: dict[str, Any]) -> Iterator[list[Proc]]:
    """`count` gateway processes on one config file (replicas behind a load balancer),
    started side by side."""
    path = write_config(workdir / "gateway.yaml", config)
    with ExitStack() as stack, ThreadPoolExecutor(count) as pool:
        started = [pool.submit(stack.enter_context, gateway(workdir, path)) for _ in range(count)]
        yield [future.result() for future in started]


def windows(seconds: float, ttl: float) -> int:
    """TTL windows a burst of `seconds` can touch: the most vendor calls it may cost."""
    return 1 + int(seconds // ttl)


async def poll_in_windows(
    procs: list[Proc], sim_url: str, job_id: str, rounds: int
) -> tuple[list[int], list[float], list[Any]]:
    """Bursts of POLLERS identical polls, each after the previous one's window expired.
    Returns (vendor calls after each burst, burst durations, answers of each burst)."""
    suffix = job_path_suffix(job_id)
    calls, durations, bursts = [], [], []
    poller = Poller([p.url for p in procs])
    for round_ in range(rounds):
        if round_:
            await asyncio.sleep(RUNNING_TTL)  # the first window is over
        answers, seconds = await poller.burst(f"/v1/jobs/{job_id}", POLLERS)
        calls.append(vendor_calls(sim_url, suffix))
        durations.append(seconds)
        bursts.append(answers)
    return calls, durations, bursts


def check_bursts(calls: list[int], durations: list[float], bursts: list[Any], status: str) -> None:
    for round_, answers in enumerate(bursts):
        info = {"calls": calls, "durations": durations, **summary(answers)}
        assert all(a.status == 200 for a in answers), info
        assert all(a.job_status == status and not a.stale for a in answers), info
        new_calls = calls[round_] - (calls[round_ - 1] if round_ else 0)
        assert 1 <= new_calls <= windows(durations[round_], RUNNING_TTL), info
        # Cache-Status tells the same story as the vendor's count: one answer per vendor
        # call was fetched, every other one was a hit or shared that fetch.
        assert sum(a.cache == "fetched" for a in answers) == new_calls, info
        assert {a.cache for a in answers} <= {"fetched", "hit", "collapsed"}, info


async def test_two_replicas_sharing_redis_call_the_vendor_once_per_ttl_window(
    sim: Proc, redis_server: RedisServer, tmp_path: Path
) -> None:
    config = gateway_config({"ls": llama_backend(sim.url)}, redis_server.url, **REDIS_TIMEOUTS)
    with replicas(tmp_path, 2, config) as procs:
        job_id = create_running_job(sim.url)
        calls, durations, bursts = await poll_in_windows(procs, sim.url, job_id, rounds=2)
        print(f"\n2 replicas + redis: {POLLERS} polls/burst -> calls {calls}, bursts {durations}")
        states = [readyz(p.url)["shared_state"] for p in procs]
        remote_waits = [
            metric(
                p.url,
                'gateway_resilience_events_total{backend="ls",event="remote_coalesced_waits"}',
            )
            for p in procs
        ]
    check_bursts(calls, durations, bursts, sim_status(sim.url, job_id))
    # Each replica served half of every burst, yet the vendor saw one call per window, not
    # one per replica: the replica that did not fetch waited for the other through Redis.
    for answers in bursts:
        assert Counter(a.replica for a in answers) == {0: POLLERS // 2, 1: POLLERS // 2}
    assert states == ["ok", "ok"]  # Redis kept up with the bursts: no fallback to local state
    assert sum(w or 0 for w in remote_waits) >= 1


async def test_one_replica_without_redis_calls_the_vendor_once_per_ttl_window(
    sim: Proc, tmp_path: Path
) -> None:
    config = gateway_config({"ls": llama_backend(sim.url)})
    with replicas(tmp_path, 1, config) as procs:
        job_id = create_running_job(sim.url)
        calls, durations, bursts = await poll_in_windows(procs, sim.url, job_id, rounds=1)
        state = readyz(procs[0].url)["shared_state"]
    print(
        f"\n1 replica, no redis: {POLLERS} polls/burst -> vendor calls {calls}, bursts {durations}"
    )
    check_bursts(calls, durations, bursts, sim_status(sim.url, job_id))
    assert state == "off"


KILL_TTL = 0.5  # short windows, so the vendor is really called while Redis dies
LOAD_SECONDS = 1.5
KILL_AT = 0.5


async def test_redis_killed_under_load_fails_no_request_and_readiness_says_degraded(
    sim: Proc, redis_server: RedisServer, tmp_path: Path
) -> None:
    job_id = create_running_job(sim.url)
    config = gateway_config(
        {"ls": llama_backend(sim.url, cache={"running_ttl": KILL_TTL})},
        redis_server.url,
        retry_interval=0.5,
        **REDIS_TIMEOUTS,  # a killed Redis is noticed at once anyway: its sockets are reset
    )
    with replicas(tmp_path, 2, config) as procs:
        urls = [p.url for p in procs]
        assert [readyz(u)["shared_state"] for u in urls] == ["ok", "ok"]

        async def kill_redis() -> float:
            await asyncio.sleep(KILL_AT)
            redis_server.kill()  # SIGKILL: no goodbye to the clients
            return time.perf_counter()

        poller = Poller(urls)
        began = time.perf_counter()
        killer = asyncio.create_task(kill_redis())
        answers = await poller.sustained(f"/v1/jobs/{job_id}", workers=40, seconds=LOAD_SECONDS)
        lasted = time.perf_counter() - began
        killed_at = await killer - began
        calls = vendor_calls(sim.url, job_path_suffix(job_id))
        info = {"calls": calls, "killed_at": round(killed_at, 2), "n": len(answers)}
        info |= summary(answers)
        print(f"\nredis killed at {killed_at:.2f}s of {LOAD_SECONDS}s: {info}")
        assert len(answers) > 200, info  # it really was a load
        assert all(a.status == 200 for a in answers), info  # not one failed request
        status = sim_status(sim.url, job_id)
        assert all(a.job_status == status for a in answers), info
        # A killed Redis resets its connections: nobody waits for a Redis timeout.
        assert max(a.seconds for a in answers) < 1.0, info
        # On local state each replica still calls the vendor at most once per window (plus
        # one fetch per replica whose wait on the other replica Redis cut short).
        assert calls <= 2 * windows(lasted, KILL_TTL) + 2, info
        # The replicas say so, and keep answering.
        assert [readyz(u)["shared_state"] for u in urls] == ["degraded", "degraded"]
        assert [metric(u, "gateway_shared_state_ok ") for u in urls] == [0.0, 0.0]

        redis_server.start()  # back on the same port: the replicas use it again
        await asyncio.sleep(0.6)  # past retry_interval
        again, _ = await poller.burst(f"/v1/jobs/{job_id}", 20)
        assert all(a.status == 200 for a in again)
        assert [readyz(u)["shared_state"] for u in urls] == ["ok", "ok"]
