"""The job ledger through both doors: `gw.jobs()` / `gw.history()` in process and
`GET /v1/jobs`, `GET /v1/jobs/{id}/history` through the remote client answer the same
records, pages and problems."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from gateway import InvalidRequest, JobNotFound, JobStatus
from tests.client.conftest import Gw, create_live_job
from tests.client.test_shared_behaviour import same_problem
from tests.server.proc import Proc
from tests.server.sse import NEMO_REQUEST


async def test_a_submitted_job_is_listed_with_its_history(gw: Gw) -> None:
    key = f"ledger-{uuid.uuid4()}"
    submission = await gw.submit("evals", NEMO_REQUEST, idempotency_key=key)
    job_id = submission.jobs[0].id
    page = await gw.jobs(backend="evals", page_size=20)  # an alias names its backend
    (record,) = [r for r in page.items if r.id == job_id]
    assert (record.backend, record.vendor, record.idempotency_key) == (
        "nemo-v1-sim", "nemo-evaluator", key,
    )  # fmt: skip
    assert record.submission is not None
    assert record.submission["evaluation"] == NEMO_REQUEST["evaluation"]
    assert all(r.backend == "nemo-v1-sim" for r in page.items)
    assert page.counts and sum(page.counts.values()) >= len(page.items)
    history = await gw.history(job_id)
    assert history.job_id == job_id
    assert history.changes and history.changes[0].observed_by == "submit"


async def test_ledger_pages_and_filters(gw: Gw) -> None:
    for _ in range(2):
        await gw.submit("evals", NEMO_REQUEST, idempotency_key=f"ledger-{uuid.uuid4()}")
    first = await gw.jobs(backend="nemo-v1-sim", page_size=1)
    assert len(first.items) == 1 and first.next_page_token
    second = await gw.jobs(backend="nemo-v1-sim", page_size=1, page_token=first.next_page_token)
    assert len(second.items) == 1 and second.items[0].id != first.items[0].id
    assert first.items[0].created_at and second.items[0].created_at
    assert first.items[0].created_at >= second.items[0].created_at  # newest first
    wanted = [JobStatus.QUEUED, JobStatus.RUNNING]
    chosen = await gw.jobs(status=wanted, page_size=50)
    assert {r.status for r in chosen.items} <= set(wanted)


async def test_ledger_problems(gw: Gw) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await gw.jobs(page_token="not-a-token")
    same_problem(caught.value, InvalidRequest)
    with pytest.raises(InvalidRequest):
        await gw.jobs(status="bogus")
    with pytest.raises(JobNotFound) as missing:
        await gw.history(f"ls-sim~mmlu~never-seen-{uuid.uuid4().hex[:8]}")
    same_problem(missing.value, JobNotFound)


async def test_a_read_job_enters_the_ledger(gw: Gw, live_vendor: Proc) -> None:
    job_id = create_live_job(live_vendor, ("completed", None))
    assert (await gw.wait(job_id, 10)).status is JobStatus.SUCCEEDED
    # Reads are written behind (never delaying the answer): poll, bounded, until it shows.
    deadline = time.monotonic() + 10
    while True:
        try:
            history = await gw.history(job_id)
        except JobNotFound:
            history = None
        if (history is not None and history.changes) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert history is not None
    assert [c.status for c in history.changes] == [JobStatus.SUCCEEDED]
    assert history.changes[0].observed_by in ("read", "watch")  # wait() polls via the watcher
