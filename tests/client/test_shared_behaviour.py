"""The behaviour suite: every test runs against the in-process library (AsyncGateway) and
against the remote client over a real `eval-gateway serve`, so the two cannot drift. Errors
must be the same classes with the same members; answers the same canonical models."""

from __future__ import annotations

import inspect
import uuid
from typing import Any

import pytest

from gateway import (
    BackendInfo,
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    JobStatus,
    SubmitRequest,
    Target,
    UnknownBackend,
    UnsupportedOperation,
    WaitTimedOut,
)
from gateway.client import problem_details
from gateway.errors import GatewayError
from gateway.watch import EventId, JobEvent
from tests.client.conftest import LIVE, Gw, create_live_job
from tests.server.proc import Proc
from tests.server.sse import NEMO_REQUEST

DONE = "ls-sim~mmlu~eval-completed"
RUNNING = "ls-sim~mmlu~eval-in-progress"
MISSING = "ls-sim~mmlu~nope"
DO_RUNNING = "do-sim~a2000000-b351-11ef-bf8f-4e013e2ddde4"
DO_DONE = "do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4"
QUEUED, RUN, SUCCEEDED = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED


async def backends_of(gw: Gw) -> list[BackendInfo]:
    listed: Any = gw.backends()  # a plain call in process, a request remotely
    infos: list[BackendInfo] = await listed if inspect.isawaitable(listed) else listed
    return infos


async def events_of(gw: Gw, job_id: str, last_event_id: str | None = None) -> list[JobEvent]:
    async with gw.watch(job_id, last_event_id=last_event_id) as stream:
        return [event async for event in stream]


def same_problem(exc: GatewayError, cls: type[GatewayError]) -> None:
    """Exactly this class, and (remotely) the wire problem agrees with it."""
    assert type(exc) is cls
    wire = problem_details(exc)
    assert (wire.slug, wire.status) == (cls.problem_type.slug, cls.problem_type.status)


# -- reading ---------------------------------------------------------------------------------


async def test_backends_with_their_aliases(gw: Gw) -> None:
    infos = {b.name: b for b in await backends_of(gw)}
    assert {"ls-sim", "nemo-v1-sim", "do-sim", LIVE} <= set(infos)
    assert "evals" in infos["nemo-v1-sim"].aliases
    assert (infos[LIVE].vendor, infos[LIVE].simulated) == ("llama-stack", False)


async def test_a_job_is_the_canonical_job_and_raw_only_on_request(gw: Gw) -> None:
    job = await gw.get_job(DONE)
    assert (job.id, job.backend, job.status, job.terminal) == (DONE, "ls-sim", SUCCEEDED, True)
    assert job.raw is None
    assert (await gw.get_job(DONE, include_raw=True, fresh=True)).raw is not None


async def test_a_finished_job_has_its_result(gw: Gw) -> None:
    result = await gw.get_result(DONE)
    assert result.job_id == DONE and result.status is SUCCEEDED and result.metrics


async def test_result_rows_come_a_page_at_a_time(gw: Gw) -> None:
    rows: list[Any] = []
    token: str | None = None
    for _ in range(50):
        page = await gw.get_result(DO_DONE, page_size=2, page_token=token)
        assert len(page.rows) <= 2 and page.metrics  # the aggregates are on every page
        rows += page.rows
        token = page.next_page_token
        if token is None:
            break
    assert len(rows) > 2 and token is None
    with pytest.raises(InvalidRequest):
        await gw.get_result(DO_DONE, page_token="not-a-token")


