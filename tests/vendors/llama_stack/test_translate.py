"""Llama Stack's pure translators against the official examples and constructed edge cases."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.adapters import adapter_class
from gateway.adapters.base import BackendContext
from gateway.contract import ListQuery, Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    UnsupportedOperation,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.ids import JobRef, parse_job_id
from gateway.schemas import FieldError, JobStatus, Metric
from gateway.vendors.llama_stack.adapter import (
    STATUS_TABLE,
    LlamaStackAdapter,
    field_errors,
    job_ids,
    not_ready_status,
    to_job,
    to_result,
)
from gateway.vendors.llama_stack.results import flatten_metrics

FIXTURES = Path(__file__).parent / "fixtures"
CTX = BackendContext(
    backend="ls-dev",
    vendor="llama-stack",
    base_url="http://llama.example:8321/",
    secrets=("sim-key-llama-stack",),
)
MMLU_JOB = JobRef("ls-dev", ("mmlu", "job-123"))


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
async def adapter() -> AsyncIterator[LlamaStackAdapter]:
    async with httpx.AsyncClient() as http:
        yield LlamaStackAdapter(CTX, http)


# -- status --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("scheduled", JobStatus.QUEUED),
        ("in_progress", JobStatus.RUNNING),
        ("completed", JobStatus.SUCCEEDED),
        ("failed", JobStatus.FAILED),
        ("cancelled", JobStatus.CANCELLED),
    ],
)
def test_every_documented_status_maps_per_the_vendor_row(word: str, canonical: JobStatus) -> None:
    job = to_job(CTX, {"job_id": "eval-1", "status": word}, MMLU_JOB)
    assert job.status is canonical
    assert job.vendor_status == word
    assert job.terminal is canonical.terminal


@pytest.mark.parametrize("word", ["cancelling", "running", "succeeded", "sim_undocumented_status"])
def test_undocumented_words_are_unknown_never_failed_or_succeeded(word: str) -> None:
    job = to_job(CTX, {"job_id": "eval-1", "status": word}, MMLU_JOB)
    assert job.status is JobStatus.UNKNOWN
    assert job.vendor_status == word
    assert job.error is None
    assert not job.terminal


@pytest.mark.parametrize("payload", [{"job_id": "eval-1"}, {"job_id": "eval-1", "status": None}])
def test_missing_status_is_unknown_with_no_vendor_status(payload: dict[str, Any]) -> None:
    job = to_job(CTX, payload, MMLU_JOB)
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, None)


def test_status_words_match_ignoring_case_and_space_but_stay_verbatim() -> None:
    job = to_job(CTX, {"job_id": "eval-1", "status": " Completed "}, MMLU_JOB)
    assert job.status is JobStatus.SUCCEEDED
    assert job.vendor_status == " Completed "


def test_status_filter_words_come_from_the_table() -> None:
    assert STATUS_TABLE.vendor_words(JobStatus.QUEUED) == ("scheduled",)
    assert STATUS_TABLE.vendor_words(JobStatus.PAUSED) == ()


# -- jobs ----------------------------------------------------------------------------------------


def test_official_completed_job() -> None:
    job = to_job(CTX, fixture("job_status.200.completed.json"), MMLU_JOB)
    assert job.id == "ls-dev~mmlu~job-123"
    assert (job.backend, job.vendor, job.vendor_job_id) == ("ls-dev", "llama-stack", "job-123")
    assert job.status is JobStatus.SUCCEEDED
    assert [(link.rel, link.href) for link in job.links] == [
        ("self", "http://llama.example:8321/v1alpha/eval/benchmarks/mmlu/jobs/job-123"),
        ("result", "http://llama.example:8321/v1alpha/eval/benchmarks/mmlu/jobs/job-123/result"),
    ]
    assert job.raw == {"job_id": "job-123", "status": "completed"}


def test_official_in_progress_job_has_no_result_link_and_invents_nothing() -> None:
    job = to_job(CTX, fixture("job_status.200.in_progress.json"), JobRef("ls-dev", ("mmlu",)))
    assert job.id == "ls-dev~mmlu~eval-1234"
    assert job.status is JobStatus.RUNNING
    assert [link.rel for link in job.links] == ["self"]
    # A Llama Stack job carries no times, progress, name or message.
    assert job.created_at is job.updated_at is job.started_at is job.finished_at is None
    assert job.progress is job.name is job.message is job.error is None
    assert job.metrics == []


def test_official_run_eval_answer_takes_the_benchmark_from_the_hint() -> None:
    job = to_job(CTX, fixture("run_eval.200.in_progress.json"), JobRef("ls-dev", ("mmlu",)))
    assert job.id == "ls-dev~mmlu~eval-1234"
    assert parse_job_id(job.id) == JobRef("ls-dev", ("mmlu", "eval-1234"))


def test_failed_job_carries_a_failure_problem_without_inventing_a_reason() -> None:
    job = to_job(CTX, {"job_id": "eval-1", "status": "failed"}, MMLU_JOB)
    assert job.error is not None
    assert job.error.slug == "upstream-error"
    assert job.error.backend == "ls-dev"
    assert job.error.vendor_error is None
    assert "no reason" in (job.error.detail or "")


def test_job_id_missing_from_payload_comes_from_the_hint() -> None:
    job = to_job(CTX, {"status": "scheduled"}, JobRef("ls-dev", ("mmlu", "eval-7")))
    assert (job.id, job.vendor_job_id) == ("ls-dev~mmlu~eval-7", "eval-7")


def test_identifiers_with_reserved_characters_are_escaped_in_ids_and_quoted_in_links() -> None:
    job = to_job(CTX, {"job_id": "eval 1", "status": "completed"}, JobRef("ls-dev", ("nv/mmlu",)))
    assert job.id == "ls-dev~nv!2Fmmlu~eval!201"
    assert job.links[0].href.endswith("/v1alpha/eval/benchmarks/nv%2Fmmlu/jobs/eval%201")


@pytest.mark.parametrize(
    ("payload", "hint"),
    [
        (None, MMLU_JOB),
        ([{"job_id": "eval-1"}], MMLU_JOB),
        ("completed", MMLU_JOB),
        ({"job_id": "eval-1", "status": "completed"}, None),  # no benchmark anywhere
        ({"status": "completed"}, JobRef("ls-dev", ("mmlu",))),  # no job id anywhere
    ],
)
def test_unusable_job_payloads_are_invalid_responses(payload: Any, hint: JobRef | None) -> None:
    with pytest.raises(UpstreamInvalidResponse) as caught:
        to_job(CTX, payload, hint)
    assert caught.value.backend == "ls-dev"


def test_job_ids_need_exactly_two_parts() -> None:
    assert job_ids(MMLU_JOB) == ("mmlu", "job-123")
    with pytest.raises(InvalidRequest):
        job_ids(JobRef("ls-dev", ("job-123",)))


# -- results -------------------------------------------------------------------------------------


def test_official_nvidia_readme_result_is_empty_but_succeeded() -> None:
    result = to_result(CTX, fixture("job_result.200.json"), MMLU_JOB)
    assert result.job_id == "ls-dev~mmlu~job-123"
    assert result.status is JobStatus.SUCCEEDED
    assert result.metrics == [] and result.rows == []
    assert [(a.rel, a.href) for a in result.artifacts] == [
        ("result", "http://llama.example:8321/v1alpha/eval/benchmarks/mmlu/jobs/job-123/result")
    ]
    assert result.raw == fixture("job_result.200.json")


def test_nvidia_result_flattens_the_whole_nemo_evaluation_result() -> None:
    nemo = fixture("nemo_v1_job_results.200.json") | {"files_url": "hf://datasets/nvidia/results"}
    payload = {
        "generations": [],
        "scores": {"gsm8k": {"score_rows": [], "aggregated_results": nemo}},
    }
    result = to_result(CTX, payload, JobRef("ls-dev", ("gsm8k", "eval-UVW123XYZ456")))
    assert [(m.group, m.name, m.value) for m in result.metrics] == [
        ("gsm8k/exact_match", "exact_match.gsm8k-metric_ranking-1", 0.0),
        ("gsm8k/exact_match", "exact_match.gsm8k-metric_ranking-3", 0.8),
        ("gsm8k/exact_match_stderr", "exact_match_stderr.gsm8k-metric_ranking-2", 0.0),
        (
            "gsm8k/exact_match_stderr",
            "exact_match_stderr.gsm8k-metric_ranking-4",
            0.19999999999999998,
        ),
    ]
    # NeMo's ids and times are not metrics.
    assert {m.value_type for m in result.metrics} == {"number"}
    assert ("files", "hf://datasets/nvidia/results") in [(a.rel, a.href) for a in result.artifacts]


def test_nemo_groups_scores_and_stats() -> None:
    nemo = {
        "job": "eval-1",
        "tasks": {"abstract_algebra": {"metrics": {"acc": {"scores": {"acc": {"value": 0.41}}}}}},
        "groups": {
            "mmlu": {
                "metrics": {
                    "acc": {
                        "scores": {
                            "acc": {
                                "value": 0.52,
                                "stats": {"count": 235, "stderr": 0.03, "note": "x"},
                            }
                        }
                    }
                },
                "groups": {"stem": {"metrics": {"acc": {"scores": {"acc": {"value": 0.4}}}}}},
            }
        },
    }
    payload = {
        "generations": [],
        "scores": {"mmlu": {"score_rows": [], "aggregated_results": nemo}},
    }
    metrics = to_result(CTX, payload, MMLU_JOB).metrics
    assert metrics == [
        Metric(name="acc", value=0.41, value_type="number", group="mmlu/abstract_algebra"),
        Metric(
            name="acc",
            value=0.52,
            value_type="number",
            group="mmlu/mmlu",
            stats={"count": 235, "stderr": 0.03},
        ),
        Metric(name="acc", value=0.4, value_type="number", group="mmlu/mmlu/stem"),
    ]


def test_builtin_result_metrics_and_rows() -> None:
    result = to_result(CTX, fixture("job_result.builtin.constructed.json"), MMLU_JOB)
    assert result.metrics == [
        Metric(
            name="accuracy",
            value=1.0,
            value_type="number",
            group="basic::subset_of",
            stats={"num_correct": 2.0, "num_total": 2},
        ),
        Metric(
            name="categorical_count.A", value=1, value_type="number", group="llm-as-judge::base"
        ),
        Metric(
            name="categorical_count.C", value=1, value_type="number", group="llm-as-judge::base"
        ),
    ]
    first, second = result.rows
    assert (first.index, first.output, first.data) == (0, "Paris", {})
    assert (second.output, second.data) == ("It is blue", {"turn_id": "t-2"})
    assert [(s.group, s.name, s.value) for s in second.scores] == [
        ("basic::subset_of", "score", 1.0),
        ("llm-as-judge::base", "score", "C"),
        ("llm-as-judge::base", "judge_feedback", "Partly right"),
    ]


def test_rows_follow_the_longest_of_generations_and_score_rows() -> None:
    payload = {
        "generations": [{"generated_answer": "a"}],
        "scores": {"f": {"score_rows": [{"score": 1}, {"score": 0}], "aggregated_results": {}}},
    }
    rows = to_result(CTX, payload, MMLU_JOB).rows
    assert [(r.index, r.output, [s.value for s in r.scores]) for r in rows] == [
        (0, "a", [1]),
        (1, None, [0]),
    ]


def test_flatten_keeps_flat_results_bools_strings_and_nulls_and_drops_lists() -> None:
    flat = {
        "accuracy": 0.5,
        "num_total": 2,
        "passed": True,
        "note": "ok",
        "skipped": None,
        "per_row": [1, 2],
        "bad": float("nan"),
    }
    assert [(m.name, m.value, m.value_type) for m in flatten_metrics(flat, group="g")] == [
        ("accuracy", 0.5, "number"),
        ("num_total", 2, "number"),
        ("passed", True, "boolean"),
        ("note", "ok", "string"),
        ("skipped", None, None),
        ("bad", None, "number"),
    ]


def test_result_that_is_not_an_object_is_an_invalid_response() -> None:
    with pytest.raises(UpstreamInvalidResponse):
        to_result(CTX, ["generations"], MMLU_JOB)


# -- errors --------------------------------------------------------------------------------------


def v07(message: str) -> dict[str, Any]:
    """The 0.6+ envelope."""
    return {"error": {"message": message}}


def v05(message: str) -> dict[str, Any]:
    return {"error": {"detail": message}}


def v04(message: str) -> dict[str, Any]:
    return {"detail": message}


UNKNOWN_BENCH = (
    "Benchmark `nope` not served by provider: `nvidia`. "
    "Make sure there is an Eval provider serving this benchmark."
)
UNKNOWN_BENCH_MANY = (
    "Benchmark `x` not served by any of the providers: a, b. "
    "Make sure there is an Eval provider serving this benchmark."
)
UNKNOWN_BENCH_04 = "Invalid value: Benchmark `x` not served by provider: `nvidia`"
ACCESS_DENIED = "Access denied: insufficient permissions for route /v1alpha/eval"
VERSION = (
    "Client version 0.6.0 is not compatible with server version 0.7.1. Please update your client."
)
INTERNAL = "Internal server error: An unexpected error occurred."
GET, RESULT, CANCEL, SUBMIT = (
    Operation.GET_JOB,
    Operation.GET_RESULT,
    Operation.CANCEL,
    Operation.SUBMIT,
)


@pytest.mark.parametrize(
    ("status", "body", "operation", "problem"),
    [
        # job not found: 0.6+, 0.5 and <=0.4 envelopes (the older ones with the prefix)
        (400, v07("Job eval-9 not found"), GET, JobNotFound),
        (400, v05("Invalid value: Job eval-9 not found"), CANCEL, JobNotFound),
        (400, v04("Invalid value: Job eval-9 not found"), RESULT, JobNotFound),
        # unknown benchmark: the job a job id names cannot exist
        (400, v07(UNKNOWN_BENCH), GET, JobNotFound),
        (400, v04(UNKNOWN_BENCH_04), RESULT, JobNotFound),
        (400, v07(UNKNOWN_BENCH_MANY), CANCEL, JobNotFound),
        (400, v07(UNKNOWN_BENCH), SUBMIT, InvalidRequest),
        # other 400s
        (400, v07("Job is not completed, Status: in_progress"), GET, InvalidRequest),
        (400, v07("Job eval-9 not found, or so"), GET, InvalidRequest),
        # auth (0.3 put non-401 texts under detail)
        (401, v07("Invalid Authorization header format"), GET, UpstreamAuthFailed),
        (403, v05(ACCESS_DENIED), GET, UpstreamAuthFailed),
        # route misses and resource 404s
        (404, v04("Not Found"), GET, UnsupportedOperation),
        (404, v07("Benchmark 'x' not found"), GET, JobNotFound),
        (405, v04("Method Not Allowed"), CANCEL, UpstreamError),
        (426, v07(VERSION), GET, UpstreamError),
        (429, v07("Quota exceeded"), GET, UpstreamRateLimited),
        (500, v07(INTERNAL), GET, UpstreamError),
        (500, v07("Quota service error"), GET, UpstreamError),
        (501, v07("Job cancel is not implemented yet"), CANCEL, UnsupportedOperation),
        (
            501,
            v04("Not implemented: Job cancel is not implemented yet"),
            CANCEL,
            UnsupportedOperation,
        ),
        (502, v07("All connection attempts failed"), GET, UpstreamUnavailable),
        (504, v07("Operation timed out: "), GET, UpstreamTimeout),
    ],
)
def test_error_envelopes_map_to_problem_types(
    adapter: LlamaStackAdapter,
    status: int,
    body: dict[str, Any],
    operation: Operation,
    problem: type[GatewayError],
) -> None:
    error = adapter.to_problem(operation, status, {}, json.dumps(body).encode())
    assert type(error) is problem
    assert error.vendor_error == body
    assert error.vendor_status_code == status
    assert (error.backend, error.vendor) == ("ls-dev", "llama-stack")


@pytest.mark.parametrize(
    ("name", "problem", "text"),
    [
        ("error.400.spec-example.json", InvalidRequest, "The request was invalid or malformed"),
        ("error.429.spec-example.json", UpstreamRateLimited, "You have exceeded the rate limit"),
        ("error.500.spec-example.json", UpstreamError, "An unexpected error occurred"),
    ],
)
def test_spec_documented_error_shape_is_read_too(
    adapter: LlamaStackAdapter, name: str, problem: type[GatewayError], text: str
) -> None:
    body = fixture(name)
    error = adapter.to_problem(Operation.GET_JOB, body["status"], {}, json.dumps(body).encode())
    assert type(error) is problem
    assert text in error.detail
    assert error.vendor_error == body


def test_quota_429_has_no_retry_after(adapter: LlamaStackAdapter) -> None:
    error = adapter.to_problem(
        Operation.GET_JOB, 429, {}, b'{"error":{"message":"Quota exceeded"}}'
    )
    assert isinstance(error, UpstreamRateLimited)
    assert error.retry_after is None
    assert error.retryable is True


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("Job is not completed, Status: in_progress", JobStatus.RUNNING),
        ("Job is not completed, Status: scheduled", JobStatus.QUEUED),
        ("Job eval-9 not completed. Status: failed", JobStatus.FAILED),
        ("Job eval-9 not completed. Status: cancelled", JobStatus.CANCELLED),
        ("Invalid value: Job eval-9 not completed. Status: in_progress", JobStatus.RUNNING),
        ("Job is not completed, Status: JobStatus.scheduled", JobStatus.QUEUED),
        ("Job eval-9 not completed. Status: cancelling", JobStatus.UNKNOWN),
    ],
)
def test_result_before_completion_is_job_not_ready_with_the_current_status(
    adapter: LlamaStackAdapter, message: str, status: JobStatus
) -> None:
    for body in ({"error": {"message": message}}, {"detail": message}):
        error = adapter.to_problem(Operation.GET_RESULT, 400, {}, json.dumps(body).encode())
        assert isinstance(error, JobNotReady)
        assert error.job_status == status.value
        assert error.vendor_error == body
    assert not_ready_status(message) is status


def test_not_ready_status_of_other_text_is_unknown() -> None:
    assert not_ready_status("Job eval-9 not found") is JobStatus.UNKNOWN
    assert not_ready_status(None) is JobStatus.UNKNOWN


MISSING_CONFIG = [
    FieldError(loc=["body", "benchmark_config"], msg="Field required", type="missing")
]


@pytest.mark.parametrize(
    "body",
    [
        # v0.6+: the repr of a dict as the message
        {
            "error": {
                "message": "{'errors': [{'loc': ['body', 'benchmark_config'], "
                "'msg': 'Field required', 'type': 'missing'}]}"
            }
        },
        # <=0.4: the dict itself under error.detail
        {
            "error": {
                "detail": {
                    "errors": [
                        {
                            "loc": ["body", "benchmark_config"],
                            "msg": "Field required",
                            "type": "missing",
                        }
                    ]
                }
            }
        },
    ],
)
def test_validation_failures_are_invalid_requests_with_field_errors(
    adapter: LlamaStackAdapter, body: dict[str, Any]
) -> None:
    error = adapter.to_problem(Operation.SUBMIT, 400, {}, json.dumps(body).encode())
    assert isinstance(error, InvalidRequest)
    assert error.errors == MISSING_CONFIG
    assert error.vendor_error == body


@pytest.mark.parametrize(
    "message",
    [
        "{'errors': [",
        "{'errors': __import__('os').getcwd()}",
        "{'errors': [{'loc': ['body']}]}",  # no msg
        "plain text",
    ],
)
def test_field_errors_ignore_what_they_cannot_read(message: str) -> None:
    assert field_errors({"error": {"message": message}}) is None


def test_unreadable_error_bodies_still_give_a_problem(adapter: LlamaStackAdapter) -> None:
    error = adapter.to_problem(Operation.GET_JOB, 502, {}, b"<html>Bad Gateway</html>")
    assert isinstance(error, UpstreamUnavailable)
    assert error.vendor_error == "<html>Bad Gateway</html>"


# -- the adapter class ---------------------------------------------------------------------------


def test_registry_finds_the_adapter_and_its_declarations() -> None:
    assert adapter_class("llama-stack") is LlamaStackAdapter
    assert LlamaStackAdapter.id_parts == ("benchmark_id", "job_id")
    assert LlamaStackAdapter.auth_schemes == ("bearer",)
    assert LlamaStackAdapter.auth_headers("k-123", "bearer") == {"Authorization": "Bearer k-123"}


async def test_list_jobs_is_unsupported_without_calling_the_vendor() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected call {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(UnsupportedOperation) as caught:
            await LlamaStackAdapter(CTX, http).list_jobs(ListQuery())
    assert "list jobs" in caught.value.detail


# -- fuzzing: any JSON gives a canonical object or a typed error ---------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
keys = st.sampled_from(
    ["job_id", "status", "generations", "scores", "score_rows", "aggregated_results", "tasks",
     "groups", "metrics", "value", "stats", "accuracy", "generated_answer", "files_url"]
)  # fmt: skip
shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(keys | st.text(max_size=4), children, max_size=5),
    max_leaves=40,
)
hints = st.sampled_from([None, JobRef("ls-dev", ("mmlu",)), MMLU_JOB])


@settings(max_examples=300, deadline=None)
@given(payload=shaped, hint=hints)
def test_to_job_never_fails_untyped(payload: Any, hint: JobRef | None) -> None:
    try:
        job = to_job(CTX, payload, hint)
    except GatewayError:
        return
    assert job.backend == "ls-dev"
    assert parse_job_id(job.id).parts[0] == "mmlu"


@settings(max_examples=300, deadline=None)
@given(payload=shaped)
def test_to_result_never_fails_untyped(payload: Any) -> None:
    try:
        result = to_result(CTX, payload, MMLU_JOB)
    except GatewayError:
        return
    assert result.job_id == "ls-dev~mmlu~job-123"
    result.model_dump_json()  # every metric serialises (no NaN or odd types leak through)


@settings(max_examples=200, deadline=None)
@given(status=st.integers(400, 599), body=shaped)
def test_to_problem_always_gives_a_gateway_error(status: int, body: Any) -> None:
    adapter = LlamaStackAdapter(CTX, httpx.AsyncClient())  # to_problem makes no call
    for operation in Operation:
        error = adapter.to_problem(operation, status, {}, json.dumps(body).encode())
        assert isinstance(error, GatewayError)
        if isinstance(error, JobNotReady):
            assert error.job_status in {s.value for s in JobStatus}


async def test_cancel_accepts_the_legacy_204_and_reads_the_job_back() -> None:
    # Servers up to 0.4 answer the DELETE with 204 and no body; 0.5+ with 200 `null`.
    calls: list[tuple[str, str]] = []

    def legacy_server(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json={"job_id": "job-123", "status": "cancelled"})

    transport = httpx.MockTransport(legacy_server)
    async with httpx.AsyncClient(transport=transport, base_url="http://ls.test") as http:
        job = await LlamaStackAdapter(CTX, http).cancel_job(MMLU_JOB)
    assert (job.status, job.message) == (JobStatus.CANCELLED, None)
    path = "/v1alpha/eval/benchmarks/mmlu/jobs/job-123"
    assert calls == [("DELETE", path), ("GET", path)]
