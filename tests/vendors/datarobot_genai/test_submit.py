"""The canonical submission -> DataRobot's metric-aggregation start body (pure translation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.adapters import BackendContext
from gateway.errors import InvalidRequest, UpstreamInvalidResponse
from gateway.schemas import SubmitRequest
from gateway.vendors.datarobot_genai.adapter import to_submission
from gateway.vendors.datarobot_genai.submit import aggregations_path, created_job_id

EXAMPLES = Path(__file__).parent / "fixtures"  # the contract's examples
CTX = BackendContext(backend="dr", vendor="datarobot-genai", base_url="https://dr.example")
INSIGHTS = [
    {
        "insightName": "Faithfulness",
        "insightType": "Quality metric",
        "aggregationTypes": ["average"],
    }
]
BLUEPRINT = "66b0c1d2e3f4a5b6c7d8e9f0"
CONFIG = "66b0c1d2e3f4a5b6c7d8e9f1"


def request(**changes: Any) -> SubmitRequest:
    fields: dict[str, Any] = {
        "evaluation": CONFIG,
        "targets": [{"model": BLUEPRINT}],
        "name": "nightly-eval",
        "vendor_options": {"insightsConfiguration": INSIGHTS},
    }
    fields.update(changes)
    return SubmitRequest.model_validate(fields)


def refused(req: SubmitRequest) -> dict[str, str]:
    """field -> error type of every field the refusal names."""
    with pytest.raises(InvalidRequest) as caught:
        to_submission(CTX, req)
    assert caught.value.backend == "dr" and caught.value.vendor == "datarobot-genai"
    assert caught.value.errors is not None
    found = {}
    for error in caught.value.errors:
        assert error.loc[0] == "body"
        field = ".".join(str(part) for part in error.loc[1:])
        assert f"'{field}'" in error.msg and f"'{field}'" in caught.value.detail
        found[field] = error.type or ""
    return found


# -- the mapping ----------------------------------------------------------------------------------


def test_the_contract_example_body_is_what_the_canonical_request_becomes() -> None:
    example = json.loads(
        (
            EXAMPLES / "evaluation_dataset_metric_aggregation.create.request.constructed.json"
        ).read_text()
    )
    assert to_submission(CTX, request()) == example


def test_every_model_target_is_an_llm_blueprint_of_the_one_job() -> None:
    body = to_submission(CTX, request(targets=[{"model": "bp-a"}, {"model": "bp-b"}]))
    assert body["llmBlueprintIds"] == ["bp-a", "bp-b"]


def test_insights_configuration_is_passed_as_is() -> None:
    insights = [
        {"insightName": "Faithfulness", "llmId": "azure-openai-gpt-4-o", "stage": "response"},
        {"insightName": "Latency", "aggregationTypes": ["average"], "customMetricId": None},
    ]
    body = to_submission(CTX, request(vendor_options={"insightsConfiguration": insights}))
    assert body["insightsConfiguration"] == insights


def test_the_start_path_honours_an_api_v2_base_url() -> None:
    assert aggregations_path(CTX) == "/api/v2/genai/evaluationDatasetMetricAggregations/"
    api_base = BackendContext(backend="dr", vendor="datarobot-genai", base_url="https://h/api/v2")
    assert aggregations_path(api_base) == "/genai/evaluationDatasetMetricAggregations/"


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 0.2), ("top_p", 0.9), ("max_tokens", 256), ("num_samples", 10)],
)
def test_sampling_and_sample_count_are_refused_by_name(field: str, value: Any) -> None:
    assert refused(request(**{field: value})) == {field: "unsupported"}


def test_an_agent_target_is_refused_by_its_position() -> None:
    targets = [{"model": BLUEPRINT}, {"type": "agent", "agent": "my-agent"}]
    assert refused(request(targets=targets)) == {"targets.1.agent": "unsupported"}


def test_an_endpoint_is_refused() -> None:
    targets = [{"model": BLUEPRINT, "endpoint": "https://llm.example/v1"}]
    assert refused(request(targets=targets)) == {"targets.0.endpoint": "unsupported"}


def test_a_missing_name_is_refused_as_required_never_made_up() -> None:
    assert refused(request(name=None)) == {"name": "missing"}


def test_missing_insights_configuration_is_refused_as_required() -> None:
    assert refused(request(vendor_options={})) == {
        "vendor_options.insightsConfiguration": "missing"
    }


@pytest.mark.parametrize(
    "value",
    [
        {"insightName": "x"},
        "Faithfulness",
        [{"insightType": "Quality metric"}],
        [{"insightName": 3}],
    ],
)
def test_a_malformed_insights_configuration_is_refused(value: Any) -> None:
    assert refused(request(vendor_options={"insightsConfiguration": value})) == {
        "vendor_options.insightsConfiguration": "unsupported"
    }


@pytest.mark.parametrize("key", ["chatName", "llmBlueprintIds", "evaluationDatasetConfigurationId"])
def test_body_fields_the_canonical_request_sets_are_refused_as_vendor_options(key: str) -> None:
    options = {"insightsConfiguration": INSIGHTS, key: "x"}
    assert refused(request(vendor_options=options)) == {f"vendor_options.{key}": "unsupported"}


@pytest.mark.parametrize("key", ["insights_configuration", "chatId", "llmSettings"])
def test_unknown_vendor_options_are_refused_by_name(key: str) -> None:
    options = {"insightsConfiguration": INSIGHTS, key: {}}
    assert refused(request(vendor_options=options)) == {f"vendor_options.{key}": "unsupported"}


def test_every_refused_field_is_named_at_once() -> None:
    req = request(
        name=None,
        targets=[{"type": "agent", "agent": "a", "endpoint": "https://a.example"}],
        temperature=0.1,
        num_samples=3,
        vendor_options={"seed": 1},
    )
    assert refused(req) == {
        "targets.0.agent": "unsupported",
        "targets.0.endpoint": "unsupported",
        "name": "missing",
        "temperature": "unsupported",
        "num_samples": "unsupported",
        "vendor_options.seed": "unsupported",
        "vendor_options.insightsConfiguration": "missing",
    }


# -- the start answer -----------------------------------------------------------------------------


def test_the_contract_example_answer_gives_its_job_id() -> None:
    example = json.loads(
        (
            EXAMPLES / "evaluation_dataset_metric_aggregation.create.response.constructed.json"
        ).read_text()
    )
    assert created_job_id(CTX, example) == "6f1c2a9e-3b7d-4e25-9a61-2c8f0d4b7e13"


@pytest.mark.parametrize(
    "payload", [None, [], "abc", {}, {"jobId": None}, {"jobId": 7}, {"jobId": " "}, {"jobId": ".."}]
)
def test_an_answer_without_a_job_id_is_an_invalid_response(payload: Any) -> None:
    with pytest.raises(UpstreamInvalidResponse, match="without a jobId"):
        created_job_id(CTX, payload)
