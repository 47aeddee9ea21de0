"""Cancel of a job that already finished: one answer from every vendor (issue 11, item 4).

The rule: `job-already-terminal`, 409, with the job's terminal `job_status`; the cancel did
nothing, and the caller must be able to tell. Through the real app on each vendor's simulator,
and through the library; a vendor's own "already finished" answer (NeMo's 409) is the same."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway import AsyncGateway, JobAlreadyTerminal
from gateway.server import create_app
from gateway.simulators import SimState, Stage

BACKENDS = ["ls-sim", "nemo-v1-sim", "nemo-v2-sim", "overmind-sim", "do-sim", "datarobot-sim"]
TERMINAL = {"succeeded", "partially_succeeded", "failed", "cancelled", "expired"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c
    await app.state.holder.aclose()


async def finished_jobs(client: httpx.AsyncClient, backend: str) -> list[dict[str, object]]:
    listed = await client.get(f"/v1/backends/{backend}/jobs", params={"page_size": 100})
    if listed.status_code == 501:  # Llama Stack has no job list: its seeded ids
        return [
            (await client.get(f"/v1/jobs/ls-sim~mmlu~{name}")).json()
            for name in ("eval-completed", "eval-failed", "eval-cancelled")
        ]
    assert listed.status_code == 200, listed.text
    return [job for job in listed.json()["items"] if job["status"] in TERMINAL]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_cancel_of_a_finished_job_is_job_already_terminal(
    client: httpx.AsyncClient, backend: str
) -> None:
    jobs = await finished_jobs(client, backend)
    assert jobs, f"no finished job seeded on {backend}"
    for job in jobs:
        answer = await client.post(f"/v1/jobs/{job['id']}/cancel")
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"].endswith("/job-already-terminal"), problem
        assert problem["job_status"] == job["status"]
        assert problem["job_id"] == job["id"] and problem["backend"] == backend
        # ... and the job is as it was.
        after = await client.get(f"/v1/jobs/{job['id']}", headers={"Cache-Control": "no-cache"})
        assert after.json()["status"] == job["status"]


async def test_the_problem_page_documents_it(client: httpx.AsyncClient) -> None:
    page = await client.get("/problems/job-already-terminal")
    assert page.status_code == 200
    assert "409" in page.text


async def test_a_vendor_that_says_already_finished_gets_the_same_answer() -> None:
    """NeMo answers 409 when the job finished between our read and its cancel."""
    async with AsyncGateway() as gw:
        state: SimState = gw.simulator("nemo-v1-sim")
        running = next(j for j in state.jobs.values() if state.status_of(j) == "running")
        job_id = gw.job_id("nemo-v1-sim", running.id)
        real_cancel = gw.backend("nemo-v1-sim").adapter.cancel_job

        async def finish_then_cancel(ref):  # type: ignore[no-untyped-def]
            running.set_status(state.clock.now(), [Stage("completed")])
            return await real_cancel(ref)

        gw.backend("nemo-v1-sim").adapter.cancel_job = finish_then_cancel  # type: ignore[method-assign]
        with pytest.raises(JobAlreadyTerminal) as caught:
            await gw.cancel_job(job_id)
        assert caught.value.job_status == "succeeded"
        assert caught.value.problem().status == 409


async def test_a_running_job_is_still_cancelled() -> None:
    async with AsyncGateway() as gw:
        state = gw.simulator("overmind-sim")
        table = gw.backend("overmind-sim").adapter.status_table
        running = next(
            j for j in state.jobs.values() if table.lookup(state.status_of(j)).value == "running"
        )
        job = await gw.cancel_job(gw.job_id("overmind-sim", running.id))
        assert job.status.value in {"cancelling", "cancelled"}
