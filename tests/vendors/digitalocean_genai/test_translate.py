"""DigitalOcean GenAI pure translation: official/constructed bodies -> canonical objects."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.adapters import BackendContext
from gateway.contract import ListQuery, Operation, ResultQuery
from gateway.errors import GatewayError, InvalidRequest, JobNotReady, UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.schemas import Job, JobStatus, Result
from gateway.vendors.digitalocean_genai.adapter import (
    STATUS_TABLE,
    DigitalOceanAdapter,
    more_pages,
    to_job,
    to_metric,
    to_result,
    to_row,
)

FIXTURES = Path(__file__).parent / "fixtures"
RUN_UUID = "9758a232-b351-11ef-bf8f-4e013e2ddde4"
CTX = BackendContext(
    backend="do-prod",
    vendor="digitalocean-genai",
    base_url="https://api.digitalocean.com",
    secrets=("dop_v1_secret_token",),
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("EVALUATION_RUN_STATUS_UNSPECIFIED", JobStatus.UNKNOWN),
        ("EVALUATION_RUN_QUEUED", JobStatus.QUEUED),
        ("EVALUATION_RUN_RUNNING_DATASET", JobStatus.RUNNING),
        ("EVALUATION_RUN_EVALUATING_RESULTS", JobStatus.RUNNING),
        ("EVALUATION_RUN_CANCELLING", JobStatus.CANCELLING),
        ("EVALUATION_RUN_CANCELLED", JobStatus.CANCELLED),
        ("EVALUATION_RUN_SUCCESSFUL", JobStatus.SUCCEEDED),
        ("EVALUATION_RUN_PARTIALLY_SUCCESSFUL", JobStatus.PARTIALLY_SUCCEEDED),
        ("EVALUATION_RUN_FAILED", JobStatus.FAILED),
    ],
)
def test_every_documented_status_maps_per_the_vendor_table(word: str, canonical: JobStatus) -> None:
    job = to_job(CTX, {"evaluation_run": {"evaluation_run_uuid": RUN_UUID, "status": word}})
    assert job.status is canonical
    assert job.vendor_status == word


@pytest.mark.parametrize(
    "word",
    # Words from DigitalOcean's labs MCP server that the spec does not have, and a typo'd one.
    ["EVALUATION_RUN_RUNNING", "EVALUATION_RUN_COMPLETED", "EVALUATION_RUN_STATUS_UNKNOWN", "x"],
)
def test_undocumented_status_is_unknown_never_failed_or_succeeded(word: str) -> None:
    job = to_job(CTX, {"evaluation_run": {"evaluation_run_uuid": RUN_UUID, "status": word}})
    assert job.status is JobStatus.UNKNOWN
    assert job.vendor_status == word
    assert job.terminal is False


def test_status_matching_ignores_case_and_space_but_keeps_the_word_verbatim() -> None:
    word = "  evaluation_run_successful "
    job = to_job(CTX, {"evaluation_run_uuid": RUN_UUID, "status": word})
    assert job.status is JobStatus.SUCCEEDED
    assert job.vendor_status == word


def test_missing_status_is_unknown_with_no_vendor_status() -> None:
    job = to_job(CTX, {"evaluation_run": {"evaluation_run_uuid": RUN_UUID}})
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, None)


def test_status_filter_words_for_running_cover_both_sub_stages() -> None:
    assert set(STATUS_TABLE.vendor_words(JobStatus.RUNNING)) == {
        "EVALUATION_RUN_RUNNING_DATASET",
        "EVALUATION_RUN_EVALUATING_RESULTS",
    }


# -- jobs from the contract's examples ------------------------------------------------------


def test_successful_run_example() -> None:
    job = to_job(CTX, fixture("get_evaluation_run.successful.constructed.json"))
    assert job.id == f"do-prod~{RUN_UUID}"
    assert job.vendor_job_id == RUN_UUID
    assert job.name == "nightly-regression"
    assert job.status is JobStatus.SUCCEEDED
    assert job.created_at == utc("2026-08-01T10:00:00")
    assert job.started_at == utc("2026-08-01T10:00:07")
    assert job.finished_at == utc("2026-08-01T10:04:31")
    assert job.error is None
    by_key = {(m.group, m.name): m for m in job.metrics}
    star = by_key[("star_metric", "Correctness (general hallucinations)")]
    assert (star.value, star.value_type, star.detail) == (
        86.5,
        "percentage",
        "Average over 20 prompts.",
    )
    assert by_key[("star_metric", "pass_status")].value is True
    assert by_key[("star_metric", "pass_status")].value_type == "boolean"
    assert by_key[(None, "Context adherence")].value == 0.91
    assert by_key[(None, "Context adherence")].value_type == "number"
    tone = by_key[(None, "Tone")]
    assert (tone.value, tone.value_type) == ("Neutral", "string")
    assert len(job.metrics) == 5  # star + pass_status + three run-level results
    assert {link.rel: link.href for link in job.links} == {
        "self": f"https://api.digitalocean.com/v2/gen-ai/evaluation_runs/{RUN_UUID}",
        "results": f"https://api.digitalocean.com/v2/gen-ai/evaluation_runs/{RUN_UUID}/results",
    }
    assert job.raw == fixture("get_evaluation_run.successful.constructed.json")


def test_failed_run_example_carries_the_vendor_error() -> None:
    job = to_job(CTX, fixture("get_evaluation_run.failed.constructed.json"))
    assert job.status is JobStatus.FAILED
    assert job.message == "agent endpoint returned HTTP 503 for all prompts"
    assert job.error is not None
    assert job.error.slug == "upstream-error"
    assert job.error.detail == "agent endpoint returned HTTP 503 for all prompts"
    assert job.error.vendor_error == {
        "status": "EVALUATION_RUN_FAILED",
        "error_description": "agent endpoint returned HTTP 503 for all prompts",
    }
    assert job.finished_at == utc("2026-08-01T10:00:41")


def test_partially_successful_example_keeps_the_failed_metric_with_its_error() -> None:
    job = to_job(CTX, fixture("get_evaluation_run.partially_successful.constructed.json"))
    assert job.status is JobStatus.PARTIALLY_SUCCEEDED
    assert job.error is None  # a partial success is not a failure
    toxicity = next(m for m in job.metrics if m.name == "Toxicity")
    assert toxicity.value is None
    assert toxicity.value_type == "percentage"
    assert toxicity.detail == "judge model timed out"
    assert next(m for m in job.metrics if m.name == "pass_status").value is False


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("queued", JobStatus.QUEUED, None),
        ("running", JobStatus.RUNNING, "running the test case dataset through the agent"),
        ("cancelled", JobStatus.CANCELLED, None),
    ],
)
def test_lifecycle_examples(name: str, status: JobStatus, message: str | None) -> None:
    job = to_job(CTX, fixture(f"get_evaluation_run.{name}.constructed.json"))
    assert job.status is status
    assert job.message == message
    assert job.metrics == []
    assert job.progress is None  # the vendor gives none


def test_evaluating_results_sub_stage_is_readable_in_message() -> None:
    run = {"evaluation_run_uuid": RUN_UUID, "status": "EVALUATION_RUN_EVALUATING_RESULTS"}
    job = to_job(CTX, run)
    assert job.status is JobStatus.RUNNING
    assert job.message == "evaluating the agent's answers"


def test_spec_example_unspecified_status_and_unspecified_value_types() -> None:
    job = to_job(CTX, fixture("get_evaluation_run.response.spec-example.json"))
    assert job.status is JobStatus.UNKNOWN
    assert job.vendor_status == "EVALUATION_RUN_STATUS_UNSPECIFIED"
    assert job.created_at == utc("2023-01-01T00:00:00")
    assert job.message == "example string"  # error_description
    assert job.error is None  # only a failed run carries an error
    # METRIC_VALUE_TYPE_UNSPECIFIED: the number is taken, as it is the one that is set first.
    star = job.metrics[0]
    assert (star.name, star.value, star.value_type) == ("example name", 123.0, "number")


def test_list_entries_are_bare_runs() -> None:
    runs = fixture("list_evaluation_runs_by_test_case.constructed.json")["evaluation_runs"]
    jobs = [to_job(CTX, run) for run in runs]
    assert [(j.vendor_job_id, j.status) for j in jobs] == [
        (RUN_UUID, JobStatus.SUCCEEDED),
        ("a1b2c3d4-b351-11ef-bf8f-4e013e2ddde4", JobStatus.RUNNING),
    ]
    assert jobs[1].vendor_status == "EVALUATION_RUN_EVALUATING_RESULTS"
    spec = fixture("list_evaluation_runs_by_test_case.response.spec-example.json")
    (job,) = [to_job(CTX, run) for run in spec["evaluation_runs"]]
    assert (job.vendor_job_id, job.status) == (
        "123e4567-e89b-12d3-a456-426614174000",
        JobStatus.UNKNOWN,
    )


def test_hint_supplies_the_run_uuid_the_payload_lacks() -> None:
    job = to_job(
        CTX, {"evaluation_run": {"status": "EVALUATION_RUN_QUEUED"}}, JobRef("do-prod", ("r-1",))
    )
    assert (job.id, job.vendor_job_id, job.status) == ("do-prod~r-1", "r-1", JobStatus.QUEUED)


@pytest.mark.parametrize("payload", [None, [], "oops", 3, {}, {"evaluation_run": {}}])
def test_payload_without_a_run_is_an_invalid_response(payload: Any) -> None:
    with pytest.raises(UpstreamInvalidResponse):
        to_job(CTX, payload)


def test_odd_field_types_do_not_lose_the_job() -> None:
    run = {
        "evaluation_run_uuid": RUN_UUID,
        "status": "EVALUATION_RUN_SUCCESSFUL",
        "queued_at": "not a time",
        "started_at": 17,
        "run_name": ["x"],
        "pass_status": "yes",
        "run_level_metric_results": [{"metric_value_type": "METRIC_VALUE_TYPE_NUMBER"}, 5],
        "star_metric_result": "Correctness",
    }
    job = to_job(CTX, run)
    assert job.status is JobStatus.SUCCEEDED
    assert (job.created_at, job.started_at, job.name, job.metrics) == (None, None, None, [])


def test_naive_timestamps_are_utc() -> None:
    job = to_job(CTX, {"evaluation_run_uuid": RUN_UUID, "queued_at": "2026-08-01T10:00:00"})
    assert job.created_at == utc("2026-08-01T10:00:00")


# -- metrics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "value", "value_type"),
    [
        ({"metric_value_type": "METRIC_VALUE_TYPE_NUMBER", "number_value": 0.5}, 0.5, "number"),
        (
            {"metric_value_type": "METRIC_VALUE_TYPE_PERCENTAGE", "number_value": 80},
            80.0,
            "percentage",
        ),
        (
            {
                "metric_value_type": "METRIC_VALUE_TYPE_STRING",
                "string_value": "Neutral",
                "number_value": 1,
            },
            "Neutral",
            "string",
        ),
        (
            {"metric_value_type": "METRIC_VALUE_TYPE_UNSPECIFIED", "string_value": "x"},
            "x",
            "string",
        ),
        ({"metric_value_type": "METRIC_VALUE_TYPE_NUMBER"}, None, "number"),
        ({}, None, None),
    ],
)
def test_metric_value_by_value_type(
    result: dict[str, Any], value: Any, value_type: str | None
) -> None:
    metric = to_metric({"metric_name": "m", **result})
    assert metric is not None
    assert (metric.value, metric.value_type) == (value, value_type)


def test_metric_detail_prefers_reasoning_then_error_description() -> None:
    both = to_metric({"metric_name": "m", "reasoning": "why", "error_description": "boom"})
    only_error = to_metric({"metric_name": "m", "error_description": "boom"})
    assert both is not None and both.detail == "why"
    assert only_error is not None and only_error.detail == "boom"


def test_metric_named_only_by_uuid_and_unnamed_metric() -> None:
    named = to_metric({"metric_uuid": "0f2e", "number_value": 1})
    assert named is not None and named.name == "0f2e"
    assert to_metric({"number_value": 1}) is None


# -- results -----------------------------------------------------------------------------------


def test_results_example_rows_and_metrics() -> None:
    page = fixture("get_evaluation_run_results.successful.constructed.json")
    result = to_result(CTX, [page])
    assert result.job_id == f"do-prod~{RUN_UUID}"
    assert result.status is JobStatus.SUCCEEDED
    assert [m.name for m in result.metrics] == [
        "Correctness (general hallucinations)",
        "pass_status",
        "Correctness (general hallucinations)",
        "Context adherence",
    ]
    first, second = result.rows
    assert (first.index, first.id) == (0, "1")
    assert first.input == "How do I reset my password?"
    assert first.output == "Open Settings > Security and choose Reset password."
    assert first.expected == "Go to Settings > Security > Reset password."
    assert first.data["input_tokens"] == 412
    assert first.data["output_tokens"] == 38
    assert first.data["trace_id"] == "5d3c9b1e-7f42-4f7e-9b0a-0d8c1e2f3a4b"
    assert first.data["prompt_chunks"][0]["source_name"] == "account-faq.md"
    assert [(s.name, s.value, s.value_type) for s in first.scores] == [
        ("Correctness (general hallucinations)", 95.0, "percentage"),
        ("Context adherence", 0.97, "number"),
    ]
    assert second.scores[0].detail == "States 60 days; ground truth is 30 days."
    assert "prompt_chunks" not in second.data  # empty list: nothing to keep
    assert [a.rel for a in result.artifacts] == ["results"]
    assert result.raw == {"pages": [page]}


def test_rows_are_numbered_across_pages() -> None:
    page = fixture("get_evaluation_run_results.successful.constructed.json")
    result = to_result(CTX, [page, {"prompts": [{"prompt_id": 3, "input": "q3"}]}])
    assert [(r.index, r.id) for r in result.rows] == [(0, "1"), (1, "2"), (2, "3")]


def test_spec_results_example_keeps_trace_spans() -> None:
    result = to_result(CTX, fixture("get_evaluation_run_results.response.spec-example.json"))
    (row,) = result.rows
    assert row.data["input_tokens"] == 12345
    assert row.data["evaluation_trace_spans"][0]["type"] == "TRACE_SPAN_TYPE_UNKNOWN"


def test_prompt_result_example_as_a_row() -> None:
    prompt = fixture("get_evaluation_run_prompt_results.constructed.json")["prompt"]
    row = to_row(4, prompt)
    assert (row.index, row.id, row.data["output_tokens"]) == (4, "1", 38)


def test_prompt_result_spec_example_as_a_row() -> None:
    prompt = fixture("get_evaluation_run_prompt_results.response.spec-example.json")["prompt"]
    row = to_row(0, prompt)
    assert (row.id, row.input, row.expected) == ("123", "example string", "example string")
    assert (row.scores[0].value, row.scores[0].detail) == (123.0, "example string")
    assert row.data["prompt_chunks"][0]["chunk_used"] is True


def test_result_hint_supplies_the_id_when_the_run_is_missing() -> None:
    result = to_result(CTX, [{"prompts": []}], JobRef("do-prod", (RUN_UUID,)))
    assert (result.job_id, result.status, result.rows) == (
        f"do-prod~{RUN_UUID}",
        JobStatus.UNKNOWN,
        [],
    )


@pytest.mark.parametrize(
    ("page", "asked", "more"),
    [
        ({"prompts": [{}], "meta": {"page": 1, "pages": 10}}, 1, True),
        ({"prompts": [{}], "meta": {"page": 10, "pages": 10}}, 10, False),
        ({"prompts": [], "meta": {"page": 1, "pages": 10}}, 1, False),  # empty page ends it
        ({"prompts": [{}], "links": {"pages": {"next": "https://x/?page=2"}}}, 1, True),
        ({"prompts": [{}], "links": {"pages": {"previous": "https://x/?page=1"}}}, 2, False),
        ({"prompts": [{}], "meta": {"pages": "3"}}, 2, True),
    ],
)
def test_more_pages(page: dict[str, Any], asked: int, more: bool) -> None:
    assert more_pages(page, asked) is more


# -- errors ------------------------------------------------------------------------------------

ADAPTER = DigitalOceanAdapter(CTX, httpx.AsyncClient())


@pytest.mark.parametrize(
    ("name", "status", "operation", "slug"),
    [
        ("error.bad_request.spec-example.json", 400, Operation.GET_JOB, "invalid-request"),
        ("error.unauthorized.spec-example.json", 401, Operation.GET_JOB, "upstream-auth-failed"),
        ("error.forbidden.description-example.json", 403, Operation.LIST, "upstream-auth-failed"),
        ("error.not_found.spec-example.json", 404, Operation.GET_JOB, "job-not-found"),
        ("error.not_found.spec-example.json", 404, Operation.GET_RESULT, "job-not-found"),
        ("error.not_found.spec-example.json", 404, Operation.LIST, "upstream-error"),
        (
            "error.too_many_requests.spec-example.json",
            429,
            Operation.GET_JOB,
            "upstream-rate-limited",
        ),
        (
            "error.too_many_requests.description-example.json",
            429,
            Operation.LIST,
            "upstream-rate-limited",
        ),
        ("error.server_error.spec-example.json", 500, Operation.GET_RESULT, "upstream-error"),
        ("error.unexpected_error.spec-example.json", 418, Operation.GET_JOB, "upstream-error"),
    ],
)
def test_error_envelopes(name: str, status: int, operation: Operation, slug: str) -> None:
    body = fixture(name)
    error = ADAPTER.to_problem(operation, status, {}, json.dumps(body).encode())
    problem = error.problem()
    assert problem.slug == slug
    assert problem.vendor_status_code == status
    assert problem.vendor_error == body
    assert problem.detail == f"digitalocean-genai answered {status}: {body['message']}"


def test_error_without_message_falls_back_to_its_id() -> None:
    error = ADAPTER.to_problem(Operation.GET_JOB, 500, {}, b'{"id": "server_error"}')
    assert error.detail == "digitalocean-genai answered 500: server_error"


def test_burst_429_retry_after_lands_on_the_problem() -> None:
    headers = {
        "ratelimit-limit": "5000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": "1402425459",
        "retry-after": "29",
    }
    body = fixture("error.too_many_requests.spec-example.json")
    problem = ADAPTER.to_problem(
        Operation.GET_JOB, 429, headers, json.dumps(body).encode()
    ).problem()
    assert (problem.slug, problem.retry_after, problem.retryable) == (
        "upstream-rate-limited",
        29.0,
        True,
    )


def test_hourly_429_waits_until_ratelimit_reset() -> None:
    reset = int(time.time()) + 120
    headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset)}
    problem = ADAPTER.to_problem(
        Operation.LIST,
        429,
        headers,
        b'{"id":"too_many_requests","message":"API rate limit exceeded."}',
    ).problem()
    assert problem.retry_after is not None
    assert 110 <= problem.retry_after <= 120


def test_secrets_in_error_bodies_are_scrubbed() -> None:
    body = {"id": "unauthorized", "message": "token dop_v1_secret_token is not valid"}
    problem = ADAPTER.to_problem(Operation.GET_JOB, 401, {}, json.dumps(body).encode()).problem()
    assert "dop_v1_secret_token" not in json.dumps(problem.to_json_dict())


# -- fuzz ----------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "evaluation_run",
                    "evaluation_run_uuid",
                    "status",
                    "queued_at",
                    "metric_name",
                    "metric_value_type",
                    "number_value",
                    "string_value",
                    "star_metric_result",
                    "run_level_metric_results",
                    "pass_status",
                    "prompts",
                    "prompt_id",
                    "input_tokens",
                    "prompt_level_metric_results",
                    "error_description",
                    "meta",
                    "pages",
                    "links",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(payload=JSON, hinted=st.booleans())
def test_translators_take_any_json(payload: Any, hinted: bool) -> None:
    hint = JobRef("do-prod", ("r-1",)) if hinted else None
    for translate in (to_job, to_result):
        try:
            translated = translate(CTX, payload, hint)
        except GatewayError:
            continue
        assert isinstance(translated, Job | Result)
    more_pages(payload if isinstance(payload, dict) else {}, 1)


# -- adapter paths the simulator never takes (a scripted vendor) -----------------------------


def scripted(routes: dict[str, Any]) -> DigitalOceanAdapter:
    """An adapter whose vendor answers `routes[path]` (404 envelope for anything else)."""

    def answer(request: httpx.Request) -> httpx.Response:
        key = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        body = routes.get(key, routes.get(request.url.path))
        if body is None:
            return httpx.Response(404, json=fixture("error.not_found.spec-example.json"))
        return httpx.Response(200, json=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url=CTX.base_url)
    return DigitalOceanAdapter(CTX, client)


RUNS_PATH = "/v2/gen-ai/evaluation_runs"
CASES_PATH = "/v2/gen-ai/evaluation_test_cases"


async def test_results_answer_without_the_run_falls_back_to_the_run() -> None:
    adapter = scripted(
        {
            f"{RUNS_PATH}/{RUN_UUID}": fixture("get_evaluation_run.running.constructed.json"),
            f"{RUNS_PATH}/{RUN_UUID}/results": {"prompts": [], "meta": {"total": 0}},
        }
    )
    with pytest.raises(JobNotReady) as raised:
        await adapter.get_result(JobRef("do-prod", (RUN_UUID,)))
    assert raised.value.job_status == "running"


async def test_results_that_announce_pages_forever_end_on_a_repeated_page() -> None:
    page = fixture("get_evaluation_run_results.successful.constructed.json")
    page.pop("meta")  # only `links.pages.next`, on every page, and the same page every time
    adapter = scripted({f"{RUNS_PATH}/{RUN_UUID}/results": page})
    job = JobRef("do-prod", (RUN_UUID,))
    first = await adapter.get_result_page(job, ResultQuery(page_size=2))
    assert len(first.result.rows) == 2 and first.next_cursor is not None
    again = await adapter.get_result_page(job, ResultQuery(2, first.next_cursor))
    assert (again.result.rows, again.next_cursor) == ([], None)


async def test_job_id_with_two_parts_is_invalid() -> None:
    with pytest.raises(InvalidRequest):
        await scripted({}).get_job(JobRef("do-prod", ("a", "b")))


def many_cases(count: int) -> dict[str, Any]:
    cases = [{"test_case_uuid": f"tc-{n}"} for n in range(count)]
    routes: dict[str, Any] = {CASES_PATH: {"evaluation_test_cases": cases}}
    for n in range(count):
        runs = [{"evaluation_run_uuid": f"run-{n}", "status": "EVALUATION_RUN_QUEUED"}]
        routes[f"{CASES_PATH}/tc-{n}/evaluation_runs"] = {"evaluation_runs": [*runs, {"x": 1}]}
    return routes


async def test_list_visits_a_bounded_number_of_test_cases_per_page() -> None:
    adapter = scripted(many_cases(25))
    first = await adapter.list_jobs(ListQuery(page_size=100))
    assert [j.vendor_job_id for j in first.jobs] == [f"run-{n}" for n in range(20)]
    assert first.next_cursor == {"tc": "tc-20", "i": 20, "skip": 0}
    rest = await adapter.list_jobs(ListQuery(page_size=100, cursor=first.next_cursor))
    assert [j.vendor_job_id for j in rest.jobs] == [f"run-{n}" for n in range(20, 25)]
    assert rest.next_cursor is None


async def test_list_resumes_where_a_vanished_test_case_stood() -> None:
    adapter = scripted(many_cases(4))
    page = await adapter.list_jobs(ListQuery(cursor={"tc": "tc-gone", "i": 2, "skip": 5}))
    assert [j.vendor_job_id for j in page.jobs] == ["run-2", "run-3"]
