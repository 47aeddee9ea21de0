"""DigitalOcean submissions through the adapter against its simulator, via recorded cassettes.

Record: `pytest tests/vendors/test_digitalocean_genai_submit_cassettes.py --record-mode=once`;
replay (CI): `--record-mode=none`. Faults are armed on the simulator state directly.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.adapters import BackendContext
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.schemas import JobStatus, SubmitRequest
from gateway.simulators import Fault, SimClock, SimState, client_for, create_app, sim_base_url
from gateway.vendors.digitalocean_genai.adapter import DigitalOceanAdapter
from gateway.vendors.digitalocean_genai.sim.data import AGENTS, REFUND_POLICY, SUPPORT_REGRESSION
from tests.support.cassettes import cassette_dir

VENDOR = "digitalocean-genai"
KEY = "sim-key-digitalocean-genai"
BACKEND = "do-sim"
START = 1767225600.0
AGENT_1, AGENT_2 = list(AGENTS)
RUN_ID = re.compile(r"[0-9a-f]{8}-b351-11ef-bf8f-4e013e2ddde4")


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=START, frozen=True), api_key=KEY)


async def _adapter(state: SimState, key: str) -> DigitalOceanAdapter:
    app = create_app(VENDOR, state=state)
    context = BackendContext(
        backend=BACKEND, vendor=VENDOR, base_url=sim_base_url(VENDOR), secrets=(KEY,)
    )
    headers = DigitalOceanAdapter.auth_headers(key, "bearer")
    return DigitalOceanAdapter(context, client_for(VENDOR, app, headers=headers))


@pytest.fixture
async def adapter(state: SimState) -> AsyncIterator[DigitalOceanAdapter]:
    made = await _adapter(state, KEY)
    yield made
    await made.http.aclose()


def submission(*agents: str, **fields: Any) -> SubmitRequest:
    return SubmitRequest.model_validate(
        {
            "evaluation": fields.pop("evaluation", REFUND_POLICY),
            "targets": [{"type": "agent", "agent": a} for a in agents or (AGENT_1,)],
            **fields,
        }
    )


def runs_created(state: SimState, before: set[str]) -> list[str]:
    return sorted(set(state.jobs) - before)


@pytest.mark.vcr
async def test_submit_one_agent_is_one_queued_job(adapter: DigitalOceanAdapter) -> None:
    [job] = await adapter.submit(submission(AGENT_1, name="nightly-regression"))
    assert RUN_ID.fullmatch(job.vendor_job_id)
    assert job.id == f"{BACKEND}~{job.vendor_job_id}"
    assert (job.status, job.vendor_status) == (JobStatus.QUEUED, "EVALUATION_RUN_QUEUED")
    assert (job.backend, job.vendor, job.name) == (BACKEND, VENDOR, "nightly-regression")
    assert job.created_at is not None and job.finished_at is None
    assert job.raw is not None
    run = job.raw["evaluation_run"]
    assert (run["test_case_uuid"], run["agent_uuid"]) == (REFUND_POLICY, AGENT_1)


@pytest.mark.vcr
async def test_submit_two_agents_is_two_jobs_each_read_back(
    adapter: DigitalOceanAdapter,
) -> None:
    jobs = await adapter.submit(submission(AGENT_1, AGENT_2, name="canary-vs-main"))
    assert len({j.id for j in jobs}) == 2
    assert all(j.status is JobStatus.QUEUED and j.name == "canary-vs-main" for j in jobs)
    assert [j.raw["evaluation_run"]["agent_name"] for j in jobs if j.raw] == [
        "support-bot",
        "support-bot-canary",
    ]


@pytest.mark.vcr
async def test_submit_to_a_deployment_named_in_vendor_options(
    adapter: DigitalOceanAdapter,
) -> None:
    jobs = await adapter.submit(
        submission(
            AGENT_1,
            "support-adk",
            evaluation=SUPPORT_REGRESSION,
            vendor_options={"agent_deployment_names": ["support-adk"]},
        )
    )
    runs = [j.raw["evaluation_run"] for j in jobs if j.raw]
    assert [(r.get("agent_uuid"), r.get("agent_deployment_name")) for r in runs] == [
        (AGENT_1, None),
        (None, "support-adk"),
    ]
    assert all(r["test_case_uuid"] == SUPPORT_REGRESSION for r in runs)


@pytest.mark.vcr
async def test_submit_without_a_name_lets_the_vendor_name_the_run(
    adapter: DigitalOceanAdapter,
) -> None:
    [job] = await adapter.submit(submission())
    assert job.name == f"run-{START:.0f}"


@pytest.mark.vcr
async def test_submitted_run_goes_through_its_lifecycle(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    [job] = await adapter.submit(submission(name="lifecycle"))
    ref = JobRef(BACKEND, (job.vendor_job_id,))
    seen = [job.vendor_status]
    for _ in range(4):
        state.clock.advance(2.5)
        seen.append((await adapter.get_job(ref)).vendor_status)
    assert seen == [
        "EVALUATION_RUN_QUEUED",
        "EVALUATION_RUN_RUNNING_DATASET",
        "EVALUATION_RUN_RUNNING_DATASET",
        "EVALUATION_RUN_EVALUATING_RESULTS",
        "EVALUATION_RUN_SUCCESSFUL",
    ]
    result = await adapter.get_result(ref)
    assert result.status is JobStatus.SUCCEEDED and result.rows


@pytest.mark.vcr
async def test_submit_to_an_unknown_test_case_is_invalid_request(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await adapter.submit(submission(evaluation="no-such-test-case"))
    problem = raised.value.problem()
    assert (problem.vendor_status_code, problem.vendor_error["id"]) == (404, "not_found")


@pytest.mark.vcr
async def test_create_rate_limited_is_the_typed_error(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    state.arm(Fault("rate_limit", retry_after=4))
    with pytest.raises(UpstreamRateLimited) as raised:
        await adapter.submit(submission())
    assert raised.value.problem().retry_after == 4.0


@pytest.mark.vcr
async def test_create_server_error_is_the_typed_error(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    state.arm(Fault("server_error", status=500))
    with pytest.raises(UpstreamError) as raised:
        await adapter.submit(submission())
    assert raised.value.problem().vendor_status_code == 500


@pytest.mark.vcr
async def test_a_failed_read_back_still_returns_the_created_run(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    state.arm(Fault("server_error", status=500, path=re.compile(r"/evaluation_runs/[^/]+$")))
    [job] = await adapter.submit(submission(name="unread"))
    assert (job.status, job.vendor_status, job.name) == (JobStatus.UNKNOWN, None, "unread")
    assert job.message is not None and job.message.startswith("created; its status could not")
    later = await adapter.get_job(JobRef(BACKEND, (job.vendor_job_id,)))
    assert later.status is JobStatus.QUEUED


@pytest.mark.vcr
async def test_submit_with_a_refused_credential(state: SimState) -> None:
    adapter = await _adapter(state, "wrong-key")
    try:
        with pytest.raises(UpstreamAuthFailed):
            await adapter.submit(submission())
    finally:
        await adapter.http.aclose()


async def test_refused_fields_never_reach_the_simulator(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    served = sum(state.requests.values())
    with pytest.raises(InvalidRequest):
        await adapter.submit(submission(max_tokens=64))
    assert sum(state.requests.values()) == served


# -- straight against the simulator (its state is only there when not replaying) -------------


async def test_one_vendor_run_per_target_in_the_simulator(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    before = set(state.jobs)
    jobs = await adapter.submit(
        submission(
            AGENT_1,
            AGENT_2,
            "support-adk",
            vendor_options={"agent_deployment_names": ["support-adk"]},
        )
    )
    assert sorted(j.vendor_job_id for j in jobs) == runs_created(state, before)
    targets = [
        (
            state.jobs[j.vendor_job_id].data.get("agent_uuid"),
            state.jobs[j.vendor_job_id].data.get("agent_deployment_name"),
        )
        for j in jobs
    ]
    assert targets == [(AGENT_1, None), (AGENT_2, None), (None, "support-adk")]


@pytest.mark.parametrize(
    "fault",
    [Fault("rate_limit", retry_after=4), Fault("server_error", status=500)],
    ids=["rate_limit", "server_error"],
)
async def test_a_refused_create_creates_no_run(
    adapter: DigitalOceanAdapter, state: SimState, fault: Fault
) -> None:
    before = set(state.jobs)
    state.arm(fault)
    with pytest.raises(GatewayError) as raised:
        await adapter.submit(submission())
    assert raised.value.vendor_status_code in (429, 500)
    assert runs_created(state, before) == []
