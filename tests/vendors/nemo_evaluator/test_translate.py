"""NeMo Evaluator translators (v1 and v2) against the official examples and edge cases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.adapters import BackendContext
from gateway.contract import Operation
from gateway.errors import GatewayError, UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.schemas import Job, JobStatus, ProblemType, Result
from gateway.vendors.nemo_evaluator import v1, v2
from gateway.vendors.nemo_evaluator.common import jobs_page

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://nemo.example.test"
CTX1 = BackendContext(backend="nemo", vendor="nemo-evaluator", api_version="v1", base_url=BASE)
CTX2 = BackendContext(backend="nemo2", vendor="nemo-evaluator", api_version="v2", base_url=BASE)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def rels(job: Job | Result) -> dict[str, str]:
    links = job.links if isinstance(job, Job) else job.artifacts
    return {link.rel: link.href for link in links}


# -- v1 jobs -----------------------------------------------------------------------------------


def test_v1_official_completed_job() -> None:
    payload = load("v1/job_get.200.completed.json")
    job = v1.to_job(CTX1, payload)
    assert job.id == "nemo~eval-UVW123XYZ456"
    assert (job.vendor_job_id, job.api_version, job.name) == ("eval-UVW123XYZ456", "v1", None)
    assert (job.status, job.vendor_status, job.terminal) == (JobStatus.SUCCEEDED, "completed", True)
    assert job.created_at == datetime(2025, 3, 19, 22, 50, 15, 684382, tzinfo=UTC)
    assert job.updated_at == datetime(2025, 3, 19, 22, 50, 15, 684385, tzinfo=UTC)
    assert (job.message, job.progress, job.error) == ("Job completed successfully", None, None)
    links = rels(job)
    assert links["self"] == f"{BASE}/v1/evaluation/jobs/eval-UVW123XYZ456"
    assert links["results"] == f"{BASE}/v1/evaluation/jobs/eval-UVW123XYZ456/results"
    assert links["download-results"].endswith("/eval-UVW123XYZ456/download-results")
    assert links["result"] == f"{BASE}/v1/evaluation/results/evaluation_result-1234ABCD5678EFGH"
    assert links["output-files"] == "hf://datasets/evaluation-results/eval-UVW123XYZ456"
    assert job.raw == payload


def test_v1_official_created_job_has_no_result_links() -> None:
    job = v1.to_job(CTX1, load("v1/job_create.200.created.json"))
    assert (job.status, job.vendor_status, job.terminal) == (JobStatus.QUEUED, "created", False)
    assert job.message is None
    assert {"self", "status", "logs"} == set(rels(job))


V1_WORDS = {
    "created": JobStatus.QUEUED,
    "pending": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "cancelling": JobStatus.CANCELLING,
    "completed": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    # In the SDK enum, never documented for evaluation jobs: unknown, never failed.
    "ready": JobStatus.UNKNOWN,
    "unknown": JobStatus.UNKNOWN,
    "sim_undocumented_status": JobStatus.UNKNOWN,
    " Completed ": JobStatus.SUCCEEDED,
}


@pytest.mark.parametrize(("word", "canonical"), V1_WORDS.items())
def test_v1_status_words(word: str, canonical: JobStatus) -> None:
    job = v1.to_job(CTX1, {"id": "eval-1", "status": word})
    assert (job.status, job.vendor_status) == (canonical, word)
    assert (job.error is not None) == (canonical is JobStatus.FAILED)


@pytest.mark.parametrize("status", [None, 3, "", "  "])
def test_v1_missing_status_is_unknown(status: Any) -> None:
    job = v1.to_job(CTX1, {"id": "eval-1", "status": status})
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, None)


def test_v1_running_status_details_give_progress_and_counters() -> None:
    details = load("v1/job_status.200.running.json")
    job = v1.to_job(CTX1, {"id": "eval-1", "status": "running", "status_details": details})
    assert job.progress == pytest.approx(0.425)
    assert job.message == "Job is running"
    metrics = {(m.name, m.group): m for m in job.metrics}
    assert metrics["samples_processed", None].value == 85
    assert metrics["samples_processed", None].unit == "samples"
    assert metrics["task_status", "question-answering"].value == "running"


def test_v1_progress_is_clamped_to_a_fraction() -> None:
    job = v1.to_job(CTX1, {"id": "e", "status": "running", "status_details": {"progress": 250}})
    assert job.progress == 1.0


def test_v1_failure_text_comes_from_status_details_message() -> None:
    details = {"message": "Error connecting to inference server", "task_status": {"qa": "failed"}}
    job = v1.to_job(CTX1, {"id": "eval-9", "status": "failed", "status_details": details})
    assert job.error is not None
    assert job.error.slug == ProblemType.UPSTREAM_ERROR.slug
    assert job.error.detail == "Error connecting to inference server"
    assert job.error.vendor_error == details
    assert job.error.retryable is False


def test_v1_hint_supplies_the_id_the_payload_lacks() -> None:
    job = v1.to_job(CTX1, {"status": "running"}, JobRef("nemo", ("eval-from-hint",)))
    assert (job.id, job.vendor_job_id) == ("nemo~eval-from-hint", "eval-from-hint")


def test_v1_vendor_id_with_unsafe_characters_is_escaped() -> None:
    job = v1.to_job(CTX1, {"id": "ns/eval 1", "status": "created"})
    assert job.id == "nemo~ns!2Feval!201"
    assert rels(job)["self"] == f"{BASE}/v1/evaluation/jobs/ns%2Feval%201"


@pytest.mark.parametrize("payload", [None, [], "eval-1", 7, {"status": "completed"}])
def test_unusable_jobs_raise_invalid_response(payload: Any) -> None:
    for translate in (v1.to_job, v2.to_job):
        with pytest.raises(UpstreamInvalidResponse):
            translate(CTX1, payload)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-19T22:50:15.684382", datetime(2025, 3, 19, 22, 50, 15, 684382, tzinfo=UTC)),
        ("2025-03-19T22:50:15Z", datetime(2025, 3, 19, 22, 50, 15, tzinfo=UTC)),
        ("2025-03-19T23:50:15+01:00", datetime(2025, 3, 19, 22, 50, 15, tzinfo=UTC)),
        ("yesterday", None),
        (1742424615, None),
    ],
)
def test_timestamps_naive_means_utc(raw: Any, expected: datetime | None) -> None:
    job = v1.to_job(CTX1, {"id": "e", "created_at": raw})
    assert job.created_at == expected


# -- v1 results --------------------------------------------------------------------------------


def test_v1_official_result_metrics() -> None:
    payload = load("v1/job_results.200.json")
    job = v1.to_job(CTX1, load("v1/job_get.200.completed.json"))
    result = v1.to_result(CTX1, payload, job)
    assert (result.job_id, result.status, result.raw) == (job.id, JobStatus.SUCCEEDED, payload)
    metrics = {(m.group, m.name): m.value for m in result.metrics}
    assert metrics == {
        ("exact_match", "exact_match.gsm8k-metric_ranking-1"): 0.0,
        ("exact_match", "exact_match.gsm8k-metric_ranking-3"): 0.8,
        ("exact_match_stderr", "exact_match_stderr.gsm8k-metric_ranking-2"): 0.0,
        ("exact_match_stderr", "exact_match_stderr.gsm8k-metric_ranking-4"): 0.19999999999999998,
    }
    assert all(m.value_type == "number" for m in result.metrics)
    artifacts = {a.rel: a for a in result.artifacts}
    assert artifacts["download-results"].media_type == "application/zip"
    assert artifacts["download-results"].href.endswith("/eval-UVW123XYZ456/download-results")
    assert result.rows == []


def test_result_groups_and_score_stats() -> None:
    payload = {
        "job": "eval-1",
        "groups": {
            "safety": {
                "metrics": {"acc": {"scores": {"mean": {"value": 0.5, "stats": {"count": 4}}}}},
                "groups": {
                    "toxicity": {
                        "metrics": {
                            "acc": {
                                "scores": {
                                    "mean": {
                                        "value": 0.25,
                                        "stats": {"stderr": 0.1, "mean": "bad", "nan_count": 0},
                                    }
                                }
                            }
                        }
                    }
                },
            }
        },
    }
    job = v1.to_job(CTX1, {"id": "eval-1", "status": "completed"})
    metrics = v1.to_result(CTX1, payload, job).metrics
    assert [(m.group, m.name, m.value, m.stats) for m in metrics] == [
        ("safety", "acc.mean", 0.5, {"count": 4}),
        ("safety/toxicity", "acc.mean", 0.25, {"stderr": 0.1, "nan_count": 0}),
    ]


def test_result_score_without_value_is_kept_as_null() -> None:
    payload = {"tasks": {"t": {"metrics": {"m": {"scores": {"s": {}, "bad": 3}}}}}}
    job = v2.to_job(CTX2, {"id": "job-1", "status": "completed"})
    metrics = v2.to_result(CTX2, payload, {"data": []}, job).metrics
    assert [(m.name, m.value) for m in metrics] == [("m.s", None)]


# -- v2 ----------------------------------------------------------------------------------------


def test_v2_official_completed_job() -> None:
    payload = load("v2/job_get.200.completed.json")
    job = v2.to_job(CTX2, payload)
    assert job.id == "nemo2~job-dq1pjj6vj5p64xaeqgvuk4"
    assert (job.status, job.vendor_status, job.api_version) == (
        JobStatus.SUCCEEDED,
        "completed",
        "v2",
    )
    # The official example has no `name`, though the SDK marks it required.
    assert job.name is None
    assert job.created_at == datetime(2025, 9, 8, 19, 20, 32, 655254, tzinfo=UTC)
    assert job.error is None
    links = rels(job)
    base = f"{BASE}/v2/evaluation/jobs/job-dq1pjj6vj5p64xaeqgvuk4"
    assert links["evaluation-results"] == f"{base}/results/evaluation-results/download"
    assert links["artifacts"] == f"{base}/results/artifacts/download"
    assert links["logs"] == f"{base}/logs"


V2_WORDS = {
    "created": JobStatus.QUEUED,
    "pending": JobStatus.QUEUED,
    "active": JobStatus.RUNNING,
    "resuming": JobStatus.RUNNING,
    "paused": JobStatus.PAUSED,
    "pausing": JobStatus.PAUSED,
    "cancelling": JobStatus.CANCELLING,
    "completed": JobStatus.SUCCEEDED,
    "error": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    # v1-only words are not v2 words.
    "running": JobStatus.UNKNOWN,
    "failed": JobStatus.UNKNOWN,
    "sim_undocumented_status": JobStatus.UNKNOWN,
}


@pytest.mark.parametrize(("word", "canonical"), V2_WORDS.items())
def test_v2_status_words(word: str, canonical: JobStatus) -> None:
    job = v2.to_job(CTX2, {"id": "job-1", "name": "n", "status": word})
    assert (job.status, job.vendor_status, job.name) == (canonical, word, "n")


def test_v2_error_details_become_the_failure() -> None:
    error_details = {"message": "Error connecting to inference server", "code": 17}
    job = v2.to_job(
        CTX2,
        {"id": "job-1", "status": "error", "status_details": {}, "error_details": error_details},
    )
    assert job.error is not None
    assert job.error.detail == "Error connecting to inference server"
    assert job.error.vendor_error == error_details
    assert job.message == "Error connecting to inference server"


def test_v2_error_without_details_still_reports_a_failure() -> None:
    job = v2.to_job(CTX2, {"id": "job-1", "status": "error", "error_details": None})
    assert job.error is not None
    assert job.error.detail
    assert job.error.vendor_error is None


def test_v2_status_details_progress_and_samples() -> None:
    details = {"progress": 42.5, "samples_processed": 85}
    job = v2.to_job(CTX2, {"id": "job-1", "status": "active", "status_details": details})
    assert job.progress == pytest.approx(0.425)
    assert [(m.name, m.value) for m in job.metrics] == [("samples_processed", 85)]


def test_v2_result_metrics_and_stored_results() -> None:
    job = v2.to_job(CTX2, load("v2/job_get.200.completed.json"))
    evaluation = load("v1/job_results.200.json")
    evaluation = {"tasks": evaluation["tasks"]}
    stored = {
        "object": "list",
        "data": [
            {
                "artifact_storage_type": "nds",
                "artifact_url": "hf://datasets/default/job-dq1pjj6vj5p64xaeqgvuk4/artifacts",
                "job_id": "job-dq1pjj6vj5p64xaeqgvuk4",
                "namespace": "default",
                "result_name": "artifacts",
            },
            {"result_name": "no-url"},
        ],
    }
    result = v2.to_result(CTX2, evaluation, stored, job)
    assert len(result.metrics) == 4
    artifacts = rels(result)
    assert artifacts["result:artifacts"] == (
        "hf://datasets/default/job-dq1pjj6vj5p64xaeqgvuk4/artifacts"
    )
    assert artifacts["artifacts"].endswith("/results/artifacts/download")
    assert "result:no-url" not in artifacts
    assert result.raw == {"evaluation_results": evaluation, "results": stored}


@pytest.mark.parametrize("payload", [None, [], "x"])
def test_unusable_results_raise_invalid_response(payload: Any) -> None:
    job = v1.to_job(CTX1, {"id": "eval-1", "status": "completed"})
    with pytest.raises(UpstreamInvalidResponse):
        v1.to_result(CTX1, payload, job)
    with pytest.raises(UpstreamInvalidResponse):
        v2.to_result(CTX2, payload, None, job)


# -- list pages --------------------------------------------------------------------------------


def test_official_list_envelope() -> None:
    page = jobs_page(CTX1, load("v1/jobs_list.envelope.docs.json"), 1, 10, v1.to_job)
    assert (page.jobs, page.next_cursor, page.total) == ([], None, 3)


def test_list_page_cursor_and_unreadable_items() -> None:
    payload = {
        "object": "list",
        "data": [{"id": "eval-1", "status": "running"}, "junk", {"status": "failed"}],
        "pagination": {"page": 1, "page_size": 3, "total_pages": 2, "total_results": 5},
    }
    page = jobs_page(CTX1, payload, 1, 3, v1.to_job)
    assert [j.vendor_job_id for j in page.jobs] == ["eval-1"]
    assert (page.next_cursor, page.total) == ({"page": 2}, 5)


def test_list_without_pagination_asks_on_while_pages_are_full() -> None:
    full = {"data": [{"id": "a"}, {"id": "b"}]}
    assert jobs_page(CTX1, full, 4, 2, v1.to_job).next_cursor == {"page": 5}
    assert jobs_page(CTX1, full, 4, 3, v1.to_job).next_cursor is None


@pytest.mark.parametrize("payload", [None, [], {"data": "x"}, {"items": []}])
def test_list_without_data_is_invalid(payload: Any) -> None:
    with pytest.raises(UpstreamInvalidResponse):
        jobs_page(CTX1, payload, 1, 10, v1.to_job)


# -- vendor errors -----------------------------------------------------------------------------


@pytest.fixture
async def adapter() -> AsyncIterator[v1.NemoV1Adapter]:
    async with httpx.AsyncClient(base_url=BASE) as http:
        yield v1.NemoV1Adapter(CTX1, http)


VALIDATION = {
    "detail": [
        {"loc": ["body", "config"], "msg": "Field required", "type": "missing"},
        {"loc": ["query", "page"], "msg": "Input should be a valid integer", "type": "int_parsing"},
    ]
}


@pytest.mark.parametrize(
    ("operation", "status", "body", "slug"),
    [
        (Operation.GET_JOB, 404, {"detail": "Job eval-1 not found"}, "job-not-found"),
        (Operation.GET_RESULT, 404, {"detail": "Results not found"}, "job-not-found"),
        (Operation.LIST, 404, {"detail": "Not Found"}, "upstream-error"),
        (Operation.LIST, 422, VALIDATION, "invalid-request"),
        (Operation.GET_JOB, 401, {"detail": "Not authenticated"}, "upstream-auth-failed"),
        (Operation.GET_JOB, 403, {"detail": "Forbidden"}, "upstream-auth-failed"),
        (Operation.CANCEL, 409, {"detail": "already completed"}, "job-already-terminal"),
        (Operation.GET_JOB, 409, {"detail": "conflict"}, "upstream-error"),
        (Operation.LIST, 429, {"detail": "Too Many Requests"}, "upstream-rate-limited"),
        (Operation.GET_JOB, 500, {"detail": "Internal Server Error"}, "upstream-error"),
        (Operation.GET_JOB, 503, {"detail": "unavailable"}, "upstream-unavailable"),
        (Operation.GET_JOB, 504, {"detail": "Gateway Timeout"}, "upstream-timeout"),
    ],
)
def test_error_envelopes(
    adapter: v1.NemoV1Adapter, operation: Operation, status: int, body: Any, slug: str
) -> None:
    error = adapter.to_problem(operation, status, {}, json.dumps(body).encode())
    problem = error.problem()
    assert problem.slug == slug
    assert (problem.vendor_status_code, problem.vendor_error) == (status, body)
    if isinstance(body["detail"], str):
        assert body["detail"] in (problem.detail or "")


def test_validation_errors_become_field_errors(adapter: v1.NemoV1Adapter) -> None:
    problem = adapter.to_problem(Operation.LIST, 422, {}, json.dumps(VALIDATION).encode()).problem()
    assert problem.errors is not None
    assert [(e.loc, e.msg, e.type) for e in problem.errors] == [
        (["body", "config"], "Field required", "missing"),
        (["query", "page"], "Input should be a valid integer", "int_parsing"),
    ]
    assert problem.detail == (
        "nemo-evaluator answered 422: body.config: Field required;"
        " query.page: Input should be a valid integer"
    )


def test_rate_limit_keeps_retry_after(adapter: v1.NemoV1Adapter) -> None:
    error = adapter.to_problem(Operation.LIST, 429, {"Retry-After": "7"}, b'{"detail": "slow"}')
    assert (error.retry_after, error.retryable) == (7.0, True)


def test_non_json_error_body_is_kept_as_text(adapter: v1.NemoV1Adapter) -> None:
    problem = adapter.to_problem(Operation.GET_JOB, 502, {}, b"<html>Bad Gateway</html>").problem()
    assert problem.slug == "upstream-error"
    assert problem.vendor_error == "<html>Bad Gateway</html>"


async def test_secrets_never_reach_vendor_error() -> None:
    ctx = BackendContext(backend="nemo", vendor="nemo-evaluator", secrets=("sim-key-nemo-xyz",))
    body = {"detail": "token sim-key-nemo-xyz refused"}
    async with httpx.AsyncClient() as http:
        adapter = v1.NemoV1Adapter(ctx, http)
    problem = adapter.to_problem(Operation.GET_JOB, 401, {}, json.dumps(body).encode()).problem()
    assert "sim-key-nemo-xyz" not in json.dumps(problem.to_json_dict())


# -- fuzz: any JSON is a Job/Result or a typed GatewayError --------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
job_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values
        for key in (
            "id",
            "name",
            "status",
            "status_details",
            "error_details",
            "created_at",
            "updated_at",
            "result",
            "output_files_url",
        )
    },
)
result_like = st.fixed_dictionaries(
    {},
    optional={
        "tasks": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        "groups": st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        "files_url": json_values,
    },
)
HINT = JobRef("nemo", ("eval-hint",))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(payload=json_values | job_like)
def test_fuzz_to_job(payload: Any) -> None:
    for ctx, translate in ((CTX1, v1.to_job), (CTX2, v2.to_job)):
        for hint in (None, HINT):
            try:
                job = translate(ctx, payload, hint)
            except GatewayError:
                continue
            assert isinstance(job, Job)
            Job.model_validate(job.model_dump())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(payload=json_values | result_like, stored=json_values)
def test_fuzz_to_result(payload: Any, stored: Any) -> None:
    job = v1.to_job(CTX1, {"id": "eval-1", "status": "completed"})
    for attempt in (
        lambda: v1.to_result(CTX1, payload, job),
        lambda: v2.to_result(CTX2, payload, stored, job),
    ):
        try:
            result = attempt()
        except GatewayError:
            continue
        assert isinstance(result, Result)


@settings(max_examples=200)
@given(payload=json_values | st.fixed_dictionaries({"data": st.lists(json_values | job_like)}))
def test_fuzz_list_page(payload: Any) -> None:
    try:
        page = jobs_page(CTX1, payload, 1, 2, v1.to_job)
    except GatewayError:
        return
    assert all(isinstance(job, Job) for job in page.jobs)
