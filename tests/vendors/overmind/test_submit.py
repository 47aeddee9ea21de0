"""Overmind submission: the pure canonical -> `POST /api/jobs/` body mapping, its refusals,
and how `submit` reads the create answer (against scripted answers; the simulator runs are in
tests/vendors/overmind/test_submit_cassettes.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.adapters import BackendContext
from gateway.errors import InvalidRequest, UpstreamError, UpstreamInvalidResponse
from gateway.schemas import JobStatus, SubmitRequest
from gateway.vendors.overmind.adapter import OvermindAdapter, to_submission
from gateway.vendors.overmind.submit import KNOWN_JOB_TYPES, NOT_OPTIONS, OPTIONS, canonical_field

CTX = BackendContext(backend="om-prod", vendor="overmind", base_url="https://api.overmindlab.ai")
FIXTURES = Path(__file__).parent / "fixtures"
AGENT = "a1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PROJECT = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
JOB_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def request(**fields: Any) -> SubmitRequest:
    fields.setdefault("evaluation", "prompt_tuning")
    fields.setdefault("targets", [{"type": "agent", "agent": AGENT}])
    return SubmitRequest.model_validate(fields)


def refused(req: SubmitRequest) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        to_submission(CTX, req)
    return raised.value


def refused_fields(req: SubmitRequest) -> list[str]:
    problem = refused(req).problem()
    assert problem.errors is not None
    assert all(error.loc[0] == "body" and error.type == "unsupported" for error in problem.errors)
    return [".".join(str(part) for part in error.loc[1:]) for error in problem.errors]


# -- mapping -----------------------------------------------------------------------------------


def test_the_contract_create_example_is_what_an_agent_and_the_options_map_to() -> None:
    example = fixture("job_create.request.constructed.json")
    # `status: pending` is the default of a new job; it is not an option (see refusals).
    expected = {k: v for k, v in example.items() if k != "status"}
    options = {k: v for k, v in expected.items() if k not in ("job_type", "agent")}
    body = to_submission(
        CTX,
        request(
            evaluation=example["job_type"],
            targets=[{"type": "agent", "agent": example["agent"]}],
            vendor_options=options,
        ),
    )
    assert body == expected


def test_minimal_request_is_job_type_and_agent_only() -> None:
    assert to_submission(CTX, request()) == {"job_type": "prompt_tuning", "agent": AGENT}


@pytest.mark.parametrize("job_type", KNOWN_JOB_TYPES)
def test_documented_and_drifted_job_types_are_sent(job_type: str) -> None:
    assert to_submission(CTX, request(evaluation=job_type))["job_type"] == job_type


def test_a_job_type_newer_than_the_contract_is_left_to_overmind() -> None:
    # The enum drifts; a well-formed choice word is sent and Overmind's 400 answers if wrong.
    assert to_submission(CTX, request(evaluation="eval_run"))["job_type"] == "eval_run"


def test_every_writable_job_field_is_an_option_or_refused_with_a_reason() -> None:
    openapi = yaml.safe_load((FIXTURES / "openapi.reconstructed.yaml").read_text())
    writable = set(openapi["components"]["schemas"]["JobFields"]["properties"])
    assert set(OPTIONS).isdisjoint(NOT_OPTIONS)
    assert set(OPTIONS) | set(NOT_OPTIONS) == writable


def test_nullable_options_take_null() -> None:
    body = to_submission(CTX, request(vendor_options={"project": None, "triggered_by": None}))
    assert body["project"] is None and body["triggered_by"] is None


def test_options_pass_through_as_given() -> None:
    options = {
        "project": PROJECT,
        "prompt_slug": "support-triage-system",
        "analyzer_model": "claude-sonnet-4",
        "num_iterations": 5,
        "candidates_per_iteration": 3,
        "data_source": "traces",
        "triggered_by": 42,
    }
    assert to_submission(CTX, request(vendor_options=options)) == {
        "job_type": "prompt_tuning",
        "agent": AGENT,
        **options,
    }


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "nightly"),
        ("temperature", 0.2),
        ("top_p", 0.9),
        ("max_tokens", 256),
        ("num_samples", 50),
    ],
)
def test_common_params_are_refused_by_name(field: str, value: Any) -> None:
    assert refused_fields(request(**{field: value})) == [field]


def test_a_model_target_is_refused_analyzer_model_is_not_the_target() -> None:
    problem = refused(request(targets=[{"type": "model", "model": "llama-3-8b"}]))
    assert [e.loc for e in problem.problem().errors or []] == [["body", "targets", "0", "model"]]
    assert "analyzer_model" in problem.detail


def test_a_model_named_on_an_agent_target_is_refused() -> None:
    target = {"type": "agent", "agent": AGENT, "model": "gpt-4o"}
    assert refused_fields(request(targets=[target])) == ["targets.0.model"]


def test_an_endpoint_is_refused() -> None:
    target = {"type": "agent", "agent": AGENT, "endpoint": "https://agent.example/run"}
    assert refused_fields(request(targets=[target])) == ["targets.0.endpoint"]


def test_an_agent_that_is_not_a_uuid_is_refused() -> None:
    target = {"type": "agent", "agent": "support-triage"}
    assert refused_fields(request(targets=[target])) == ["targets.0.agent"]


def test_a_second_target_is_refused() -> None:
    other = "b1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
    targets = [{"type": "agent", "agent": AGENT}, {"type": "agent", "agent": other}]
    assert refused_fields(request(targets=targets)) == ["targets.1"]


@pytest.mark.parametrize(
    "evaluation", ["Prompt Tuning", JOB_ID, "prompt-tuning", "PROMPT_TUNING", "x" * 65]
)
def test_what_cannot_be_a_job_type_is_refused_as_evaluation(evaluation: str) -> None:
    problem = refused(request(evaluation=evaluation))
    assert [e.loc for e in problem.problem().errors or []] == [["body", "evaluation"]]
    assert "prompt_tuning" in problem.detail


@pytest.mark.parametrize("key", sorted(NOT_OPTIONS))
def test_writable_fields_that_are_not_options_are_refused(key: str) -> None:
    assert refused_fields(request(vendor_options={key: "x"})) == [f"vendor_options.{key}"]


@pytest.mark.parametrize("key", ["id", "iterations", "agent_display_name", "kind", "seed"])
def test_read_only_and_unknown_keys_are_refused(key: str) -> None:
    problem = refused(request(vendor_options={key: 1}))
    assert [e.loc for e in problem.errors or []] == [["body", "vendor_options", key]]
    assert "not a writable field" in problem.detail


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("project", "not-a-uuid"),
        ("prompt_slug", 7),
        ("prompt_slug", "s" * 256),
        ("analyzer_model", "m" * 129),
        ("num_iterations", "5"),
        ("num_iterations", True),
        ("candidates_per_iteration", 2.5),
        ("data_source", ""),
        ("data_source", "d" * 21),
        ("triggered_by", "42"),
        ("analyzer_model", None),
    ],
)
def test_options_of_the_wrong_type_are_refused(key: str, value: Any) -> None:
    assert refused_fields(request(vendor_options={key: value})) == [f"vendor_options.{key}"]


def test_every_refused_field_is_named_at_once() -> None:
    req = request(
        evaluation="Prompt Tuning",
        targets=[{"type": "model", "model": "m", "endpoint": "https://m.example"}],
        name="n",
        temperature=0.1,
        num_samples=3,
        vendor_options={"status": "pending", "seed": 1, "num_iterations": 2},
    )
    assert refused_fields(req) == [
        "evaluation",
        "targets.0.model",
        "targets.0.endpoint",
        "name",
        "temperature",
        "num_samples",
        "vendor_options.status",
        "vendor_options.seed",
    ]


# -- vendor field errors in canonical terms ----------------------------------------------------


@pytest.mark.parametrize(
    ("vendor_loc", "canonical"),
    [
        (["job_type"], ["body", "evaluation"]),
        (["agent"], ["body", "targets", "0", "agent"]),
        (["data_source"], ["body", "vendor_options", "data_source"]),
        ([], ["body"]),
    ],
)
def test_vendor_field_errors_are_named_in_canonical_terms(
    vendor_loc: list[str | int], canonical: list[str | int]
) -> None:
    assert canonical_field(vendor_loc) == canonical


# -- submit against scripted answers -----------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


async def submit_with(handler: Handler) -> tuple[list[Any], list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(req: httpx.Request) -> httpx.Response:
        sent.append(req)
        return handler(req)

    transport = httpx.MockTransport(record)
    async with httpx.AsyncClient(transport=transport, base_url=CTX.base_url) as http:
        jobs = await OvermindAdapter(CTX, http).submit(request())
    return jobs, sent


def created(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = fixture("job_create.response.docs-example.json")
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


async def test_the_docs_create_answer_is_the_job_without_a_read_back() -> None:
    jobs, sent = await submit_with(lambda req: httpx.Response(201, json=created()))
    assert [(r.method, r.url.path) for r in sent] == [("POST", "/api/jobs/")]
    assert json.loads(sent[0].content) == {"job_type": "prompt_tuning", "agent": AGENT}
    assert len(jobs) == 1
    assert jobs[0].id == f"om-prod~{JOB_ID}"
    assert jobs[0].status is JobStatus.QUEUED and jobs[0].vendor_status == "pending"


async def test_a_200_create_answer_is_accepted_too() -> None:
    # O1 labels its example "200 example"; the schema says 201 (API.md, Surprise 5).
    jobs, _ = await submit_with(lambda req: httpx.Response(200, json=created()))
    assert jobs[0].status is JobStatus.QUEUED


async def test_an_answer_without_a_status_is_read_back() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            return httpx.Response(201, json=created(status=...))
        return httpx.Response(200, json=created(status="running"))

    jobs, sent = await submit_with(handler)
    assert [(r.method, r.url.path) for r in sent] == [
        ("POST", "/api/jobs/"),
        ("GET", f"/api/jobs/{JOB_ID}/"),
    ]
    assert jobs[0].status is JobStatus.RUNNING


async def test_a_failed_read_back_still_returns_the_created_job() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            return httpx.Response(201, json=created(status=...))
        return httpx.Response(503, json={"detail": "Service unavailable."})

    jobs, sent = await submit_with(handler)
    assert len(sent) == 2  # never retried
    assert jobs[0].id == f"om-prod~{JOB_ID}"
    assert jobs[0].status is JobStatus.UNKNOWN
    assert jobs[0].message is not None and jobs[0].message.startswith("created;")


async def test_a_create_answer_without_an_id_is_upstream_invalid_response() -> None:
    with pytest.raises(UpstreamInvalidResponse):
        await submit_with(lambda req: httpx.Response(201, json=created(id=...)))


async def test_a_drf_400_names_the_canonical_fields() -> None:
    body = fixture("error_400.drf.constructed.json")
    with pytest.raises(InvalidRequest) as caught:
        await submit_with(lambda req: httpx.Response(400, json=body))
    assert [e.loc for e in caught.value.errors or []] == [
        ["body", "evaluation"],
        ["body", "vendor_options", "data_source"],
    ]
    assert caught.value.vendor_error == body
    assert caught.value.vendor_status_code == 400


async def test_402_insufficient_credits_is_upstream_error_and_not_retried() -> None:
    body = fixture("error_402.constructed.json")
    with pytest.raises(UpstreamError) as caught:
        await submit_with(lambda req: httpx.Response(402, json=body))
    assert type(caught.value) is UpstreamError
    assert caught.value.vendor_status_code == 402 and not caught.value.retryable
