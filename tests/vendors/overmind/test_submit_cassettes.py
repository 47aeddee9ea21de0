"""OvermindAdapter.submit against the Overmind simulator, recorded as vcrpy cassettes.

Record: `pytest tests/vendors/overmind/test_submit_cassettes.py --record-mode=once`; CI
replays them (`--record-mode=none`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from gateway.errors import InvalidRequest, UpstreamAuthFailed, UpstreamError
from gateway.ids import JobRef
from gateway.schemas import JobStatus, SubmitRequest
from gateway.simulators import Fault
from gateway.vendors.overmind.sim.data import AGENT, PROJECT
from tests.support.cassettes import cassette_dir
from tests.vendors.overmind.test_cassettes import Rig, make_rig

pytestmark = pytest.mark.vcr

OPTIONS = {
    "project": PROJECT,
    "prompt_slug": "support-triage-system",
    "analyzer_model": "claude-sonnet-4",
    "num_iterations": 3,
    "candidates_per_iteration": 2,
    "data_source": "traces",
}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir("overmind")


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    made = make_rig()
    yield made
    await made.adapter.http.aclose()


def submission(evaluation: str = "prompt_tuning", **options: object) -> SubmitRequest:
    return SubmitRequest(
        evaluation=evaluation,
        targets=[{"type": "agent", "agent": AGENT}],
        vendor_options={**OPTIONS, **options},
    )


async def test_submit_creates_one_pending_job_and_runs_it_to_its_result(rig: Rig) -> None:
    jobs = await rig.adapter.submit(submission())
    assert len(jobs) == 1
    job = jobs[0]
    assert job.status is JobStatus.QUEUED and job.vendor_status == "pending"
    assert job.id == f"om-sim~{job.vendor_job_id}"
    assert job.raw is not None and job.raw["agent"] == AGENT
    # The create answer carries the status: one POST, no read-back.
    assert [(r.method, r.url.path) for r in rig.sent] == [("POST", "/api/jobs/")]
    assert json.loads(rig.sent[0].content) == {
        "job_type": "prompt_tuning",
        "agent": AGENT,
        **OPTIONS,
    }
    ref = JobRef("om-sim", (job.vendor_job_id,))
    rig.state.clock.advance(3)
    assert (await rig.adapter.get_job(ref)).status is JobStatus.RUNNING
    rig.state.clock.advance(5)
    done = await rig.adapter.get_job(ref)
    assert done.status is JobStatus.SUCCEEDED and done.terminal
    result = await rig.adapter.get_result(ref)
    assert len(result.rows) == OPTIONS["num_iterations"]
    assert {m.name for m in result.metrics} == {"best_score", "baseline_score", "improvement"}
    assert result.raw is not None and result.raw["report_markdown"].startswith("# Optimisation")


async def test_submit_of_a_drifted_job_type_is_accepted(rig: Rig) -> None:
    jobs = await rig.adapter.submit(submission("optimize"))
    assert jobs[0].raw is not None and jobs[0].raw["job_type"] == "optimize"
    assert jobs[0].status is JobStatus.QUEUED


async def test_submit_of_an_unknown_job_type_is_the_vendor_400_named_evaluation(
    rig: Rig,
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await rig.adapter.submit(submission("eval_run"))
    assert caught.value.vendor_status_code == 400
    assert caught.value.vendor_error == {"job_type": ['"eval_run" is not a valid choice.']}
    assert [e.loc for e in caught.value.errors or []] == [["body", "evaluation"]]
    assert len(rig.sent) == 1  # never retried


async def test_submit_refused_locally_makes_no_call(rig: Rig) -> None:
    with pytest.raises(InvalidRequest):
        await rig.adapter.submit(submission(temperature_like=0.2))
    assert rig.sent == []
    assert len(rig.state.jobs) == 7  # the seeded ones only


async def test_submit_with_a_wrong_key_is_upstream_auth_failed() -> None:
    rig = make_rig("wrong-key")
    with pytest.raises(UpstreamAuthFailed):
        await rig.adapter.submit(submission())
    assert len(rig.sent) == 1


async def test_submit_without_credits_is_upstream_error_and_not_retried(rig: Rig) -> None:
    rig.state.arm(Fault("server_error", status=402))
    with pytest.raises(UpstreamError) as caught:
        await rig.adapter.submit(submission())
    assert type(caught.value) is UpstreamError
    assert caught.value.vendor_status_code == 402
    assert len(rig.sent) == 1
