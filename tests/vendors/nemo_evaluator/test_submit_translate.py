"""NeMo Evaluator submission (v1 and v2): canonical request -> job create body, and refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.adapters import BackendContext
from gateway.errors import InvalidRequest, UpstreamInvalidResponse
from gateway.schemas import JobStatus, ProblemType, SubmitRequest
from gateway.vendors.nemo_evaluator import v1, v2
from gateway.vendors.nemo_evaluator.adapter import NemoAdapterBase

FIXTURES = Path(__file__).parent / "fixtures"
CTX1 = BackendContext(backend="nemo", vendor="nemo-evaluator", api_version="v1")
CTX2 = BackendContext(backend="nemo2", vendor="nemo-evaluator", api_version="v2")
ENDPOINT = "http://nemo-nim-proxy:8000/v1/chat/completions"
MODEL = "meta/llama-3.1-8b-instruct"

Translate = Callable[[BackendContext, SubmitRequest], dict[str, Any]]
VERSIONS: dict[str, tuple[BackendContext, Translate]] = {
    "v1": (CTX1, v1.to_submission),
    "v2": (CTX2, v2.to_submission),
}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def request(**fields: Any) -> SubmitRequest:
    fields.setdefault("evaluation", "nvidia/test-benchmark")
    fields.setdefault("targets", [{"model": MODEL, "endpoint": ENDPOINT}])
    return SubmitRequest.model_validate(fields)


def refused(api: str, **fields: Any) -> InvalidRequest:
    ctx, translate = VERSIONS[api]
    with pytest.raises(InvalidRequest) as caught:
        translate(ctx, request(**fields))
    return caught.value


def refused_fields(error: InvalidRequest) -> list[str]:
    problem = error.problem()
    assert problem.type == ProblemType.INVALID_REQUEST.uri()
    assert problem.errors is not None
    assert all(e.type == "unsupported" and e.loc[0] == "body" for e in problem.errors)
    return [".".join(str(p) for p in e.loc[1:]) for e in problem.errors]


INLINE_TARGET: dict[str, Any] = {
    "type": "model",
    "model": {"api_endpoint": {"url": ENDPOINT, "model_id": MODEL}},
}

# -- mapping -----------------------------------------------------------------------------------


def test_v1_model_with_endpoint_is_an_inline_api_endpoint_target() -> None:
    assert v1.to_submission(CTX1, request()) == {
        "config": "nvidia/test-benchmark",
        "target": INLINE_TARGET,
    }


def test_v1_model_without_endpoint_is_the_llama_stack_provider_body() -> None:
    # The model string form, exactly as the Llama Stack NVIDIA provider sends it.
    body = v1.to_submission(CTX1, request(targets=[{"model": "Llama3.1-8B-Instruct"}]))
    assert body == load("v1/job_create.request.llama-stack-provider.json")


def test_v1_vendor_options_are_the_documented_optional_fields() -> None:
    options = {
        "namespace": "my-organization",
        "description": "nightly regression",
        "project": "project-123",
        "custom_fields": {"team": "evals"},
        "output_files_url": "hf://datasets/my-organization/nightly",
        "ownership": {"created_by": "ci"},
    }
    body = v1.to_submission(CTX1, request(vendor_options=options))
    assert body == {"config": "nvidia/test-benchmark", "target": INLINE_TARGET, **options}


def test_v1_by_reference_docs_example_shape() -> None:
    example = load("v1/job_create.request.by-reference.json")
    body = v1.to_submission(
        CTX1,
        request(
            evaluation="my-config-namespace/my-config-name",
            targets=[{"model": "my-model"}],
            vendor_options={"namespace": example["namespace"]},
        ),
    )
    # The same keys as the docs' example; the target is inline (a model), not a stored target.
    assert set(body) == set(example)
    assert body["namespace"] == example["namespace"]
    assert body["config"] == "my-config-namespace/my-config-name"


def test_v2_wraps_config_and_target_in_spec_and_names_the_job() -> None:
    body = v2.to_submission(CTX2, request(name="nightly-mmlu"))
    assert body == {
        "spec": {"config": "nvidia/test-benchmark", "target": INLINE_TARGET},
        "name": "nightly-mmlu",
    }
    # The docs' v2 create example has the same target shape (it adds the target's own name).
    example_target = load("v2/job_create.request.json")["spec"]["target"]
    assert example_target["model"]["api_endpoint"] == INLINE_TARGET["model"]["api_endpoint"]


def test_v2_without_name_or_endpoint() -> None:
    body = v2.to_submission(CTX2, request(targets=[{"model": MODEL}]))
    assert body == {
        "spec": {"config": "nvidia/test-benchmark", "target": {"type": "model", "model": MODEL}}
    }


def test_v2_vendor_options_are_the_documented_optional_fields() -> None:
    options = {
        "namespace": "team",
        "description": "d",
        "project": "p",
        "custom_fields": {"a": 1},
        "ownership": {"created_by": "ci"},
    }
    body = v2.to_submission(CTX2, request(vendor_options=options))
    assert body == {"spec": {"config": "nvidia/test-benchmark", "target": INLINE_TARGET}, **options}


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", VERSIONS)
@pytest.mark.parametrize(
    ("field", "value", "vendor_field"),
    [
        ("temperature", 0.2, "temperature"),
        ("top_p", 0.9, "top_p"),
        ("max_tokens", 256, "max_tokens"),
        ("num_samples", 10, "limit_samples"),
    ],
)
def test_sampling_params_cannot_ride_a_config_by_reference(
    api: str, field: str, value: Any, vendor_field: str
) -> None:
    error = refused(api, **{field: value})
    assert refused_fields(error) == [field]
    assert f"cannot express '{field}'" in error.detail
    assert f"EvaluationParams.{vendor_field}" in error.detail


def test_v1_refuses_a_name() -> None:
    error = refused("v1", name="nightly")
    assert refused_fields(error) == ["name"]
    assert "no name" in error.detail


@pytest.mark.parametrize("api", VERSIONS)
def test_an_agent_target_is_refused(api: str) -> None:
    error = refused(api, targets=[{"type": "agent", "agent": "support-bot"}])
    assert refused_fields(error) == ["targets.0.agent"]


@pytest.mark.parametrize("api", VERSIONS)
def test_several_targets_are_refused(api: str) -> None:
    error = refused(api, targets=[{"model": "a"}, {"model": "b"}])
    assert refused_fields(error) == ["targets"]


@pytest.mark.parametrize("api", VERSIONS)
@pytest.mark.parametrize("evaluation", ["mmlu", "/name", "ns/", "a/b/c"])
def test_evaluation_must_be_a_namespace_name_reference(api: str, evaluation: str) -> None:
    assert refused_fields(refused(api, evaluation=evaluation)) == ["evaluation"]


@pytest.mark.parametrize(
    ("api", "key"),
    [
        ("v1", "seed"),
        ("v1", "config"),
        ("v1", "target"),
        ("v1", "status"),
        ("v1", "result"),
        ("v1", "status_details"),
        ("v1", "name"),
        ("v2", "seed"),
        ("v2", "spec"),
        ("v2", "name"),
        ("v2", "output_files_url"),  # a v1-only field
    ],
)
def test_other_vendor_options_are_refused_by_key(api: str, key: str) -> None:
    error = refused(api, vendor_options={key: "x", "namespace": "ok"})
    assert refused_fields(error) == [f"vendor_options.{key}"]


@pytest.mark.parametrize("api", VERSIONS)
@pytest.mark.parametrize(
    ("key", "value"),
    [("namespace", 3), ("namespace", " "), ("custom_fields", "x"), ("ownership", [1])],
)
def test_vendor_options_of_the_wrong_type_are_refused(api: str, key: str, value: Any) -> None:
    assert refused_fields(refused(api, vendor_options={key: value})) == [f"vendor_options.{key}"]


def test_every_refused_field_is_named_at_once() -> None:
    error = refused(
        "v1",
        evaluation="mmlu",
        targets=[{"model": "m"}, {"type": "agent", "agent": "a"}],
        name="n",
        temperature=0.1,
        num_samples=5,
        vendor_options={"seed": 1},
    )
    assert refused_fields(error) == [
        "evaluation",
        "targets.1.agent",
        "targets",
        "name",
        "temperature",
        "num_samples",
        "vendor_options.seed",
    ]
    problem = error.problem()
    assert (problem.backend, problem.vendor) == ("nemo", "nemo-evaluator")


def test_translation_is_pure() -> None:
    canonical = request(name="x", vendor_options={"custom_fields": {"a": 1}})
    assert v2.to_submission(CTX2, canonical) == v2.to_submission(CTX2, canonical)
    assert canonical.vendor_options == {"custom_fields": {"a": 1}}


# -- the adapter's submit flow around odd create answers (no simulator needed) -----------------


def adapter(api: str, handler: Callable[[httpx.Request], httpx.Response]) -> NemoAdapterBase:
    ctx, _ = VERSIONS[api]
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://nemo")
    return (v1.NemoV1Adapter if api == "v1" else v2.NemoV2Adapter)(ctx, http)


@pytest.mark.parametrize("api", VERSIONS)
async def test_a_create_answer_without_status_is_read_back(api: str) -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(f"{req.method} {req.url.path}")
        if req.method == "POST":
            return httpx.Response(201, json={"id": "eval-NEW"})
        return httpx.Response(200, json={"id": "eval-NEW", "status": "pending"})

    [job] = await adapter(api, handler).submit(request())
    assert (job.vendor_job_id, job.status) == ("eval-NEW", JobStatus.QUEUED)
    assert seen == [f"POST /{api}/evaluation/jobs", f"GET /{api}/evaluation/jobs/eval-NEW"]


async def test_a_failed_read_back_still_answers_the_created_job() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            return httpx.Response(200, json={"id": "eval-NEW"})
        return httpx.Response(503, json={"detail": "busy"})

    [job] = await adapter("v1", handler).submit(request())
    assert (job.vendor_job_id, job.status) == ("eval-NEW", JobStatus.UNKNOWN)
    assert job.message is not None and job.message.startswith("created;")


@pytest.mark.parametrize("answer", [{}, {"status": "created"}, [], None])
async def test_a_create_answer_without_a_job_id_is_invalid(answer: Any) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    with pytest.raises(UpstreamInvalidResponse):
        await adapter("v2", handler).submit(request())


async def test_a_vendor_422_on_create_is_invalid_request_with_its_field_errors() -> None:
    calls = 0

    def handler(req: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        detail = [{"loc": ["body", "config"], "msg": "Config not found", "type": "value_error"}]
        return httpx.Response(422, json={"detail": detail})

    with pytest.raises(InvalidRequest) as caught:
        await adapter("v1", handler).submit(request())
    errors = caught.value.problem().errors
    assert errors is not None
    assert [(e.loc, e.msg) for e in errors] == [(["body", "config"], "Config not found")]
    assert calls == 1
