"""Overmind pure translation: official and constructed bodies -> canonical objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.adapters import BackendContext, adapter_class
from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.schemas import FieldError, Job, JobStatus, Result
from gateway.vendors.overmind.adapter import (
    STATUS_TABLE,
    OvermindAdapter,
    drf_error_text,
    drf_field_errors,
    iteration_row,
    to_job,
    to_result,
)

FIXTURES = Path(__file__).parent / "fixtures"
JOB_ID = "3f6c2b8e-1d4a-4c7e-9b2f-5a8d0e1c7b34"
CTX = BackendContext(
    backend="om-prod",
    vendor="overmind",
    base_url="https://api.overmindlab.ai",
    secrets=("ovr_secret_key_123",),
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def adapter() -> OvermindAdapter:
    return OvermindAdapter(CTX, httpx.AsyncClient(base_url=CTX.base_url))


# -- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("pending", JobStatus.QUEUED),
        ("running", JobStatus.RUNNING),
        ("waiting_user", JobStatus.PAUSED),
        ("completed", JobStatus.SUCCEEDED),
        ("failed", JobStatus.FAILED),
        ("cancelled", JobStatus.CANCELLED),
    ],
)
def test_every_documented_status_maps_per_the_vendor_table(word: str, canonical: JobStatus) -> None:
    job = to_job(CTX, {"id": JOB_ID, "status": word})
    assert job.status is canonical
    assert job.vendor_status == word


@pytest.mark.parametrize("word", ["canceled", "error", "queued", "succeeded", "done", "x"])
def test_undocumented_status_is_unknown_never_failed_or_succeeded(word: str) -> None:
    job = to_job(CTX, {"id": JOB_ID, "status": word})
    assert job.status is JobStatus.UNKNOWN
    assert job.vendor_status == word
    assert job.terminal is False


def test_missing_status_is_unknown_with_no_vendor_word() -> None:
    job = to_job(CTX, {"id": JOB_ID})
    assert job.status is JobStatus.UNKNOWN
    assert job.vendor_status is None


def test_status_words_match_ignoring_case_and_space_but_keep_the_verbatim_word() -> None:
    job = to_job(CTX, {"id": JOB_ID, "status": " Completed "})
    assert job.status is JobStatus.SUCCEEDED
    assert job.vendor_status == " Completed "


def test_only_completed_failed_cancelled_are_terminal() -> None:
    terminal = {w for w in STATUS_TABLE.entries if STATUS_TABLE.lookup(w).terminal}
    assert terminal == {"completed", "failed", "cancelled"}


# -- jobs ------------------------------------------------------------------------------------


def test_completed_example_maps_ids_times_scores_and_links() -> None:
    job = to_job(CTX, fixture("job.completed.constructed.json"))
    assert job.id == f"om-prod~{JOB_ID}"
    assert job.vendor_job_id == JOB_ID
    assert job.vendor == "overmind"
    assert job.status is JobStatus.SUCCEEDED
    assert job.created_at == datetime(2026, 8, 1, 10, 0, tzinfo=UTC)
    assert job.updated_at == datetime(2026, 8, 1, 10, 9, 42, tzinfo=UTC)
    assert {m.name: m.value for m in job.metrics} == {
        "best_score": 0.79,
        "baseline_score": 0.64,
        "improvement": 0.15,
    }
    assert all(m.value_type == "number" for m in job.metrics)
    links = {link.rel: link.href for link in job.links}
    assert links["self"] == f"https://api.overmindlab.ai/api/jobs/{JOB_ID}/"
    assert links["iterations"] == f"https://api.overmindlab.ai/api/job-iterations/?job={JOB_ID}"
    assert job.error is None
    assert job.raw is not None and job.raw["report_markdown"].startswith("# Optimisation")


def test_job_has_no_name_prompt_slug_and_job_type_are_not_names() -> None:
    job = to_job(CTX, fixture("job.completed.constructed.json"))
    assert job.name is None


def test_no_progress_or_start_finish_times_are_invented() -> None:
    job = to_job(CTX, fixture("job.running.constructed.json"))
    assert job.progress is None
    assert job.started_at is None
    assert job.finished_at is None


def test_null_scores_give_no_metrics() -> None:
    job = to_job(CTX, fixture("job.pending.constructed.json"))
    assert job.status is JobStatus.QUEUED
    assert job.metrics == []


def test_docs_example_with_placeholder_values_translates() -> None:
    job = to_job(CTX, fixture("job_retrieve.response.docs-example.json"))
    assert job.vendor_job_id == "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
    assert job.status is JobStatus.QUEUED
    assert job.created_at == datetime(2019, 12, 27, 18, 11, 19, 117000, tzinfo=UTC)
    assert {m.name: m.value for m in job.metrics}["best_score"] == 0.0


def test_failed_job_without_error_field_takes_the_reason_from_the_report() -> None:
    job = to_job(CTX, fixture("job.failed.constructed.json"))
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.detail == "Run failed: dataset has no eval rows"
    assert job.error.vendor_error == {"report_markdown": "Run failed: dataset has no eval rows"}


def test_failed_job_with_the_drifted_error_field_uses_it() -> None:
    body = {**fixture("job.failed.constructed.json"), "error": "OOM in worker"}
    job = to_job(CTX, body)
    assert job.error is not None
    assert job.error.detail == "OOM in worker"
    assert job.error.vendor_error == {"error": "OOM in worker"}
    assert job.message == "OOM in worker"


def test_failed_job_with_nothing_to_say_still_carries_an_error() -> None:
    job = to_job(CTX, {"id": JOB_ID, "status": "failed", "error": "", "report_markdown": ""})
    assert job.error is not None
    assert job.error.detail == "overmind reports the job failed"


def test_error_text_on_a_job_that_did_not_fail_is_a_message_not_an_error() -> None:
    job = to_job(CTX, {"id": JOB_ID, "status": "running", "error": "retrying the judge"})
    assert job.error is None
    assert job.message == "retrying the judge"


def test_drift_fields_and_new_job_types_are_read_leniently() -> None:
    body = {
        **fixture("job.running.constructed.json"),
        "status": "waiting_user",
        "job_type": "optimize_command",
        "agent_display_name": "triage",
        "kind": "apply_patch",
        "payload": {"x": 1},
        "seq": 7,
        "parent": None,
        "error": "",
    }
    job = to_job(CTX, body)
    assert job.status is JobStatus.PAUSED
    assert job.message is None
    assert job.raw is not None and job.raw["kind"] == "apply_patch"


def test_list_items_of_the_slim_shape_translate() -> None:
    page = fixture("job_list.page1.constructed.json")
    jobs = [to_job(CTX, item) for item in page["results"]]
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.RUNNING]
    assert [m.name for m in jobs[0].metrics] == ["best_score", "baseline_score", "improvement"]
    assert jobs[1].metrics == []


def test_hint_supplies_the_id_a_payload_lacks() -> None:
    job = to_job(CTX, {"status": "running"}, JobRef("om-prod", (JOB_ID,)))
    assert job.vendor_job_id == JOB_ID


@pytest.mark.parametrize("payload", [None, [], "completed", 3, {"status": "running"}, {"id": ""}])
def test_unusable_payloads_are_upstream_invalid_response(payload: Any) -> None:
    with pytest.raises(UpstreamInvalidResponse):
        to_job(CTX, payload)


def test_naive_timestamps_are_utc() -> None:
    job = to_job(CTX, {"id": JOB_ID, "created_at": "2026-08-01T10:00:00"})
    assert job.created_at == datetime(2026, 8, 1, 10, tzinfo=UTC)


# -- results ---------------------------------------------------------------------------------


def test_result_has_summary_metrics_and_one_row_per_iteration() -> None:
    result = to_result(CTX, fixture("job.completed.constructed.json"))
    assert result.job_id == f"om-prod~{JOB_ID}"
    assert result.status is JobStatus.SUCCEEDED
    assert {m.name: m.value for m in result.metrics} == {
        "best_score": 0.79,
        "baseline_score": 0.64,
        "improvement": 0.15,
    }
    assert [row.index for row in result.rows] == [0, 1, 2]
    first = result.rows[0]
    assert first.id == "c0a8e1f2-0001-4a00-8000-000000000001"
    assert {s.name: s.value for s in first.scores} == {
        "avg_score": 0.71,
        "accuracy": 0.71,
        "format": 0.76,
    }
    assert {s.group for s in first.scores if s.name != "avg_score"} == {"dimension_scores"}
    assert first.data["iteration_name"] == "iteration_1"
    assert first.data["status"] == "keep"
    assert first.data["description"] == "Tightened output-format instructions."
    assert [row.data["status"] for row in result.rows] == ["keep", "discard", "keep"]
    assert first.output is None  # empty agent_code
    assert result.artifacts[0].href.endswith(f"/api/job-iterations/?job={JOB_ID}")
    assert result.raw is not None and result.raw["best_agent_code"].startswith("SYSTEM_PROMPT")


def test_iteration_keeps_what_is_not_a_plain_score() -> None:
    row = iteration_row(
        4,
        {
            "id": "i",
            "avg_score": "n/a",
            "agent_code": "PROMPT = 'x'",
            "dimension_scores": {"accuracy": 0.5, "judge": {"score": 1}, "passed": True},
        },
    )
    assert row.index == 4
    assert row.output == "PROMPT = 'x'"
    assert {s.name: s.value for s in row.scores} == {"accuracy": 0.5, "passed": True}
    assert row.data["dimension_scores"] == {"judge": {"score": 1}}


def test_non_object_dimension_scores_stay_in_data() -> None:
    row = iteration_row(0, {"dimension_scores": [0.1, 0.2], "avg_score": 0.3})
    assert [s.name for s in row.scores] == ["avg_score"]
    assert row.data["dimension_scores"] == [0.1, 0.2]


# -- errors ------------------------------------------------------------------------------------


def problem_for(
    status: int,
    body: Any,
    operation: Operation = Operation.GET_JOB,
    headers: dict[str, str] | None = None,
) -> GatewayError:
    content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return adapter().to_problem(operation, status, headers or {}, content)


@pytest.mark.parametrize(
    ("status", "name", "problem"),
    [
        (401, "error_401.drf.constructed.json", UpstreamAuthFailed),
        (401, "error_401_bad_key.drf.constructed.json", UpstreamAuthFailed),
        (403, "error_403.drf.constructed.json", UpstreamAuthFailed),
        (404, "error_404.drf.constructed.json", JobNotFound),
        (402, "error_402.constructed.json", UpstreamError),
        (429, "error_429.drf.constructed.json", UpstreamRateLimited),
    ],
)
def test_detail_bodies_become_the_right_problem(
    status: int, name: str, problem: type[GatewayError]
) -> None:
    body = fixture(name)
    error = problem_for(status, body)
    assert type(error) is problem
    assert error.vendor_status_code == status
    assert error.vendor_error == body
    assert body["detail"] in error.detail
    assert error.errors is None


def test_insufficient_credits_is_not_retried() -> None:
    error = problem_for(402, fixture("error_402.constructed.json"))
    assert error.retryable is False


def test_throttled_answer_passes_retry_after_on() -> None:
    error = problem_for(
        429, fixture("error_429.drf.constructed.json"), headers={"Retry-After": "12"}
    )
    assert error.retry_after == 12.0
    assert error.retryable is True


def test_field_error_body_is_invalid_request_with_field_errors() -> None:
    body = fixture("error_400.drf.constructed.json")
    error = problem_for(400, body, Operation.LIST)
    assert isinstance(error, InvalidRequest)
    assert error.vendor_error == body
    assert error.errors == [
        FieldError(loc=["job_type"], msg='"foo" is not a valid choice.'),
        FieldError(loc=["data_source"], msg="Ensure this field has no more than 20 characters."),
    ]
    assert 'job_type: "foo" is not a valid choice.' in error.detail


def test_non_field_errors_are_body_level_field_errors() -> None:
    body = {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    error = problem_for(400, body, Operation.CANCEL)
    assert isinstance(error, InvalidRequest)
    assert error.errors == [FieldError(loc=[], msg=body["non_field_errors"][0])]
    assert error.detail.endswith("Invalid data. Expected a dictionary, but got list.")


def test_400_with_only_detail_has_no_field_errors() -> None:
    error = problem_for(400, {"detail": "JSON parse error - Expecting value"}, Operation.CANCEL)
    assert isinstance(error, InvalidRequest)
    assert error.errors is None


def test_invalid_page_on_a_list_is_a_stale_page_token_not_a_missing_job() -> None:
    error = problem_for(404, {"detail": "Invalid page."}, Operation.LIST)
    assert isinstance(error, InvalidRequest)
    assert isinstance(problem_for(404, {"detail": "Invalid page."}), JobNotFound)


def test_html_500_is_upstream_error_with_the_text_kept() -> None:
    error = problem_for(500, b"<h1>Server Error (500)</h1>")
    assert type(error) is UpstreamError
    assert error.vendor_error == "<h1>Server Error (500)</h1>"


def test_secrets_are_scrubbed_from_vendor_errors() -> None:
    error = problem_for(401, {"detail": "Invalid API key ovr_secret_key_123."})
    assert "ovr_secret_key_123" not in json.dumps(error.vendor_error)
    assert "ovr_secret_key_123" not in error.detail


def test_nested_serializer_errors_get_paths() -> None:
    body = {"iterations": [{}, {"iteration_name": ["This field is required."]}]}
    assert drf_field_errors(body) == [
        FieldError(loc=["iterations", 1, "iteration_name"], msg="This field is required.")
    ]
    assert drf_error_text(body) == "iterations.1.iteration_name: This field is required."


# -- auth --------------------------------------------------------------------------------------


def test_auth_headers_per_scheme() -> None:
    assert OvermindAdapter.auth_schemes[0] == "x-api-key"
    assert OvermindAdapter.auth_headers("k", "x-api-key") == {"X-Api-Key": "k"}
    assert OvermindAdapter.auth_headers("k", "bearer") == {"Authorization": "Bearer k"}
    with pytest.raises(ValueError, match="x-api-key"):
        OvermindAdapter.auth_headers("k", "basic")


# -- fuzz --------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
JOB_KEYS = st.sampled_from(
    [
        "id",
        "status",
        "created_at",
        "updated_at",
        "best_score",
        "baseline_score",
        "improvement",
        "error",
        "report_markdown",
        "iterations",
    ]
)
JOBISH = st.dictionaries(JOB_KEYS, JSON, max_size=10) | JSON
ITERATION = st.dictionaries(
    st.sampled_from(["id", "avg_score", "dimension_scores", "agent_code", "status", "order"]), JSON
)


@settings(max_examples=300, deadline=None)
@given(payload=JOBISH, iterations=st.lists(ITERATION, max_size=3))
def test_translators_accept_any_json(payload: Any, iterations: list[Any]) -> None:
    if isinstance(payload, dict) and "iterations" not in payload:
        payload["iterations"] = iterations
    for translate in (to_job, to_result):
        try:
            out = translate(CTX, payload)
        except GatewayError:
            continue
        assert isinstance(out, Job | Result)


@settings(max_examples=200, deadline=None)
@given(status=st.integers(min_value=400, max_value=599), body=JSON)
def test_error_translation_accepts_any_body(status: int, body: Any) -> None:
    error = problem_for(status, body, Operation.LIST)
    assert isinstance(error, GatewayError)
    assert error.problem().status >= 400


def test_the_registry_finds_the_adapter() -> None:
    assert adapter_class("overmind") is OvermindAdapter