async def test_list_pages_cover_every_job_once(gw: Gw) -> None:
    seen: list[str] = []
    token: str | None = None
    while True:
        page = await gw.list_jobs("evals", page_size=2, page_token=token)
        assert len(page.items) <= 2 and all(j.backend == "nemo-v1-sim" for j in page.items)
        seen += [job.id for job in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert len(seen) >= 3 and len(seen) == len(set(seen))
    running = await gw.list_jobs("overmind-sim", status=RUN)
    assert running.items and {j.status for j in running.items} == {RUN}


# -- errors ----------------------------------------------------------------------------------


async def test_an_unknown_job_is_job_not_found(gw: Gw) -> None:
    with pytest.raises(JobNotFound) as caught:
        await gw.get_job(MISSING)
    same_problem(caught.value, JobNotFound)
    assert (caught.value.backend, caught.value.job_id) == ("ls-sim", MISSING)
    assert caught.value.vendor == "llama-stack" and caught.value.vendor_status_code == 400


async def test_the_result_of_a_running_job_is_not_ready_with_its_status(gw: Gw) -> None:
    with pytest.raises(JobNotReady) as caught:
        await gw.get_result(RUNNING)
    same_problem(caught.value, JobNotReady)
    assert caught.value.job_status == "running" and caught.value.job_id == RUNNING


async def test_an_unknown_backend_is_named(gw: Gw) -> None:
    for attempt in (
        gw.get_job("nope~x"),
        gw.list_jobs("nope"),
        gw.submit("nope", NEMO_REQUEST, idempotency_key=f"k-{uuid.uuid4()}"),
    ):
        with pytest.raises(UnknownBackend) as caught:
            await attempt
        same_problem(caught.value, UnknownBackend)
        assert caught.value.backend == "nope"


async def test_bad_input_is_invalid_request(gw: Gw) -> None:
    for attempt in (
        gw.list_jobs("evals", status="bogus"),
        gw.list_jobs("evals", page_size=0),
        gw.get_job("ls-sim~only-one-part"),
    ):
        with pytest.raises(InvalidRequest) as caught:
            await attempt
        same_problem(caught.value, InvalidRequest)


async def test_an_invalid_submission_lists_its_bad_fields(gw: Gw) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await gw.submit("evals", {"evaluation": "x", "targets": []})
    same_problem(caught.value, InvalidRequest)
    assert [e.loc for e in caught.value.errors or []] == [["body", "targets"]]


async def test_an_operation_the_vendor_lacks_is_unsupported(gw: Gw) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        await gw.cancel_job(DO_RUNNING)
    same_problem(caught.value, UnsupportedOperation)
    assert caught.value.backend == "do-sim"


# -- submitting ------------------------------------------------------------------------------


async def test_submit_with_a_key_replays_the_same_jobs(gw: Gw) -> None:
    key = f"suite-{uuid.uuid4()}"
    first = await gw.submit("evals", NEMO_REQUEST, idempotency_key=key)
    again = await gw.submit("evals", NEMO_REQUEST, idempotency_key=key)
    assert (first.requested, first.backend, first.vendor) == (
        "evals",
        "nemo-v1-sim",
        "nemo-evaluator",
    )
    assert (first.replayed, again.replayed) == (False, True)
    assert [j.id for j in again.jobs] == [j.id for j in first.jobs]
    assert first.idempotency_key == again.idempotency_key == key
    assert (await gw.get_job(first.jobs[0].id)).id == first.jobs[0].id
    with pytest.raises(InvalidRequest) as caught:  # the same key for another request
        await gw.submit(
            "evals", {**NEMO_REQUEST, "evaluation": "nvidia/other"}, idempotency_key=key
        )
    assert "different request" in caught.value.detail


async def test_submit_a_model_request_and_cancel_it(gw: Gw) -> None:
    request = SubmitRequest(
        evaluation="mmlu", targets=[Target(model="meta-llama/Llama3.1-8B")], max_tokens=512
    )
    submission = await gw.submit("ls-sim", request, idempotency_key=f"k-{uuid.uuid4()}")
    (job,) = submission.jobs
    assert job.backend == "ls-sim" and job.status in (QUEUED, RUN)
    cancelled = await gw.cancel_job(job.id)
    # Llama Stack has no "cancelled" word: a cancelled job reads as its vendor says (failed).
    assert cancelled.id == job.id and cancelled.terminal


# -- waiting and watching -------------------------------------------------------------------


async def test_wait_answers_the_terminal_job(gw: Gw, live_vendor: Proc) -> None:
    assert (await gw.wait(DONE)).status is SUCCEEDED
    job_id = create_live_job(live_vendor, ("in_progress", 0.8), ("completed", None))
    job = await gw.wait(job_id, 30)
    assert job.id == job_id and job.status is SUCCEEDED


async def test_wait_gives_up_at_its_timeout_with_the_status(gw: Gw) -> None:
    with pytest.raises(WaitTimedOut) as caught:
        await gw.wait(RUNNING, 0.5)
    assert caught.value.job_status == "running" and caught.value.job_id == RUNNING
    assert isinstance(caught.value, JobNotReady) and caught.value.retryable
    with pytest.raises(JobNotFound):
        await gw.wait(MISSING, 5)


async def test_watch_sees_every_change_in_order(gw: Gw, live_vendor: Proc) -> None:
    job_id = create_live_job(
        live_vendor, ("scheduled", 1.0), ("in_progress", 1.0), ("completed", None)
    )
    seen = await events_of(gw, job_id)
    assert [e.job.status for e in seen] == [QUEUED, RUN, SUCCEEDED]
    ids = [EventId.parse(e.id) for e in seen]
    assert all(ids) and [e.seq for e in seen] == [1, 2, 3]
    assert all(e.job.id == job_id and e.job.raw is None for e in seen)


async def test_watch_resumes_after_the_last_event_seen(gw: Gw, live_vendor: Proc) -> None:
    job_id = create_live_job(
        live_vendor, ("scheduled", 1.0), ("in_progress", 1.0), ("completed", None)
    )
    async with gw.watch(job_id) as stream:
        first = await stream.__anext__()
        assert stream.last_event_id == first.id
    assert first.job.status is QUEUED
    resumed = await events_of(gw, job_id, last_event_id=first.id)
    assert [e.job.status for e in resumed] == [RUN, SUCCEEDED]
    # Resuming after the terminal event: nothing more.
    (done,) = await events_of(gw, DONE)
    assert await events_of(gw, DONE, last_event_id=done.id) == []


async def test_watching_an_unknown_job_raises_its_problem(gw: Gw) -> None:
    with pytest.raises(JobNotFound) as caught:
        await events_of(gw, MISSING)
    same_problem(caught.value, JobNotFound)
