"""DigitalOcean GenAI submission: the pure canonical -> create-body mapping, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.adapters import BackendContext
from gateway.errors import InvalidRequest, UpstreamInvalidResponse
from gateway.schemas import JobStatus, SubmitRequest
from gateway.vendors.digitalocean_genai.adapter import DigitalOceanAdapter, to_submission
from gateway.vendors.digitalocean_genai.submit import created_run_uuids

CTX = BackendContext(
    backend="do-prod", vendor="digitalocean-genai", base_url="https://api.digitalocean.com"
)
FIXTURES = Path(__file__).parent / "fixtures"
TEST_CASE = "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"
AGENT_1 = "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"
AGENT_2 = "2b418231-b7d6-11ef-bf8f-4e013e2ddde4"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def agent(name: str, **more: Any) -> dict[str, Any]:
    return {"type": "agent", "agent": name, **more}


def request(**fields: Any) -> SubmitRequest:
    fields.setdefault("evaluation", TEST_CASE)
    fields.setdefault("targets", [agent(AGENT_1)])
    return SubmitRequest.model_validate(fields)


def refused(req: SubmitRequest) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        to_submission(CTX, req)
    return raised.value


def refused_fields(req: SubmitRequest) -> list[str]:
    problem = refused(req).problem()
    assert problem.errors is not None
    return [".".join(str(part) for part in error.loc[1:]) for error in problem.errors]


# -- mapping -------------------------------------------------------------------------------


def test_the_official_curl_example_is_what_two_agents_and_a_name_map_to() -> None:
    expected = fixture("run_evaluation_test_case.request.curl-example.json")
    body = to_submission(
        CTX,
        request(targets=[agent(AGENT_1), agent(AGENT_2)], name="My Evaluation Run"),
    )
    assert body == expected


def test_minimal_request_is_test_case_and_agent_uuids_only() -> None:
    assert to_submission(CTX, request()) == {"test_case_uuid": TEST_CASE, "agent_uuids": [AGENT_1]}


def test_name_is_the_run_name() -> None:
    assert to_submission(CTX, request(name="nightly"))["run_name"] == "nightly"


def test_no_name_leaves_run_name_to_the_vendor() -> None:
    assert "run_name" not in to_submission(CTX, request())


def test_deployment_names_are_told_apart_by_vendor_options() -> None:
    body = to_submission(
        CTX,
        request(
            targets=[agent("support-adk"), agent(AGENT_1), agent("billing-adk")],
            vendor_options={"agent_deployment_names": ["support-adk", "billing-adk"]},
        ),
    )
    assert body == {
        "test_case_uuid": TEST_CASE,
        "agent_uuids": [AGENT_1],
        "agent_deployment_names": ["support-adk", "billing-adk"],
    }


def test_a_target_that_is_not_a_uuid_is_still_an_agent_uuid_unless_listed() -> None:
    # No guessing from the shape of the string: only vendor_options makes a deployment name.
    body = to_submission(CTX, request(targets=[agent("support-adk")]))
    assert body == {"test_case_uuid": TEST_CASE, "agent_uuids": ["support-adk"]}


def test_deployments_only() -> None:
    body = to_submission(
        CTX,
        request(
            targets=[agent("support-adk")],
            vendor_options={"agent_deployment_names": ["support-adk"]},
        ),
    )
    assert body == {"test_case_uuid": TEST_CASE, "agent_deployment_names": ["support-adk"]}


def test_targets_keep_their_order_within_each_list() -> None:
    agents = [f"{i:08x}-b7d6-11ef-bf8f-4e013e2ddde4" for i in range(5)]
    body = to_submission(CTX, request(targets=[agent(a) for a in agents]))
    assert body["agent_uuids"] == agents


def test_mapping_is_pure() -> None:
    req = request(name="n", vendor_options={"agent_deployment_names": [AGENT_1]})
    assert to_submission(CTX, req) == to_submission(CTX, req)
    assert req.vendor_options == {"agent_deployment_names": [AGENT_1]}


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 0.2), ("top_p", 0.9), ("max_tokens", 256), ("num_samples", 10)],
)
def test_sampling_params_are_refused_by_name(field: str, value: float) -> None:
    error = refused(request(**{field: value}))
    problem = error.problem()
    assert problem.slug == "invalid-request"
    assert (problem.backend, problem.vendor) == ("do-prod", "digitalocean-genai")
    assert f"'{field}'" in (problem.detail or "")
    assert problem.errors is not None and [e.loc for e in problem.errors] == [["body", field]]
    assert problem.errors[0].type == "unsupported"


def test_a_model_target_is_refused_by_name() -> None:
    fields = refused_fields(request(targets=[agent(AGENT_1), {"type": "model", "model": "m"}]))
    assert fields == ["targets.1.model"]


def test_an_endpoint_is_refused_by_name() -> None:
    assert refused_fields(request(targets=[agent(AGENT_1, endpoint="https://x.test")])) == [
        "targets.0.endpoint"
    ]


def test_every_refused_field_is_named_at_once() -> None:
    fields = refused_fields(
        request(
            targets=[{"type": "model", "model": "m", "endpoint": "https://x.test"}],
            temperature=0.1,
            num_samples=3,
            vendor_options={"seed": 1},
        )
    )
    assert fields == [
        "targets.0.model",
        "targets.0.endpoint",
        "temperature",
        "num_samples",
        "vendor_options.seed",
    ]


def test_one_refusal_is_the_same_problem_as_cannot_express() -> None:
    adapter = DigitalOceanAdapter(CTX, httpx.AsyncClient())
    ours = refused(request(top_p=0.5)).problem()
    theirs = adapter.cannot_express(
        "top_p", "sampling parameters belong to the agent's own configuration"
    ).problem()
    assert ours.model_dump() == theirs.model_dump()


@pytest.mark.parametrize("key", ["seed", "workspace_uuid", "limit"])
def test_unknown_vendor_options_are_refused_by_name(key: str) -> None:
    assert refused_fields(request(vendor_options={key: "x"})) == [f"vendor_options.{key}"]


@pytest.mark.parametrize("key", ["test_case_uuid", "agent_uuids", "run_name"])
def test_body_fields_the_canonical_request_sets_are_not_options(key: str) -> None:
    assert refused_fields(request(vendor_options={key: "x"})) == [f"vendor_options.{key}"]


@pytest.mark.parametrize("value", ["support-adk", [""], [1], None, {"a": 1}])
def test_malformed_deployment_names_are_refused(value: Any) -> None:
    assert refused_fields(request(vendor_options={"agent_deployment_names": value})) == [
        "vendor_options.agent_deployment_names"
    ]


def test_deployment_names_must_be_targets() -> None:
    error = refused(request(vendor_options={"agent_deployment_names": ["elsewhere"]}))
    assert "elsewhere" in error.detail
    assert refused_fields(request(vendor_options={"agent_deployment_names": ["elsewhere"]})) == [
        "vendor_options.agent_deployment_names"
    ]


# -- the create answer -----------------------------------------------------------------------


def test_create_answer_uuids() -> None:
    payload = fixture("run_evaluation_test_case.response.spec-example.json")
    assert created_run_uuids(CTX, payload) == payload["evaluation_run_uuids"]
    assert created_run_uuids(CTX, {"evaluation_run_uuids": ["a", "b"]}) == ["a", "b"]


@pytest.mark.parametrize(
    "payload",
    [None, {}, {"evaluation_run_uuids": []}, {"evaluation_run_uuids": [1]}, ["a"], "a"],
)
def test_create_answer_without_uuids_is_invalid(payload: Any) -> None:
    with pytest.raises(UpstreamInvalidResponse, match="without evaluation run uuids"):
        created_run_uuids(CTX, payload)


# -- submit through a stub vendor (what the simulator cannot be made to answer) ---------------


def stub_adapter(handler: Any) -> DigitalOceanAdapter:
    transport = httpx.MockTransport(handler)
    http = httpx.AsyncClient(transport=transport, base_url="https://api.digitalocean.com")
    return DigitalOceanAdapter(CTX, http)


async def test_create_answer_without_uuids_fails_submit_without_reading_anything() -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(f"{req.method} {req.url.path}")
        return httpx.Response(200, json={})

    adapter = stub_adapter(handler)
    with pytest.raises(UpstreamInvalidResponse):
        await adapter.submit(request())
    assert seen == ["POST /v2/gen-ai/evaluation_runs"]


async def test_refused_submission_never_reaches_the_vendor() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise AssertionError("the vendor was called")

    with pytest.raises(InvalidRequest):
        await stub_adapter(handler).submit(request(temperature=0.5))


async def test_a_run_whose_read_back_times_out_is_still_returned() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            return httpx.Response(200, json={"evaluation_run_uuids": ["run-1"]})
        raise httpx.ReadTimeout("slow", request=req)

    jobs = await stub_adapter(handler).submit(request(name="nightly"))
    assert [(j.vendor_job_id, j.status, j.name) for j in jobs] == [
        ("run-1", JobStatus.UNKNOWN, "nightly")
    ]
    assert jobs[0].message is not None and "did not answer in time" in jobs[0].message
    assert jobs[0].raw == {"evaluation_run_uuids": ["run-1"]}
