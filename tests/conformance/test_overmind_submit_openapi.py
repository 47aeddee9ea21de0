"""Overmind submission against the reconstructed OpenAPI document.

Overmind has no SDK with a job create (PyPI `overmind` 0.1.106 no longer calls `/api/jobs/`),
so `openapi.reconstructed.yaml` stands in: every body the adapter sends must be a `JobRequest`,
and the simulator's answer to it a `Job` (201, the generated clients' status code).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.conformance.test_overmind_openapi import KEY, documented_job_fields, problems

from gateway.adapters import BackendContext
from gateway.schemas import SubmitRequest
from gateway.simulators import SimClock, SimState, client_for, create_app
from gateway.vendors.overmind.adapter import to_submission
from gateway.vendors.overmind.sim.data import AGENT, PROJECT
from gateway.vendors.overmind.submit import KNOWN_JOB_TYPES

pytestmark = pytest.mark.sdk

CTX = BackendContext(backend="om-sim", vendor="overmind")
OPTIONS: dict[str, Any] = {
    "project": PROJECT,
    "prompt_slug": "support-triage-system",
    "analyzer_model": "claude-sonnet-4",
    "num_iterations": 2,
    "candidates_per_iteration": 3,
    "data_source": "traces",
    "triggered_by": 42,
}
DOCUMENTED_TYPES = KNOWN_JOB_TYPES[:5]


def body_for(job_type: str, **options: Any) -> dict[str, Any]:
    request = SubmitRequest(
        evaluation=job_type,
        targets=[{"type": "agent", "agent": AGENT}],
        vendor_options=options,
    )
    return to_submission(CTX, request)


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)


@pytest.fixture
async def sim(state: SimState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app("overmind", state=state)
    async with client_for("overmind", app, headers={"X-Api-Key": KEY}) as client:
        yield client


@pytest.mark.parametrize("job_type", DOCUMENTED_TYPES)
def test_adapter_bodies_are_strict_job_requests(job_type: str) -> None:
    assert problems("JobRequest", body_for(job_type), drift=False) == []
    assert problems("JobRequest", body_for(job_type, **OPTIONS), drift=False) == []


@pytest.mark.parametrize("job_type", KNOWN_JOB_TYPES[5:])
def test_drifted_job_types_need_only_the_documented_drift(job_type: str) -> None:
    body = body_for(job_type, **OPTIONS)
    assert problems("JobRequest", body) == []
    assert [p.split(":")[0] for p in problems("JobRequest", body, drift=False)] == ["job_type"]


@pytest.mark.parametrize("job_type", KNOWN_JOB_TYPES)
async def test_the_create_answer_is_a_job(sim: httpx.AsyncClient, job_type: str) -> None:
    answer = await sim.post("/api/jobs/", json=body_for(job_type, **OPTIONS))
    assert answer.status_code == 201, answer.text
    assert "location" not in answer.headers  # DRF sends none: the serializer has no `url`
    created = answer.json()
    strict = job_type in DOCUMENTED_TYPES
    assert problems("Job", created, drift=not strict) == []
    assert set(created) <= documented_job_fields()
    assert created["status"] == "pending"
    assert {k: created[k] for k in ("job_type", "agent", *OPTIONS)} == body_for(job_type, **OPTIONS)


async def test_the_submitted_job_validates_through_its_lifecycle(
    sim: httpx.AsyncClient, state: SimState
) -> None:
    created = (await sim.post("/api/jobs/", json=body_for("prompt_tuning", **OPTIONS))).json()
    statuses = []
    for step in (0, 3, 5):
        state.clock.advance(step)
        body = (await sim.get(f"/api/jobs/{created['id']}/")).json()
        statuses.append(body["status"])
        # The running job's unscored iteration is the documented drift (`running`).
        assert problems("Job", body) == []
    assert statuses == ["pending", "running", "completed"]
    assert problems("Job", body, drift=False) == []  # completed: no drift left
    assert body["report_markdown"]


async def test_the_create_refusal_is_a_drf_error(sim: httpx.AsyncClient) -> None:
    answer = await sim.post("/api/jobs/", json=body_for("eval_run"))
    assert answer.status_code == 400
    assert problems("DRFError", answer.json()) == []
