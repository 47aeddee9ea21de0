"""The blocking twins held to each other: `Gateway` in process and `GatewayClient` over a real
server answer the same calls with the same models and raise the same classes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from gateway import Gateway, InvalidRequest, JobNotFound, JobNotReady, JobStatus, WaitTimedOut
from gateway.client import GatewayClient
from tests.client.conftest import FAST_RETRY, KEY, LIVE, create_live_job
from tests.client.test_shared_behaviour import DONE, MISSING, RUNNING
from tests.server.proc import Proc
from tests.server.sse import NEMO_REQUEST

SyncGw = Gateway | GatewayClient


@pytest.fixture(params=["library", "remote"])
def sync_gw(request: pytest.FixtureRequest, config_dict: dict[str, Any]) -> Iterator[SyncGw]:
    if request.param == "library":
        with Gateway(config_dict) as local:
            yield local
    else:
        proc: Proc = request.getfixturevalue("remote")
        with GatewayClient(proc.url, api_key=KEY, retry=FAST_RETRY) as client:
            yield client


def test_reads_and_their_problems(sync_gw: SyncGw) -> None:
    assert sync_gw.get_job(DONE).status is JobStatus.SUCCEEDED
    assert sync_gw.get_result(DONE).metrics
    assert LIVE in {b.name for b in sync_gw.backends()}
    with pytest.raises(JobNotFound):
        sync_gw.get_job(MISSING)
    with pytest.raises(JobNotReady) as caught:
        sync_gw.get_result(RUNNING)
    assert type(caught.value) is JobNotReady and caught.value.job_status == "running"
    with pytest.raises(InvalidRequest):
        sync_gw.list_jobs("evals", status="bogus")
    page = sync_gw.list_jobs("evals", page_size=2)
    following = sync_gw.list_jobs("evals", page_size=2, page_token=page.next_page_token)
    assert {j.id for j in page.items}.isdisjoint(j.id for j in following.items)


def test_submit_replays_and_wait_and_watch(sync_gw: SyncGw, live_vendor: Proc) -> None:
    key = f"blocking-{uuid.uuid4()}"
    first = sync_gw.submit("evals", NEMO_REQUEST, idempotency_key=key)
    again = sync_gw.submit("evals", NEMO_REQUEST, idempotency_key=key)
    assert again.replayed and [j.id for j in again.jobs] == [j.id for j in first.jobs]
    with pytest.raises(WaitTimedOut) as caught:
        sync_gw.wait(RUNNING, 0.5)
    assert caught.value.job_status == "running"
    job_id = create_live_job(live_vendor, ("in_progress", 0.8), ("completed", None))
    statuses = [event.job.status for event in sync_gw.watch(job_id)]
    assert statuses == [JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert sync_gw.wait(job_id, 10).status is JobStatus.SUCCEEDED
