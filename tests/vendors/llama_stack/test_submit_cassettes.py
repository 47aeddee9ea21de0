"""Llama Stack run-eval through the adapter against its simulator, via recorded cassettes.

Record: `pytest tests/vendors/llama_stack/test_submit_cassettes.py --record-mode=once`.
Cassettes match on the request body too, so a replay also checks the run-eval body sent.
Tests without `vcr` look at the simulator's state and run in-process every time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.adapters.base import BackendContext
from gateway.errors import (
    InvalidRequest,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from gateway.ids import JobRef
from gateway.schemas import JobStatus, SubmitRequest
from gateway.simulators import Fault, SimClock, SimState, client_for, create_app, sim_base_url
from gateway.vendors.llama_stack.adapter import LlamaStackAdapter
from tests.support.cassettes import cassette_dir

VENDOR = "llama-stack"
KEY = "sim-key-llama-stack"
BASE = sim_base_url(VENDOR)
MODEL = "meta-llama/Llama3.1-8B-Instruct"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@dataclass
class Sim:
    state: SimState
    adapter: LlamaStackAdapter


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)
    app = create_app(VENDOR, state=state)
    headers = LlamaStackAdapter.auth_headers(KEY, "bearer")
    context = BackendContext(backend="ls-sim", vendor=VENDOR, base_url=BASE, secrets=(KEY,))
    async with client_for(VENDOR, app, headers=headers) as http:
        yield Sim(state, LlamaStackAdapter(context, http))


def submit(evaluation: str, **fields: Any) -> SubmitRequest:
    fields.setdefault("max_tokens", 64)  # required (the builtin provider fails without it)
    return SubmitRequest.model_validate(
        {"evaluation": evaluation, "targets": [{"model": MODEL}], **fields}
    )


# -- created jobs --------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_submit_to_an_nvidia_benchmark_then_it_runs_to_its_result(sim: Sim) -> None:
    request = submit("mmlu", temperature=0.7, top_p=0.9, max_tokens=256, num_samples=50)
    [job] = await sim.adapter.submit(request)
    # remote::nvidia answers `in_progress` at once, whatever NeMo says (API.md §6).
    assert (job.status, job.vendor_status) == (JobStatus.RUNNING, "in_progress")
    assert job.id == f"ls-sim~mmlu~{job.vendor_job_id}"
    assert job.vendor_job_id.startswith("eval-")
    assert job.links[0].href == f"{BASE}/v1alpha/eval/benchmarks/mmlu/jobs/{job.vendor_job_id}"
    ref = JobRef("ls-sim", ("mmlu", job.vendor_job_id))
    seen = [(await sim.adapter.get_job(ref)).status]
    for seconds in (2.0, 5.0):
        sim.state.clock.advance(seconds)
        seen.append((await sim.adapter.get_job(ref)).status)
    assert seen == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
    result = await sim.adapter.get_result(ref)
    assert result.job_id == job.id and result.metrics


@pytest.mark.vcr
async def test_submit_to_the_builtin_provider_completes_in_the_request(sim: Sim) -> None:
    [job] = await sim.adapter.submit(submit("basic-qa", max_tokens=32))
    assert (job.id, job.vendor_job_id) == ("ls-sim~basic-qa~1", "1")
    assert (job.status, job.vendor_status) == (JobStatus.SUCCEEDED, "completed")
    assert [link.rel for link in job.links] == ["self", "result"]
    result = await sim.adapter.get_result(JobRef("ls-sim", ("basic-qa", "1")))
    assert [row.output for row in result.rows] == ["Paris", "4", "It is blue"]


@pytest.mark.vcr
async def test_submit_with_every_documented_vendor_option(sim: Sim) -> None:
    request = submit(
        "my-custom-benchmark",
        max_tokens=200,
        num_samples=10,
        vendor_options={
            "scoring_params": {"bleu": {"type": "basic", "aggregation_functions": ["average"]}},
            "system_message": "Answer briefly.",
            "repetition_penalty": 1.2,
            "stop": ["\n"],
            "strategy": {"type": "top_k", "top_k": 40},
        },
    )
    [job] = await sim.adapter.submit(request)
    assert job.id == f"ls-sim~my-custom-benchmark~{job.vendor_job_id}"
    assert job.status is JobStatus.RUNNING


# -- refusals and vendor errors ------------------------------------------------------------------


@pytest.mark.vcr
async def test_submit_to_an_unknown_benchmark_names_the_evaluation(sim: Sim) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await sim.adapter.submit(submit("nope"))
    assert caught.value.vendor_status_code == 400
    assert caught.value.errors is not None
    assert [e.loc for e in caught.value.errors] == [["body", "evaluation"]]
    assert caught.value.errors[0].msg.startswith("Benchmark `nope` not served by")


@pytest.mark.vcr
async def test_submit_out_of_range_values_are_the_vendors_field_errors(sim: Sim) -> None:
    request = submit("mmlu", vendor_options={"repetition_penalty": 5.0, "stop": list("abcde")})
    with pytest.raises(InvalidRequest) as caught:
        await sim.adapter.submit(request)
    assert caught.value.errors is not None
    sampling = ["body", "benchmark_config", "eval_candidate", "sampling_params"]
    assert sorted(e.loc[-1] for e in caught.value.errors) == ["repetition_penalty", "stop"]
    assert all(e.loc[:-1] == sampling for e in caught.value.errors)


@pytest.mark.vcr
async def test_submit_over_quota_is_rate_limited(sim: Sim) -> None:
    sim.state.arm(Fault(kind="rate_limit"))
    with pytest.raises(UpstreamRateLimited) as caught:
        await sim.adapter.submit(submit("mmlu"))
    assert caught.value.vendor_error == {"error": {"message": "Quota exceeded"}}


@pytest.mark.vcr
async def test_submit_server_error_is_an_upstream_error(sim: Sim) -> None:
    sim.state.arm(Fault(kind="server_error", status=500))
    with pytest.raises(UpstreamError):
        await sim.adapter.submit(submit("mmlu"))


# -- against the simulator's state (no cassette) -------------------------------------------------


def posts(state: SimState) -> int:
    return sum(n for key, n in state.requests.items() if key.startswith("POST "))


async def test_submit_sends_the_contract_body_the_simulator_keeps(sim: Sim) -> None:
    request = submit(
        "mmlu", temperature=0.2, num_samples=5, vendor_options={"system_message": "Be brief."}
    )
    [job] = await sim.adapter.submit(request)
    assert sim.state.jobs[job.vendor_job_id].data["benchmark_config"] == {
        "eval_candidate": {
            "type": "model",
            "model": MODEL,
            "sampling_params": {
                "strategy": {"type": "top_p", "temperature": 0.2},
                "max_tokens": 64,
            },
            "system_message": {"role": "system", "content": "Be brief."},
        },
        "scoring_params": {},
        "num_examples": 5,
    }


async def test_submit_is_never_retried(sim: Sim) -> None:
    jobs_before = set(sim.state.jobs)
    sim.state.arm(Fault(kind="server_error", status=503))  # retryable, yet not retried
    with pytest.raises(UpstreamUnavailable):
        await sim.adapter.submit(submit("mmlu"))
    assert posts(sim.state) == 1
    assert set(sim.state.jobs) == jobs_before


async def test_a_refused_submission_reaches_no_simulator(sim: Sim) -> None:
    with pytest.raises(InvalidRequest):
        await sim.adapter.submit(submit("mmlu", name="nightly"))
    assert sum(sim.state.requests.values()) == 0
