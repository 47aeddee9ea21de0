"""The adapters' create bodies, sent by NVIDIA's own SDK (nemo-microservices 1.5.0) to the
simulator: the SDK takes each body as its typed create params, and parses the simulator's answer
strictly (`_strict_response_validation=True`) into EvaluationJob / EvaluatorV2Job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.adapters import BackendContext
from gateway.schemas import SubmitRequest
from gateway.simulators import SimClock, SimState, SimTransport, create_app, sim_base_url
from gateway.vendors.nemo_evaluator import v1, v2

pytestmark = pytest.mark.sdk
nemo = pytest.importorskip("nemo_microservices")

from nemo_microservices.types.shared import HTTPValidationError  # noqa: E402

VENDOR = "nemo-evaluator"
BASE_URL = sim_base_url(VENDOR)
CTX1 = BackendContext(backend="nemo", vendor=VENDOR, api_version="v1")
CTX2 = BackendContext(backend="nemo", vendor=VENDOR, api_version="v2")
ENDPOINT = "http://nemo-nim-proxy:8000/v1/chat/completions"
MODEL = "meta/llama-3.1-8b-instruct"
TARGETS = {
    "endpoint": [{"model": MODEL, "endpoint": ENDPOINT}],
    "model-id": [{"model": "Llama3.1-8B-Instruct"}],
}


@pytest.fixture
def app() -> Starlette:
    return create_app(VENDOR, state=SimState(clock=SimClock(start=1767225600.0, frozen=True)))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[Any]:
    http = httpx.AsyncClient(transport=SimTransport(app), base_url=BASE_URL)
    sdk = nemo.AsyncNeMoMicroservices(
        base_url=BASE_URL, http_client=http, max_retries=0, _strict_response_validation=True
    )
    yield sdk
    await sdk.close()


def request(targets: str, **fields: Any) -> SubmitRequest:
    return SubmitRequest.model_validate(
        {"evaluation": "nvidia/test-benchmark", "targets": TARGETS[targets], **fields}
    )


@pytest.mark.parametrize("targets", TARGETS)
async def test_v1_sdk_create_accepts_the_body_and_the_answer(client: Any, targets: str) -> None:
    options = {
        "namespace": "my-organization",
        "description": "nightly",
        "project": "project-123",
        "custom_fields": {"team": "evals"},
        "output_files_url": "hf://datasets/my-organization/nightly",
        "ownership": {"created_by": "ci"},
    }
    body = v1.to_submission(CTX1, request(targets, vendor_options=options))
    created = await client.evaluation.jobs.create(**body)
    assert (created.status, created.namespace, created.project) == (
        "created",
        "my-organization",
        "project-123",
    )
    assert created.output_files_url == options["output_files_url"]
    assert created.ownership is not None and created.ownership.created_by == "ci"
    assert created.target.type == "model"
    # The answer parses into the adapter's Job too.
    job = v1.to_job(CTX1, created.model_dump(mode="json", exclude_unset=True))
    assert job.vendor_job_id == created.id


@pytest.mark.parametrize("targets", TARGETS)
async def test_v2_sdk_create_accepts_the_body_and_the_answer(client: Any, targets: str) -> None:
    body = v2.to_submission(
        CTX2,
        request(targets, name="nightly-mmlu", vendor_options={"ownership": {"created_by": "ci"}}),
    )
    created = await client.v2.evaluation.jobs.create(**body)
    assert (created.name, created.status) == ("nightly-mmlu", "created")
    assert created.ownership == {"created_by": "ci"}
    assert created.spec.target.type == "model"
    job = v2.to_job(CTX2, created.model_dump(mode="json", exclude_unset=True))
    assert (job.vendor_job_id, job.name) == (created.id, "nightly-mmlu")


async def test_v2_sdk_create_without_a_name_still_parses(client: Any) -> None:
    # EvaluatorV2Job.name is required by the SDK: the simulator always names the job.
    created = await client.v2.evaluation.jobs.create(**v2.to_submission(CTX2, request("model-id")))
    assert created.name


async def test_wrongly_typed_optional_fields_are_the_sdks_validation_error(client: Any) -> None:
    with pytest.raises(nemo.UnprocessableEntityError) as caught:
        await client.evaluation.jobs.create(
            config="nvidia/test-benchmark", target="default/target", extra_body={"namespace": 3}
        )
    HTTPValidationError.model_validate(caught.value.body)
    assert caught.value.body["detail"][0]["loc"] == ["body", "namespace"]
    with pytest.raises(nemo.UnprocessableEntityError):
        await client.v2.evaluation.jobs.create(
            spec={"config": "a/b", "target": "c/d"}, extra_body={"custom_fields": "x"}
        )


async def test_an_inline_configs_limit_samples_drives_progress(app: Starlette, client: Any) -> None:
    created = await client.v2.evaluation.jobs.create(
        spec={
            "config": {"type": "bfclv3", "params": {"limit_samples": 10}},
            "target": {"type": "model", "model": MODEL},
        }
    )
    async with httpx.AsyncClient(transport=SimTransport(app), base_url=BASE_URL) as ctl:
        await ctl.post("/_sim/clock", json={"advance": 4.5})  # created 1 s, pending 1 s, active
    job = await client.v2.evaluation.jobs.retrieve(created.id)
    assert job.status == "active"
    assert job.status_details == {"progress": 50.0, "samples_processed": 5}
