"""Llama Stack 0.7.3 resets a keep-alive connection after an error answer; we never stall.

Seen on a real server: a GET for an unknown job answers 400 `Job 99 not found`, and the next
GET on the same connection fails with "Connection reset by peer" after about 4.4 s. The
simulator reproduces it (its quirks); the gateway drops such a connection at once instead.
"""

from __future__ import annotations

import time

import httpx
import pytest

from gateway import AsyncGateway, JobNotFound, JobStatus, config_from_dict
from gateway.simulators import Fault, create_app
from tests.support.servers import serve_in_thread

UNKNOWN = "/v1alpha/eval/benchmarks/mmlu/jobs/99"
KNOWN = "/v1alpha/eval/benchmarks/mmlu/jobs/eval-completed"
STALL = 1.5  # shorter than the real 4.4 s, long enough to tell a stall from none


def quirky_app() -> object:
    app = create_app("llama-stack", quirks=True)
    state = app.state.sim
    state.clear_faults()
    state.arm(Fault("reset_after_error", remaining=100, seconds=STALL))
    return app


async def test_the_simulator_reproduces_the_reset_on_a_reused_connection() -> None:
    with serve_in_thread(quirky_app()) as url:  # type: ignore[arg-type]
        async with httpx.AsyncClient(base_url=url) as plain_client:
            assert (await plain_client.get(UNKNOWN)).status_code == 400
            began = time.perf_counter()
            with pytest.raises(httpx.TransportError):
                await plain_client.get(KNOWN)
            assert time.perf_counter() - began >= STALL * 0.9


async def test_the_gateway_recovers_on_a_fresh_connection_without_the_stall() -> None:
    with serve_in_thread(quirky_app()) as url:  # type: ignore[arg-type]
        config = config_from_dict({"backends": {"ls": {"vendor": "llama-stack", "base_url": url}}})
        async with AsyncGateway(config) as gw:
            with pytest.raises(JobNotFound):
                await gw.get_job("ls~mmlu~99")
            began = time.perf_counter()
            job = await gw.get_job("ls~mmlu~eval-completed")
            elapsed = time.perf_counter() - began
            stats = gw.guard("ls").stats
    assert job.status is JobStatus.SUCCEEDED
    assert elapsed < STALL / 2
    assert stats.retries == 0  # not rescued by a retry: the broken connection was never used


async def test_in_process_backends_behave_the_same() -> None:
    async with AsyncGateway(
        {"backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}}}
    ) as gw:
        gw.simulator("ls").arm(Fault("reset_after_error", remaining=100, seconds=STALL))
        with pytest.raises(JobNotFound):
            await gw.get_job("ls~mmlu~99")
        began = time.perf_counter()
        job = await gw.get_job("ls~mmlu~eval-completed")
        assert time.perf_counter() - began < STALL / 2
        assert job.status is JobStatus.SUCCEEDED
