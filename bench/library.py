"""Scenario 5: the library in-process, `AsyncGateway.get_job` per call on a cache hit and miss.

    python -m bench.library --calls 5000      # prints one JSON object

The backend is the in-process Llama Stack simulator (`sim://llama-stack`, no socket). A hit
reads a completed job from the cache; a miss runs with the cache off, so every call goes
through the guard, the adapter, httpx and the simulator app. `transport` is the bare httpx
call to the simulator (no gateway) so the gateway's own share of a miss can be told apart.
Plain asyncio (no uvloop), as a library caller would run it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .load import percentile
from .procs import rss_of
from .servers import BENCHMARK, DONE_JOB, VENDOR, vendor_job_path


def _config(cache: bool) -> dict[str, Any]:
    return {
        "backends": {
            "ls": {"vendor": VENDOR, "base_url": f"sim://{VENDOR}", "cache": {"enabled": cache}}
        }
    }


async def _timed(calls: int, fn: Callable[[], Awaitable[object]]) -> dict[str, float]:
    for _ in range(min(200, calls)):  # warm-up: imports, pools, first cache fill
        await fn()
    samples: list[int] = []
    began = time.perf_counter()
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        await fn()
        samples.append(time.perf_counter_ns() - t0)
    seconds = time.perf_counter() - began
    samples.sort()
    us = 1e-3
    return {
        "calls": calls,
        "calls_per_s": round(calls / seconds, 1),
        "p50_us": round(percentile(samples, 50) * us, 1),
        "p90_us": round(percentile(samples, 90) * us, 1),
        "p99_us": round(percentile(samples, 99) * us, 1),
    }


async def _case(calls: int, cache: bool) -> dict[str, Any]:
    from gateway import AsyncGateway
    from gateway.simulators import vendor_sim
    from gateway.simulators.engine import SimState, Stage

    out: dict[str, Any] = {}
    async with AsyncGateway(_config(cache)) as gw:
        job = {"benchmark_id": BENCHMARK, "job_id": DONE_JOB}
        state = gw.simulator("ls")
        assert isinstance(state, SimState)  # the library types it as a SimulatorState
        vendor_sim(VENDOR).new_job(state, [Stage("completed")], job)
        job_id = gw.job_id("ls", BENCHMARK, DONE_JOB)

        async def get() -> object:
            return await gw.get_job(job_id)

        out["hit" if cache else "miss"] = await _timed(calls, get)
        if not cache:
            http = gw.backend("ls").http
            path = vendor_job_path(DONE_JOB)

            async def raw() -> object:
                # The backend's own client (gateway.transport: httpx for sim://), no gateway.
                answer = await http.request("GET", path)
                return json.loads(answer.content)

            out["transport"] = await _timed(calls, raw)
    return out


async def measure(calls: int) -> dict[str, Any]:
    out = {**await _case(calls, cache=True), **await _case(calls, cache=False)}
    out["rss_bytes"] = rss_of(os.getpid())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.library")
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.calls))))


if __name__ == "__main__":
    main()
