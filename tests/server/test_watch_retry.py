"""The server's watching rides out a failing vendor (issue 11, item 6): an event stream or a
long-poll whose vendor answers a burst of retryable failures (here 504s, before the first
answer) goes on until the job ends; each failed read is a `problem` event with
`retryable: true` that does not end the stream; a lasting problem (job-not-found) still
answers at once. A gateway of its own (its breaker off, so these failures do not open the
circuit for other tests) in front of the standalone Llama Stack simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.client import GatewayClient
from gateway.schemas import JobStatus
from tests.server.proc import Proc, gateway, write_config
from tests.server.sse import STANDALONE_LS, create_sim_job, events, watch

FLAKY = "ls-flaky"  # uncached: every poll is a vendor read


@pytest.fixture(scope="module")
def flaky_gateway(tmp_path_factory: pytest.TempPathFactory, ls_vendor: Proc) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("flaky-gateway")
    backend = {
        "vendor": "llama-stack",
        "base_url": ls_vendor.url,
        "cache": {"enabled": False},
        "breaker": {"enabled": False},
    }
    config = {"backends": {FLAKY: backend}, "server": {"reload": {"watch": False}}}
    with gateway(workdir, write_config(workdir / "gateway.yaml", config)) as proc:
        yield proc


@pytest.fixture
def watch_client(flaky_gateway: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=flaky_gateway.url, timeout=30.0) as client:
        yield client


def failing_job(ls_vendor: Proc, gateway_calls: int) -> str:
    """A finished job (uncached backend) whose first `gateway_calls` reads by the gateway get
    504s (the gateway itself tries each read 3 times)."""
    job_id = create_sim_job(ls_vendor.url, ("completed", None)).replace(STANDALONE_LS, FLAKY)
    armed = httpx.post(
        f"{ls_vendor.url}/_sim/faults",
        json={
            "kind": "server_error",
            "status": 504,
            "count": 3 * gateway_calls,
            "path": job_id.rsplit("~", 1)[1],
        },
    )
    assert armed.status_code == 201, armed.text
    return job_id


def test_an_event_stream_survives_a_fault_burst_before_the_first_answer(
    ls_vendor: Proc, watch_client: httpx.Client
) -> None:
    job_id = failing_job(ls_vendor, gateway_calls=2)
    response, seen = watch(watch_client, job_id)
    assert response.status_code == 200, response.text
    got = events(seen)
    assert [f.event for f in got] == ["problem", "problem", "status"]
    problems = [f.problem for f in got[:2]]
    assert all(p.retryable and p.slug.startswith("upstream-") for p in problems)
    assert got[0].retry == 3000  # the first frame still tells EventSource how to reconnect
    assert got[-1].job.status is JobStatus.SUCCEEDED


def test_a_long_poll_waits_through_a_fault_burst(
    ls_vendor: Proc, watch_client: httpx.Client
) -> None:
    job_id = failing_job(ls_vendor, gateway_calls=2)
    response = watch_client.get(f"/v1/jobs/{job_id}", params={"wait": 20})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"


def test_a_missing_job_still_ends_a_stream_at_once(watch_client: httpx.Client) -> None:
    began = time.monotonic()
    response, seen = watch(watch_client, f"{FLAKY}~mmlu~no-such-job")
    assert response.status_code == 404 and not seen
    assert response.json()["type"].endswith("job-not-found")
    assert time.monotonic() - began < 5


def test_the_remote_client_watch_rides_out_a_fault_burst(
    ls_vendor: Proc, flaky_gateway: Proc
) -> None:
    job_id = failing_job(ls_vendor, gateway_calls=2)
    with GatewayClient(flaky_gateway.url) as client:
        seen = [event.job.status for event in client.watch(job_id, timeout=20)]
    assert seen == [JobStatus.SUCCEEDED]
