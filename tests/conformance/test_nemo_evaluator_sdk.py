"""The NeMo Evaluator simulator, read by NVIDIA's own SDK (nemo-microservices 1.5.0).

The SDK runs with `_strict_response_validation=True`, so every answer must parse into its
pydantic models (EvaluationJob, EvaluatorV2Job, PlatformJobStatusResponse...), and error
answers must raise its own typed errors.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulators import SimClock, SimState, SimTransport, create_app, sim_base_url
from gateway.vendors.nemo_evaluator.sim.data import V1_STATUSES, V2_STATUSES

pytestmark = pytest.mark.sdk
nemo = pytest.importorskip("nemo_microservices")

from nemo_microservices.types.shared import (  # noqa: E402
    ErrorResponse,
    HTTPValidationError,
)

VENDOR = "nemo-evaluator"
BASE_URL = sim_base_url(VENDOR)
KEY = "sim-key-nemo-evaluator"


def make_app(api_key: str | None = None) -> Starlette:
    return create_app(
        VENDOR, state=SimState(clock=SimClock(start=1767225600.0, frozen=True)), api_key=api_key
    )


def sdk_client(app: Starlette, headers: dict[str, str] | None = None) -> Any:
    http = httpx.AsyncClient(transport=SimTransport(app), base_url=BASE_URL, headers=headers)
    return nemo.AsyncNeMoMicroservices(
        base_url=BASE_URL, http_client=http, max_retries=0, _strict_response_validation=True
    )


@pytest.fixture
def app() -> Starlette:
    return make_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[Any]:
    sdk = sdk_client(app)
    yield sdk
    await sdk.close()


def seeded(app: Starlette, api: str) -> dict[str, str]:
    """Seeded static jobs of one API version: status word -> job id."""
    state: SimState = app.state.sim
    return {
        job.lifecycle[0].status: job.id
        for job in state.jobs.values()
        if job.data["api"] == api and len(job.lifecycle) == 1
    }


# -- v1 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", V1_STATUSES)
async def test_v1_every_seeded_job_and_status_parse(app: Starlette, client: Any, word: str) -> None:
    job_id = seeded(app, "v1")[word]
    job = await client.evaluation.jobs.retrieve(job_id)
    assert (job.id, job.status) == (job_id, word)
    assert job.config.type and job.target.type == "model"
    details = await client.evaluation.jobs.status(job_id)
    assert details.message == (job.status_details.message if job.status_details else None)


async def test_v1_running_status_reports_progress(app: Starlette, client: Any) -> None:
    details = await client.evaluation.jobs.status(seeded(app, "v1")["running"])
    assert (details.progress, details.samples_processed) == (42.5, 85)
    assert details.task_status == {"qa": "running"}


async def test_v1_results_and_downloads_of_completed_job(app: Starlette, client: Any) -> None:
    job_id = seeded(app, "v1")["completed"]
    result = await client.evaluation.jobs.results(job_id)
    assert result.job == job_id
    assert result.tasks is not None
    assert result.tasks["qa"].metrics["bleu"].scores["corpus"].value == 30.1
    assert result.groups is not None
    assert result.groups["evaluation"].metrics["bleu"].scores["corpus"].stats.count == 1
    archive = await client.evaluation.jobs.download_results(job_id)
    assert zipfile.ZipFile(io.BytesIO(await archive.read())).namelist()
    logs = await client.evaluation.jobs.with_raw_response.download_logs(job_id)
    assert logs.headers["content-type"] == "application/zip"


async def test_v1_list_pages_and_status_filter(app: Starlette, client: Any) -> None:
    first = await client.evaluation.jobs.list(page=1, page_size=4)
    assert len(first.data) == 4
    assert first.pagination.total_results == len(V1_STATUSES) + 1
    every = [job.id async for job in client.evaluation.jobs.list(page_size=4)]
    assert len(every) == len(set(every)) == len(V1_STATUSES) + 1
    failed = await client.evaluation.jobs.list(filter={"status": "failed"})
    assert [j.status for j in failed.data] == ["failed"]


async def test_v1_create_cancel_delete(client: Any) -> None:
    created = await client.evaluation.jobs.create(
        config="nvidia/test-benchmark", target={"type": "model", "model": "Llama3.1-8B-Instruct"}
    )
    assert created.status == "created"
    assert await client.evaluation.jobs.cancel(created.id)
    assert (await client.evaluation.jobs.retrieve(created.id)).status == "cancelling"
    assert await client.evaluation.jobs.delete(created.id) is None
    with pytest.raises(nemo.NotFoundError):
        await client.evaluation.jobs.retrieve(created.id)


async def test_v1_errors_raise_the_sdk_typed_errors(app: Starlette, client: Any) -> None:
    with pytest.raises(nemo.NotFoundError) as missing:
        await client.evaluation.jobs.retrieve("eval-doesnotexist")
    ErrorResponse.model_validate(missing.value.body)
    with pytest.raises(nemo.UnprocessableEntityError) as bad_body:
        await client.evaluation.jobs.create(config={"params": {}}, target="default/target")
    HTTPValidationError.model_validate(bad_body.value.body)
    with pytest.raises(nemo.UnprocessableEntityError):
        await client.evaluation.jobs.list(extra_query={"page": "first"})
    with pytest.raises(nemo.ConflictError):
        await client.evaluation.jobs.cancel(seeded(app, "v1")["completed"])
    with pytest.raises(nemo.NotFoundError):
        await client.evaluation.jobs.results(seeded(app, "v1")["running"])


# -- v2 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", V2_STATUSES)
async def test_v2_every_seeded_job_status_and_logs_parse(
    app: Starlette, client: Any, word: str
) -> None:
    job_id = seeded(app, "v2")[word]
    job = await client.v2.evaluation.jobs.retrieve(job_id)
    assert (job.id, job.status) == (job_id, word)
    status = await client.v2.evaluation.jobs.status.retrieve(job_id)
    assert (status.job_id, status.status) == (job_id, word)
    lines = [line async for line in client.v2.evaluation.jobs.logs.list(job_id, limit=1)]
    assert lines
    assert all(line.job_id == job_id for line in lines)
    stored = await client.v2.evaluation.jobs.results.list(job_id)
    assert bool(stored.data) == (word == "completed")
    if word == "error":
        assert job.error_details


async def test_v2_results_of_completed_job(app: Starlette, client: Any) -> None:
    job_id = seeded(app, "v2")["completed"]
    results = client.v2.evaluation.jobs.results
    evaluation = await results.evaluation_results.retrieve(job_id)
    assert evaluation.tasks is not None
    assert evaluation.tasks["qa"].metrics["bleu"].scores["sentence"].stats.mean == 32.5
    stored = await results.retrieve("artifacts", job_id=job_id)
    assert (stored.result_name, stored.artifact_storage_type) == ("artifacts", "nds")
    tarball = await results.artifacts.retrieve(job_id)
    assert gzip.decompress(await tarball.read())


async def test_v2_list_pages_and_status_filter(app: Starlette, client: Any) -> None:
    every = [job.id async for job in client.v2.evaluation.jobs.list(page_size=3)]
    assert len(every) == len(set(every)) == len(V2_STATUSES) + 1
    paused = await client.v2.evaluation.jobs.list(filter={"status": "paused"})
    assert [j.status for j in paused.data] == ["paused"]
    assert paused.pagination.total_results == 1


async def test_v2_create_cancel_delete(client: Any) -> None:
    spec = {
        "config": {"type": "bfclv3", "params": {"limit_samples": 10}},
        "target": {"type": "model", "model": "meta/llama-3.1-8b-instruct"},
    }
    created = await client.v2.evaluation.jobs.create(spec=spec, name="my-eval")
    assert (created.name, created.status) == ("my-eval", "created")
    cancelled = await client.v2.evaluation.jobs.cancel(created.id)
    assert cancelled.status == "cancelling"
    await client.v2.evaluation.jobs.delete(created.id)
    with pytest.raises(nemo.NotFoundError):
        await client.v2.evaluation.jobs.retrieve(created.id)


async def test_v2_errors_raise_the_sdk_typed_errors(app: Starlette, client: Any) -> None:
    with pytest.raises(nemo.NotFoundError) as missing:
        await client.v2.evaluation.jobs.retrieve("job-doesnotexist")
    ErrorResponse.model_validate(missing.value.body)
    with pytest.raises(nemo.UnprocessableEntityError) as bad_filter:
        await client.v2.evaluation.jobs.list(extra_query={"filter[status]": "running"})
    HTTPValidationError.model_validate(bad_filter.value.body)
    with pytest.raises(nemo.UnprocessableEntityError):
        await client.v2.evaluation.jobs.create(spec={"config": "default/cfg"})
    with pytest.raises(nemo.NotFoundError):
        await client.v2.evaluation.jobs.results.evaluation_results.retrieve(
            seeded(app, "v2")["active"]
        )
    # A v1 id is not a v2 job.
    with pytest.raises(nemo.NotFoundError):
        await client.v2.evaluation.jobs.retrieve(seeded(app, "v1")["completed"])


# -- transport-level behaviour ---------------------------------------------------------------


async def test_auth_and_rate_limit_raise_the_sdk_typed_errors() -> None:
    app = make_app(api_key=KEY)
    anonymous = sdk_client(app)
    with pytest.raises(nemo.AuthenticationError):
        await anonymous.evaluation.jobs.list()
    keyed = sdk_client(app, headers={"Authorization": f"Bearer {KEY}"})
    assert (await keyed.evaluation.jobs.list()).data
    async with httpx.AsyncClient(transport=SimTransport(app), base_url=BASE_URL) as control:
        await control.post("/_sim/faults", json={"kind": "rate_limit", "retry_after": 2})
    with pytest.raises(nemo.RateLimitError) as limited:
        await keyed.evaluation.jobs.list()
    assert limited.value.response.headers["retry-after"] == "2"
    await anonymous.close()
    await keyed.close()
