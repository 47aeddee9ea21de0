"""Submitting through DataRobotAdapter to the DataRobot simulator, recorded as vcrpy cassettes.

Record: `pytest tests/vendors/test_datarobot_genai_submit_cassettes.py --record-mode=once`;
replay (CI): `--record-mode=none`. The simulator runs on a frozen clock and numbers its job
ids deterministically, so recordings (request bodies included) are stable.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette

from gateway.adapters import BackendContext
from gateway.core.async_gateway import AsyncGateway
from gateway.errors import InvalidRequest, UpstreamError
from gateway.ids import JobRef
from gateway.schemas import FieldError, JobStatus, SubmitRequest
from gateway.simulators import (
    Fault,
    SimClock,
    SimState,
    SimTransport,
    client_for,
    create_app,
    sim_base_url,
)
from gateway.vendors.datarobot_genai.adapter import DataRobotAdapter, to_submission
from tests.support.cassettes import cassette_dir

VENDOR = "datarobot-genai"
KEY = "sim-key-datarobot-genai"
BASE = sim_base_url(VENDOR)
BACKEND = "dr-sim"
START = "POST /api/v2/genai/evaluationDatasetMetricAggregations/"
INSIGHTS = [
    {
        "insightName": "Faithfulness",
        "insightType": "Quality metric",
        "aggregationTypes": ["average", "percentYes"],
    }
]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@pytest.fixture
def app() -> Starlette:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)
    return create_app(VENDOR, state=state)


@pytest.fixture
async def adapter(app: Starlette) -> AsyncIterator[DataRobotAdapter]:
    context = BackendContext(backend=BACKEND, vendor=VENDOR, base_url=BASE, secrets=(KEY,))
    headers = DataRobotAdapter.auth_headers(KEY, "token")
    made = DataRobotAdapter(context, client_for(VENDOR, app, headers=headers))
    yield made
    await made.http.aclose()


def sim(app: Starlette) -> SimState:
    state: SimState = app.state.sim
    return state


def calls(cassette: Any) -> list[str]:
    """`METHOD path` of every request in the cassette (recorded now, or replayed)."""
    return [f"{r.method} {urlsplit(r.uri).path}" for r in cassette.requests]


def request(**changes: Any) -> SubmitRequest:
    fields: dict[str, Any] = {
        "evaluation": "66b0c1d2e3f4a5b6c7d8e9a1",
        "targets": [{"model": "66b0c1d2e3f4a5b6c7d8e9b1"}],
        "name": "gateway-eval",
        "vendor_options": {"insightsConfiguration": INSIGHTS},
    }
    fields.update(changes)
    return SubmitRequest.model_validate(fields)


@pytest.mark.vcr
async def test_submit_starts_one_job_and_reads_its_status_back(
    adapter: DataRobotAdapter, vcr: Any
) -> None:
    jobs = await adapter.submit(request())
    assert len(jobs) == 1
    job = jobs[0]
    assert UUID.match(job.vendor_job_id)
    assert job.id == f"{BACKEND}~genai~{job.vendor_job_id}"
    assert (job.status, job.vendor_status) == (JobStatus.QUEUED, "INITIALIZED")
    assert job.raw is not None and job.raw["statusId"] == job.vendor_job_id
    assert calls(vcr) == [START, f"GET /api/v2/genai/status/{job.vendor_job_id}/"]
    assert json.loads(vcr.requests[0].body) == {
        "chatName": "gateway-eval",
        "llmBlueprintIds": ["66b0c1d2e3f4a5b6c7d8e9b1"],
        "evaluationDatasetConfigurationId": "66b0c1d2e3f4a5b6c7d8e9a1",
        "insightsConfiguration": INSIGHTS,
    }


@pytest.mark.vcr
async def test_submitted_job_runs_its_lifecycle_to_success(
    adapter: DataRobotAdapter, app: Starlette
) -> None:
    (job,) = await adapter.submit(request())
    ref = JobRef(BACKEND, ("genai", job.vendor_job_id))
    seen = [job.status]
    for _ in range(2):
        sim(app).clock.advance(4)
        seen.append((await adapter.get_job(ref)).status)
    assert seen == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    assert (await adapter.get_result(ref)).status is JobStatus.SUCCEEDED


@pytest.mark.vcr
async def test_several_blueprints_are_one_job_with_rows_for_each(
    adapter: DataRobotAdapter, app: Starlette
) -> None:
    targets = [{"model": "66b0c1d2e3f4a5b6c7d8e9b1"}, {"model": "66b0c1d2e3f4a5b6c7d8e9b2"}]
    jobs = await adapter.submit(request(targets=targets))
    assert len(jobs) == 1
    sim(app).clock.advance(8)
    listed = await adapter.http.request(
        "GET",
        "/api/v2/genai/evaluationDatasetMetricAggregations/",
        params={"llmBlueprintIds": [t["model"] for t in targets]},
    )
    rows = json.loads(listed.content)["data"]
    assert sorted((r["llmBlueprintId"], r["aggregationType"]) for r in rows) == [
        ("66b0c1d2e3f4a5b6c7d8e9b1", "average"),
        ("66b0c1d2e3f4a5b6c7d8e9b1", "percentYes"),
        ("66b0c1d2e3f4a5b6c7d8e9b2", "average"),
        ("66b0c1d2e3f4a5b6c7d8e9b2", "percentYes"),
    ]
    assert {r["chatName"] for r in rows} == {"gateway-eval"}


@pytest.mark.vcr
async def test_vendor_422_is_an_invalid_request_with_its_field_errors(
    adapter: DataRobotAdapter, vcr: Any
) -> None:
    insights = [{"insightName": "Faithfulness", "aggregationTypes": ["median"]}]
    with pytest.raises(InvalidRequest) as caught:
        await adapter.submit(request(vendor_options={"insightsConfiguration": insights}))
    assert caught.value.vendor_status_code == 422
    assert caught.value.errors is not None
    # The vendor's location, named as the canonical request's field.
    loc = ["body", "vendor_options", "insightsConfiguration", 0, "aggregationTypes"]
    assert caught.value.errors[0].loc == loc
    assert calls(vcr) == [START]  # nothing was started, so nothing to read back


async def test_refused_fields_never_reach_the_vendor(
    adapter: DataRobotAdapter, app: Starlette
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await adapter.submit(request(temperature=0.3, name=None))
    assert caught.value.errors is not None
    assert [e.loc for e in caught.value.errors] == [["body", "name"], ["body", "temperature"]]
    assert sim(app).requests[START] == 0


@pytest.mark.vcr
async def test_server_error_on_start_is_not_retried(
    adapter: DataRobotAdapter, app: Starlette, vcr: Any
) -> None:
    sim(app).arm(Fault("server_error", status=500, path=re.compile("MetricAggregations")))
    with pytest.raises(UpstreamError) as caught:
        await adapter.submit(request())
    assert caught.value.vendor_status_code == 500
    assert calls(vcr) == [START]


@pytest.mark.vcr
async def test_a_failed_read_back_still_returns_the_created_job(
    adapter: DataRobotAdapter, app: Starlette, vcr: Any
) -> None:
    sim(app).arm(Fault("server_error", status=500, path=re.compile("/genai/status/")))
    (job,) = await adapter.submit(request())
    assert UUID.match(job.vendor_job_id)
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, None)
    assert job.message is not None and job.message.startswith("created; its status could not")
    assert job.raw == {"jobId": job.vendor_job_id}
    assert calls(vcr) == [START, f"GET /api/v2/genai/status/{job.vendor_job_id}/"]


@pytest.mark.vcr
async def test_submission_through_the_gateway(app: Starlette, vcr: Any) -> None:
    sim(app).api_key = None  # the config below carries no credential
    config = {"backends": {BACKEND: {"vendor": VENDOR, "base_url": BASE}}}
    async with AsyncGateway(config, transports={BACKEND: SimTransport(app)}) as gateway:
        submission = await gateway.submit(BACKEND, request().model_dump(exclude_none=True))
    assert (submission.backend, submission.requested, submission.vendor) == (
        BACKEND,
        BACKEND,
        VENDOR,
    )
    (job,) = submission.jobs
    assert (job.status, job.raw) == (JobStatus.QUEUED, None)
    assert calls(vcr).count(START) == 1


def test_field_error_shape_matches_cannot_express(adapter: DataRobotAdapter) -> None:
    expected = adapter.cannot_express(
        "top_p", "sampling is part of the LLM blueprint's own settings"
    )
    with pytest.raises(InvalidRequest) as caught:
        to_submission(adapter.context, request(top_p=0.5))
    assert caught.value.errors == expected.errors
    assert caught.value.detail == expected.detail
    assert isinstance(expected.errors, list) and isinstance(expected.errors[0], FieldError)
