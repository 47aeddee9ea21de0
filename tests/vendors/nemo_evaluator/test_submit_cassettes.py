"""NeMo Evaluator submission (v1 and v2) through the adapters against the simulator, recorded.

Record: `pytest tests/vendors/nemo_evaluator/test_submit_cassettes.py --record-mode=once`;
replay (CI): `--record-mode=none`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.errors import InvalidRequest, UpstreamError, UpstreamRateLimited
from gateway.ids import JobRef
from gateway.schemas import JobStatus, SubmitRequest
from gateway.simulators import SimState
from gateway.vendors.nemo_evaluator.sim.data import v1_id, v2_id
from tests.support.cassettes import cassette_dir
from tests.vendors.nemo_evaluator.test_cassettes import VENDOR, Backend

pytestmark = pytest.mark.vcr

ENDPOINT = "http://nemo-nim-proxy:8000/v1/chat/completions"
MODEL = "meta/llama-3.1-8b-instruct"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@pytest.fixture
async def nemo_v1() -> AsyncIterator[Backend]:
    backend = Backend("v1")
    yield backend
    await backend.http.aclose()


@pytest.fixture
async def nemo_v2() -> AsyncIterator[Backend]:
    backend = Backend("v2")
    yield backend
    await backend.http.aclose()


def request(**fields: Any) -> SubmitRequest:
    fields.setdefault("evaluation", "nvidia/test-benchmark")
    fields.setdefault("targets", [{"model": MODEL, "endpoint": ENDPOINT}])
    return SubmitRequest.model_validate(fields)


def posts(backend: Backend, api: str) -> int:
    """Create requests the simulator saw (on replay vcr answers instead, and refuses any
    request the cassette lacks)."""
    state: SimState = backend.app.state.sim
    return state.requests[f"POST /{api}/evaluation/jobs"]


def created_id(api: str, seq: int = 1) -> str:
    """The id the simulator gives the `seq`-th job created through `api` (fresh state)."""
    key = f"{api}-created-{seq}"
    return v1_id("eval", key) if api == "v1" else v2_id(key)


async def test_v1_submit_creates_one_queued_job_that_runs_to_its_result(nemo_v1: Backend) -> None:
    jobs = await nemo_v1.adapter.submit(request())
    assert len(jobs) == 1
    job = jobs[0]
    assert job.id == f"nemo~{created_id('v1')}"
    assert (job.status, job.vendor_status, job.api_version) == (JobStatus.QUEUED, "created", "v1")
    assert job.raw["config"] == {"type": "custom", "namespace": "nvidia", "name": "test-benchmark"}
    assert job.raw["target"] == {
        "type": "model",
        "model": {"api_endpoint": {"url": ENDPOINT, "model_id": MODEL}},
    }
    # created 1 s -> pending 1 s -> running 5 s -> completed
    await nemo_v1.advance(4.5)
    running = await nemo_v1.adapter.get_job(JobRef("nemo", (job.vendor_job_id,)))
    assert (running.status, running.progress) == (JobStatus.RUNNING, 0.5)
    await nemo_v1.advance(5.0)
    result = await nemo_v1.adapter.get_result(JobRef("nemo", (job.vendor_job_id,)))
    assert result.status is JobStatus.SUCCEEDED
    assert result.metrics


async def test_v1_submit_passes_the_documented_vendor_options(nemo_v1: Backend) -> None:
    options = {
        "namespace": "my-organization",
        "description": "nightly regression",
        "project": "project-123",
        "custom_fields": {"team": "evals"},
        "output_files_url": "hf://datasets/my-organization/nightly",
        "ownership": {"created_by": "ci"},
    }
    [job] = await nemo_v1.adapter.submit(
        request(targets=[{"model": "Llama3.1-8B-Instruct"}], vendor_options=options)
    )
    assert {key: job.raw[key] for key in options} == options
    assert job.raw["target"] == {"type": "model", "model": "Llama3.1-8B-Instruct"}
    links = {link.rel: link.href for link in job.links}
    assert links["output-files"] == options["output_files_url"]


async def test_v2_submit_names_the_job(nemo_v2: Backend) -> None:
    [job] = await nemo_v2.adapter.submit(
        request(name="nightly-mmlu", vendor_options={"namespace": "team", "project": "p"})
    )
    assert job.id == f"nemo~{created_id('v2')}"
    assert (job.name, job.status, job.vendor_status) == (
        "nightly-mmlu",
        JobStatus.QUEUED,
        "created",
    )
    assert job.raw["spec"]["target"]["model"]["api_endpoint"]["model_id"] == MODEL
    assert (job.raw["namespace"], job.raw["project"]) == ("team", "p")
    await nemo_v2.advance(2.5)
    again = await nemo_v2.adapter.get_job(JobRef("nemo", (job.vendor_job_id,)))
    assert (again.status, again.vendor_status) == (JobStatus.RUNNING, "active")


async def test_v2_submit_without_a_name_gets_the_services_name(nemo_v2: Backend) -> None:
    [job] = await nemo_v2.adapter.submit(request(targets=[{"model": MODEL}]))
    assert job.name  # EvaluatorV2Job.name is required; the service picks one
    assert job.raw["spec"]["target"] == {"type": "model", "model": MODEL}


@pytest.mark.parametrize("api", ["v1", "v2"])
async def test_refused_submission_never_reaches_the_vendor(
    nemo_v1: Backend, nemo_v2: Backend, api: str
) -> None:
    backend = nemo_v1 if api == "v1" else nemo_v2
    with pytest.raises(InvalidRequest) as caught:
        await backend.adapter.submit(request(temperature=0.3))
    assert caught.value.problem().errors is not None
    assert posts(backend, api) == 0


async def test_submit_server_error_is_not_retried(nemo_v1: Backend) -> None:
    await nemo_v1.fault(kind="server_error", status=500, path="/v1/evaluation/jobs$")
    with pytest.raises(UpstreamError) as caught:
        await nemo_v1.adapter.submit(request())
    # One POST only: on replay the cassette holds one answer, so a second try would fail.
    assert caught.value.problem().vendor_status_code == 500


async def test_submit_rate_limit_is_typed(nemo_v2: Backend) -> None:
    await nemo_v2.fault(kind="rate_limit", retry_after=3, path="/v2/evaluation/jobs$")
    with pytest.raises(UpstreamRateLimited) as caught:
        await nemo_v2.adapter.submit(request())
    assert caught.value.problem().retry_after == 3
