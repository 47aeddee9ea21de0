"""Observations: only changes are written, each change is a timeline row with its observer."""

from __future__ import annotations

import asyncio
import logging

import pytest
import sqlalchemy as sa

from gateway.ledger import Ledger, LedgerQuery
from gateway.ledger.tables import jobs, status_changes
from gateway.schemas import Metric, Problem, Result
from gateway.schemas.ledger import JobRecord
from gateway.schemas.status import JobStatus
from tests.ledger.conftest import OpenLedger, make_job


async def _count(ledger: Ledger, table: sa.Table) -> int:
    async with ledger.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_an_unchanged_observation_costs_no_database_write(ledger: Ledger) -> None:
    job = make_job(1)
    for _ in range(50):
        ledger.observe(job, "read")
    await ledger.flush()
    assert ledger.health().written == 1
    assert await _count(ledger, status_changes) == 1
    record = await ledger.get(job.id)
    assert record is not None
    assert (record.status, record.backend, record.vendor_ids) == (
        JobStatus.RUNNING,
        "ls-sim",
        ["job-1"],
    )


async def test_each_change_is_one_timeline_row_in_order_with_its_observer(ledger: Ledger) -> None:
    ledger.observe(make_job(1, JobStatus.QUEUED), "submit")
    ledger.observe(make_job(1, JobStatus.QUEUED), "read")
    ledger.observe(make_job(1, progress=0.5), "watch")
    ledger.observe(make_job(1, progress=0.5), "watch")
    ledger.observe(make_job(1, vendor_status="in_progress", progress=0.5), "refresher")
    ledger.observe(make_job(1, JobStatus.SUCCEEDED), "sync")
    await ledger.flush()
    changes = await ledger.history("ls-sim~bench~1")
    assert [(c.status, c.vendor_status, c.progress, c.observed_by) for c in changes] == [
        (JobStatus.QUEUED, "queued", None, "submit"),
        (JobStatus.RUNNING, "running", 0.5, "watch"),
        (JobStatus.RUNNING, "in_progress", 0.5, "refresher"),
        (JobStatus.SUCCEEDED, "succeeded", None, "sync"),
    ]
    assert [c.observed_at for c in changes] == sorted(c.observed_at for c in changes)
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None and record.terminal
    assert record.updated_at == changes[-1].observed_at


async def test_a_reopened_ledger_does_not_repeat_a_known_status(
    ledger: Ledger, open_ledger: OpenLedger
) -> None:
    ledger.observe(make_job(1), "read")
    await ledger.flush()
    other = await open_ledger()
    other.observe(make_job(1), "read")
    await other.flush()
    assert len(await other.history("ls-sim~bench~1")) == 1


async def test_a_late_older_answer_never_reopens_a_finished_job(ledger: Ledger) -> None:
    ledger.observe(make_job(1, JobStatus.SUCCEEDED), "watch")
    await ledger.flush()
    ledger.observe(make_job(1, JobStatus.RUNNING), "read")
    await ledger.flush()
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None and record.status is JobStatus.SUCCEEDED
    assert len(await ledger.history("ls-sim~bench~1")) == 1


async def test_a_stale_cached_answer_is_not_an_observation(ledger: Ledger) -> None:
    ledger.observe(make_job(1).model_copy(update={"stale": True}), "read")
    await ledger.flush()
    assert await ledger.get("ls-sim~bench~1") is None


async def test_a_purged_job_keeps_its_last_status_and_is_marked_gone(ledger: Ledger) -> None:
    ledger.observe(make_job(1, JobStatus.RUNNING), "read")
    gone = Problem(type="/problems/job-not-found", title="Job not found", status=404)
    ledger.observe_gone("ls-sim~bench~1", gone)
    await ledger.flush()
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None
    assert (record.status, record.at_vendor) == (JobStatus.RUNNING, False)
    assert record.last_problem is not None and record.last_problem.slug == "job-not-found"
    assert len(await ledger.history("ls-sim~bench~1")) == 1  # no invented status
    ledger.observe(make_job(1, JobStatus.RUNNING), "read")  # the vendor knows it again
    await ledger.flush()
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None and record.at_vendor


async def test_a_problem_is_kept_on_the_record(ledger: Ledger) -> None:
    ledger.observe(make_job(1), "read")
    problem = Problem(type="/problems/upstream-timeout", title="Upstream timeout", status=504)
    ledger.observe_problem("ls-sim~bench~1", problem)
    await ledger.flush()
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None and record.last_problem == problem


async def test_a_terminal_job_keeps_a_result_snapshot_linking_its_rows(ledger: Ledger) -> None:
    summary = [Metric(name="accuracy", value=0.5)]
    ledger.observe(make_job(1, JobStatus.SUCCEEDED, metrics=summary), "watch")
    await ledger.flush()
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None and record.result is not None
    assert record.result.metrics == summary
    result = Result(
        job_id="ls-sim~bench~1",
        backend="ls-sim",
        vendor="llama-stack",
        status=JobStatus.SUCCEEDED,
        metrics=[Metric(name="accuracy", value=0.75), Metric(name="f1", value=0.7)],
    )
    ledger.observe_result("ls-sim~bench~1", result)
    await ledger.flush()
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None and record.result is not None
    assert [m.value for m in record.result.metrics] == [0.75, 0.7]
    assert record.result.rows_link == "/v1/jobs/ls-sim~bench~1/result"


async def test_on_terminal_runs_once_per_finished_job_and_survives_a_failing_callback(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[JobRecord] = []

    async def broken(record: JobRecord) -> None:
        raise RuntimeError("exporter down")

    async def collect(record: JobRecord) -> None:
        seen.append(record)

    ledger.on_terminal(broken)
    ledger.on_terminal(collect)
    ledger.observe(make_job(1, JobStatus.RUNNING), "read")
    ledger.observe(make_job(2, JobStatus.RUNNING), "read")
    await ledger.flush()
    with caplog.at_level(logging.ERROR, logger="gateway.ledger"):
        ledger.observe(make_job(1, JobStatus.FAILED), "watch")
        ledger.observe(make_job(1, JobStatus.FAILED), "watch")
        await ledger.flush()
        await ledger.aclose()  # waits for the callbacks
    assert [(r.id, r.status) for r in seen] == [("ls-sim~bench~1", JobStatus.FAILED)]
    assert "on_terminal callback failed" in caplog.text


async def test_observe_never_awaits_the_database(ledger: Ledger) -> None:
    async with ledger.engine.connect() as conn:
        before = (await conn.execute(sa.select(sa.func.count()).select_from(jobs))).scalar_one()
    ledger.observe(make_job(1), "read")  # a plain call: returns before anything is written
    assert ledger.health().queued == 1
    assert before == 0
    await ledger.flush()
    assert ledger.health().queued == 0


async def test_two_replicas_seeing_the_same_new_job_record_it_once(
    open_ledger: OpenLedger,
) -> None:
    one, two = await open_ledger(), await open_ledger()
    for n in range(20):
        one.observe(make_job(n), "read")
        two.observe(make_job(n), "watch")
    await asyncio.gather(one.flush(), two.flush())
    page = await one.list(LedgerQuery(page_size=100))
    assert len(page.items) == 20
    for n in range(20):
        assert len(await two.history(make_job(n).id)) == 1
