"""The Llama Stack adapter against its simulator, through recorded cassettes.

Record: `pytest tests/vendors/llama_stack/test_cassettes.py --record-mode=once`.
Replays need no simulator state: the clock moves and faults armed below only matter while
recording.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from gateway.adapters.base import BackendContext
from gateway.contract import ListQuery
from gateway.errors import (
    JobNotFound,
    JobNotReady,
    UnsupportedOperation,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from gateway.ids import JobRef
from gateway.schemas import JobStatus, Metric
from gateway.simulators import (
    UNDOCUMENTED_STATUS,
    Fault,
    SimClock,
    SimState,
    SimTransport,
    client_for,
    create_app,
    sim_base_url,
)
from gateway.vendors.llama_stack.adapter import LlamaStackAdapter
from tests.support.cassettes import cassette_dir

VENDOR = "llama-stack"
KEY = "sim-key-llama-stack"
BASE = sim_base_url(VENDOR)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@dataclass
class Sim:
    state: SimState
    adapter: LlamaStackAdapter


def context(base_url: str = BASE) -> BackendContext:
    return BackendContext(backend="ls-sim", vendor=VENDOR, base_url=base_url, secrets=(KEY,))


def new_state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    state = new_state()
    app = create_app(VENDOR, state=state)
    headers = LlamaStackAdapter.auth_headers(KEY, "bearer")
    async with client_for(VENDOR, app, headers=headers) as http:
        yield Sim(state, LlamaStackAdapter(context(), http))


def ref(benchmark_id: str, job_id: str) -> JobRef:
    return JobRef("ls-sim", (benchmark_id, job_id))


# -- job status ----------------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("benchmark_id", "job_id", "status", "word"),
    [
        ("mmlu", "eval-scheduled", JobStatus.QUEUED, "scheduled"),
        ("mmlu", "eval-in-progress", JobStatus.RUNNING, "in_progress"),
        ("mmlu", "eval-completed", JobStatus.SUCCEEDED, "completed"),
        ("mmlu", "eval-failed", JobStatus.FAILED, "failed"),
        ("mmlu", "eval-cancelled", JobStatus.CANCELLED, "cancelled"),
        ("my-custom-benchmark", "eval-custom-completed", JobStatus.SUCCEEDED, "completed"),
        ("basic-qa", "0", JobStatus.SUCCEEDED, "completed"),
    ],
)
async def test_every_seeded_status(
    sim: Sim, benchmark_id: str, job_id: str, status: JobStatus, word: str
) -> None:
    job = await sim.adapter.get_job(ref(benchmark_id, job_id))
    assert job.id == f"ls-sim~{benchmark_id}~{job_id}"
    assert (job.status, job.vendor_status, job.vendor_job_id) == (status, word, job_id)
    assert job.links[0].href == f"{BASE}/v1alpha/eval/benchmarks/{benchmark_id}/jobs/{job_id}"
    assert (job.error is not None) is (status is JobStatus.FAILED)


@pytest.mark.vcr
async def test_moving_lifecycle_queued_running_succeeded(sim: Sim) -> None:
    job_ref = ref("mmlu", "eval-lifecycle")
    seen = [(await sim.adapter.get_job(job_ref)).status]
    for seconds in (2.0, 5.0):
        sim.state.clock.advance(seconds)
        seen.append((await sim.adapter.get_job(job_ref)).status)
    assert seen == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    result = await sim.adapter.get_result(job_ref)
    assert result.status is JobStatus.SUCCEEDED and result.metrics


@pytest.mark.vcr
async def test_undocumented_status_is_unknown(sim: Sim) -> None:
    sim.state.arm(Fault(kind="undocumented_status"))
    job = await sim.adapter.get_job(ref("mmlu", "eval-completed"))
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, UNDOCUMENTED_STATUS)
    assert job.error is None


# -- results -------------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_nvidia_result_metrics_from_the_nemo_evaluation_result(sim: Sim) -> None:
    result = await sim.adapter.get_result(ref("mmlu", "eval-completed"))
    assert result.job_id == "ls-sim~mmlu~eval-completed"
    assert result.rows == []
    assert [(m.group, m.name, m.value) for m in result.metrics] == [
        ("mmlu/mmlu_abstract_algebra", "acc", 0.41),
        ("mmlu/mmlu_anatomy", "acc", 0.6),
        ("mmlu/mmlu", "acc", 0.5186),
    ]
    assert result.metrics[0].stats == {"count": 100, "sum": 41.0, "mean": 0.41, "stderr": 0.0494}
    assert (
        result.artifacts[0].href
        == f"{BASE}/v1alpha/eval/benchmarks/mmlu/jobs/eval-completed/result"
    )


@pytest.mark.vcr
async def test_custom_benchmark_result_names_metric_and_score(sim: Sim) -> None:
    result = await sim.adapter.get_result(ref("my-custom-benchmark", "eval-custom-completed"))
    assert [(m.group, m.name, m.value) for m in result.metrics] == [
        ("my-custom-benchmark/qa", "bleu.sentence", 32.4),
        ("my-custom-benchmark/qa", "bleu.corpus", 30.8),
    ]


@pytest.mark.vcr
async def test_builtin_result_rows_and_aggregates(sim: Sim) -> None:
    result = await sim.adapter.get_result(ref("basic-qa", "0"))
    assert result.metrics == [
        Metric(
            name="accuracy",
            value=2 / 3,
            value_type="number",
            group="basic::equality",
            stats={"num_correct": 2.0, "num_total": 3},
        ),
        Metric(
            name="accuracy",
            value=1.0,
            value_type="number",
            group="basic::subset_of",
            stats={"num_correct": 3.0, "num_total": 3},
        ),
    ]
    assert [row.output for row in result.rows] == ["Paris", "4", "It is blue"]
    assert [(s.group, s.value) for s in result.rows[2].scores] == [
        ("basic::equality", 0.0),
        ("basic::subset_of", 1.0),
    ]


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("benchmark_id", "job_id", "status"),
    [
        ("mmlu", "eval-scheduled", JobStatus.QUEUED),
        ("mmlu", "eval-in-progress", JobStatus.RUNNING),
        ("mmlu", "eval-failed", JobStatus.FAILED),
        ("mmlu", "eval-cancelled", JobStatus.CANCELLED),
    ],
)
async def test_result_before_completion_is_not_ready(
    sim: Sim, benchmark_id: str, job_id: str, status: JobStatus
) -> None:
    with pytest.raises(JobNotReady) as caught:
        await sim.adapter.get_result(ref(benchmark_id, job_id))
    assert caught.value.job_status == status.value
    assert caught.value.vendor_error == {
        "error": {"message": f"Job {job_id} not completed. Status: {status_word(status)}"}
    }


def status_word(status: JobStatus) -> str:
    return {
        JobStatus.QUEUED: "scheduled",
        JobStatus.RUNNING: "in_progress",
        JobStatus.FAILED: "failed",
        JobStatus.CANCELLED: "cancelled",
    }[status]


# -- not found -----------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_unknown_job_is_not_found(sim: Sim) -> None:
    with pytest.raises(JobNotFound) as caught:
        await sim.adapter.get_job(ref("mmlu", "eval-nope"))
    assert caught.value.vendor_error == {"error": {"message": "Job eval-nope not found"}}
    assert caught.value.vendor_status_code == 400


@pytest.mark.vcr
async def test_unknown_benchmark_is_job_not_found_for_every_job_operation(sim: Sim) -> None:
    job_ref = ref("nope", "eval-completed")
    for operation in (sim.adapter.get_job, sim.adapter.get_result, sim.adapter.cancel_job):
        with pytest.raises(JobNotFound) as caught:
            await operation(job_ref)
        message = caught.value.vendor_error["error"]["message"]
        assert message.startswith("Benchmark `nope` not served by any of the providers")


@pytest.mark.vcr
async def test_server_without_the_eval_api_is_unsupported() -> None:
    # FastAPI's route miss: e.g. a 0.8 server, which no longer has /v1alpha/eval.
    app = create_app(VENDOR, state=new_state())
    headers = LlamaStackAdapter.auth_headers(KEY, "bearer")
    async with httpx.AsyncClient(
        transport=SimTransport(app), base_url=f"{BASE}/ogx", headers=headers
    ) as http:
        adapter = LlamaStackAdapter(context(f"{BASE}/ogx"), http)
        with pytest.raises(UnsupportedOperation) as caught:
            await adapter.get_job(ref("mmlu", "eval-completed"))
    assert caught.value.vendor_error == {"detail": "Not Found"}


# -- cancel --------------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_cancel_running_nvidia_job_reports_failed_then_cancelled(sim: Sim) -> None:
    job_ref = ref("mmlu", "eval-in-progress")
    job = await sim.adapter.cancel_job(job_ref)
    # remote::nvidia shows NeMo's `cancelling` as `failed`: kept verbatim, but explained.
    assert (job.status, job.vendor_status) == (JobStatus.FAILED, "failed")
    assert job.message is not None and "being cancelled" in job.message
    sim.state.clock.advance(1.0)
    job = await sim.adapter.get_job(job_ref)
    assert (job.status, job.vendor_status) == (JobStatus.CANCELLED, "cancelled")


@pytest.mark.vcr
async def test_cancel_finished_job_returns_it_as_it_stands(sim: Sim) -> None:
    job = await sim.adapter.cancel_job(ref("mmlu", "eval-completed"))
    assert (job.status, job.message) == (JobStatus.SUCCEEDED, None)


@pytest.mark.vcr
async def test_cancel_on_the_builtin_provider_is_unsupported(sim: Sim) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        await sim.adapter.cancel_job(ref("basic-qa", "0"))
    assert caught.value.vendor_status_code == 501
    assert caught.value.vendor_error == {"error": {"message": "Job cancel is not implemented yet"}}


async def test_list_jobs_is_unsupported(sim: Sim) -> None:
    with pytest.raises(UnsupportedOperation):
        await sim.adapter.list_jobs(ListQuery(status=JobStatus.RUNNING))
    assert sum(sim.state.requests.values()) == 0


# -- auth and faults -----------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authentication required"),
        ({"Authorization": "Bearer sim-key-wrong"}, "Invalid token"),
        ({"Authorization": "Token sim-key-llama-stack"}, "Invalid Authorization header format"),
    ],
    ids=["missing", "wrong", "not-bearer"],
)
async def test_refused_credential_is_upstream_auth_failed(
    headers: dict[str, str], message: str
) -> None:
    app = create_app(VENDOR, state=new_state())
    async with client_for(VENDOR, app, headers=headers) as http:
        with pytest.raises(UpstreamAuthFailed) as caught:
            await LlamaStackAdapter(context(), http).get_job(ref("mmlu", "eval-completed"))
    assert caught.value.vendor_error == {"error": {"message": message}}
    assert caught.value.vendor_status_code == 401


@pytest.mark.vcr
async def test_quota_exceeded_is_rate_limited_without_retry_after(sim: Sim) -> None:
    sim.state.arm(Fault(kind="rate_limit", retry_after=30.0))
    with pytest.raises(UpstreamRateLimited) as caught:
        await sim.adapter.get_job(ref("mmlu", "eval-completed"))
    assert caught.value.vendor_error == {"error": {"message": "Quota exceeded"}}
    assert caught.value.retry_after is None
    assert caught.value.retryable


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("status", "problem"),
    [(500, UpstreamError), (502, UpstreamUnavailable), (503, UpstreamUnavailable)],
)
async def test_server_errors(sim: Sim, status: int, problem: type[Exception]) -> None:
    sim.state.arm(Fault(kind="server_error", status=status))
    with pytest.raises(problem) as caught:
        await sim.adapter.get_result(ref("mmlu", "eval-completed"))
    assert getattr(caught.value, "vendor_error", None) == {
        "error": {"message": "Simulated server error"}
    }


@pytest.mark.vcr
@pytest.mark.parametrize("kind", ["malformed_body", "truncated_body"])
async def test_unreadable_bodies_are_invalid_responses(sim: Sim, kind: str) -> None:
    sim.state.arm(Fault(kind=kind))
    with pytest.raises(UpstreamInvalidResponse):
        await sim.adapter.get_job(ref("mmlu", "eval-completed"))
