"""The official llama-stack-client (0.7.5, Python >= 3.12) in strict mode against the simulator.

Skipped where the SDK is not installed. Method names follow the client's
`resources/alpha/{eval,benchmarks}.py`: `client.alpha.eval.run_eval`,
`client.alpha.eval.jobs.{status,retrieve,cancel}`, `client.alpha.benchmarks.*`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.adapters.base import BackendContext
from gateway.schemas import SubmitRequest
from gateway.simulators import Fault, SimClock, SimState, SimTransport, create_app, sim_base_url
from gateway.vendors.llama_stack.adapter import to_submission

pytestmark = pytest.mark.sdk
llama_stack_client = pytest.importorskip("llama_stack_client")

KEY = "sim-key-llama-stack"
FIXTURES = Path(__file__).parents[1] / "vendors" / "llama_stack" / "fixtures"
RUN_BODY: dict[str, Any] = json.loads((FIXTURES / "run_eval.request.sdk-test.json").read_text())
SEEDED = [
    ("mmlu", "eval-scheduled", "scheduled"),
    ("mmlu", "eval-in-progress", "in_progress"),
    ("mmlu", "eval-completed", "completed"),
    ("mmlu", "eval-failed", "failed"),
    ("mmlu", "eval-cancelled", "cancelled"),
    ("mmlu", "eval-lifecycle", "scheduled"),
    ("my-custom-benchmark", "eval-custom-completed", "completed"),
    ("basic-qa", "0", "completed"),
]


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)


def sdk_client(state: SimState, api_key: str = KEY) -> Any:
    app = create_app("llama-stack", state=state)
    return llama_stack_client.AsyncLlamaStackClient(
        api_key=api_key,
        base_url=sim_base_url("llama-stack"),
        http_client=httpx.AsyncClient(transport=SimTransport(app)),
        max_retries=0,  # the SDK would otherwise retry 429s and 5xx
        _strict_response_validation=True,
    )


@pytest.fixture
async def client(state: SimState) -> AsyncIterator[Any]:
    sdk = sdk_client(state)
    async with sdk:
        yield sdk


@pytest.mark.parametrize(("benchmark_id", "job_id", "word"), SEEDED)
async def test_every_seeded_job_parses(
    client: Any, benchmark_id: str, job_id: str, word: str
) -> None:
    job = await client.alpha.eval.jobs.status(job_id, benchmark_id=benchmark_id)
    assert (job.job_id, job.status) == (job_id, word)


@pytest.mark.parametrize(
    ("benchmark_id", "job_id"),
    [
        ("mmlu", "eval-completed"),
        ("my-custom-benchmark", "eval-custom-completed"),
        ("basic-qa", "0"),
    ],
)
async def test_results_parse(client: Any, benchmark_id: str, job_id: str) -> None:
    result = await client.alpha.eval.jobs.retrieve(job_id, benchmark_id=benchmark_id)
    assert result.scores
    for scoring in result.scores.values():
        assert isinstance(scoring.aggregated_results, dict)
        assert isinstance(scoring.score_rows, list)


async def test_run_eval_then_status_and_cancel(client: Any, state: SimState) -> None:
    job = await client.alpha.eval.run_eval("mmlu", benchmark_config=RUN_BODY["benchmark_config"])
    assert job.status == "in_progress"
    assert await client.alpha.eval.jobs.cancel(job.job_id, benchmark_id="mmlu") is None
    state.clock.advance(1.0)
    after = await client.alpha.eval.jobs.status(job.job_id, benchmark_id="mmlu")
    assert after.status == "cancelled"


async def test_builtin_run_eval_completes(client: Any) -> None:
    job = await client.alpha.eval.run_eval(
        "basic-qa", benchmark_config=RUN_BODY["benchmark_config"]
    )
    assert (job.job_id, job.status) == ("1", "completed")


# -- the adapter's run-eval body, as the SDK types it and sends it -------------------------------

CTX = BackendContext(backend="ls-sim", vendor="llama-stack")
FULL = SubmitRequest.model_validate(
    {
        "evaluation": "mmlu",
        "targets": [{"model": "meta-llama/Llama3.1-8B-Instruct"}],
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 256,
        "num_samples": 10,
        "vendor_options": {
            "scoring_params": {"mmlu": {"type": "basic", "aggregation_functions": ["average"]}},
            "system_message": "Answer with one letter.",
            "repetition_penalty": 1.1,
            "stop": ["\n"],
        },
    }
)
TOP_K = FULL.model_copy(
    update={
        "temperature": None,
        "top_p": None,
        "vendor_options": {"strategy": {"type": "top_k", "top_k": 5}},
    }
)


def typed_keys(typed_dict: Any) -> set[str]:
    return set(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


@pytest.mark.parametrize("request_", [FULL, TOP_K], ids=["top_p", "top_k"])
def test_every_key_of_the_body_is_a_field_of_the_sdk_types(request_: SubmitRequest) -> None:
    from llama_stack_client.types.alpha import benchmark_config_param as bc
    from llama_stack_client.types.shared_params import sampling_params as sp
    from llama_stack_client.types.shared_params import system_message as sm

    config = to_submission(CTX, request_)["benchmark_config"]
    candidate = config["eval_candidate"]
    sampling = candidate["sampling_params"]
    strategies = {
        "greedy": sp.StrategyGreedySamplingStrategy,
        "top_p": sp.StrategyTopPSamplingStrategy,
        "top_k": sp.StrategyTopKSamplingStrategy,
    }
    assert set(config) <= typed_keys(bc.BenchmarkConfigParam)
    assert set(candidate) <= typed_keys(bc.EvalCandidate)
    assert set(sampling) <= typed_keys(sp.SamplingParams)
    strategy = strategies[sampling["strategy"]["type"]]
    assert typed_keys(strategy) >= set(sampling["strategy"]) >= strategy.__required_keys__
    if "system_message" in candidate:
        assert set(candidate["system_message"]) <= typed_keys(sm.SystemMessage)


@pytest.mark.parametrize("benchmark_id", ["mmlu", "basic-qa"])
async def test_sdk_run_eval_sends_the_adapter_body_and_parses_the_answer(
    state: SimState, benchmark_id: str
) -> None:
    sent: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request)

    app = create_app("llama-stack", state=state)
    http = httpx.AsyncClient(transport=SimTransport(app), event_hooks={"request": [keep]})
    sdk = llama_stack_client.AsyncLlamaStackClient(
        api_key=KEY,
        base_url=sim_base_url("llama-stack"),
        http_client=http,
        max_retries=0,
        _strict_response_validation=True,
    )
    body = to_submission(CTX, FULL)
    async with sdk:
        job = await sdk.alpha.eval.run_eval(benchmark_id, benchmark_config=body["benchmark_config"])
    assert json.loads(sent[0].content) == body
    assert job.status == ("completed" if benchmark_id == "basic-qa" else "in_progress")
    assert state.jobs[job.job_id].data["benchmark_config"] == body["benchmark_config"]


async def test_evaluate_rows_parses(client: Any) -> None:
    response = await client.alpha.eval.evaluate_rows(
        "basic-qa",
        benchmark_config=RUN_BODY["benchmark_config"],
        input_rows=[{"input_query": "2+2?", "expected_answer": "4"}],
        scoring_functions=["basic::equality"],
    )
    assert response.generations == [{"generated_answer": "4"}]


async def test_benchmarks_list_retrieve_register_unregister(client: Any) -> None:
    listed = await client.alpha.benchmarks.list()
    assert [b.identifier for b in listed] == ["mmlu", "my-custom-benchmark", "basic-qa"]
    assert (await client.alpha.benchmarks.retrieve("mmlu")).provider_id == "nvidia"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated in 0.7.x
        assert (
            await client.alpha.benchmarks.register(
                benchmark_id="mmlu-2",
                dataset_id="",
                scoring_functions=[],
                metadata={"type": "mmlu"},
            )
            is None
        )
        assert (await client.alpha.benchmarks.retrieve("mmlu-2")).metadata == {"type": "mmlu"}
        assert await client.alpha.benchmarks.unregister("mmlu-2") is None


# -- errors raise the SDK's own typed exceptions -------------------------------------------------


async def test_unknown_job_and_benchmark_are_bad_requests(client: Any) -> None:
    with pytest.raises(llama_stack_client.BadRequestError) as job:
        await client.alpha.eval.jobs.status("eval-nope", benchmark_id="mmlu")
    assert job.value.status_code == 400
    with pytest.raises(llama_stack_client.BadRequestError):
        await client.alpha.eval.jobs.status("eval-completed", benchmark_id="nope")
    with pytest.raises(llama_stack_client.BadRequestError):
        await client.alpha.benchmarks.retrieve("nope")


async def test_result_before_completion_is_a_bad_request(client: Any) -> None:
    with pytest.raises(llama_stack_client.BadRequestError):
        await client.alpha.eval.jobs.retrieve("eval-in-progress", benchmark_id="mmlu")


async def test_invalid_run_eval_body_is_a_bad_request(client: Any) -> None:
    with pytest.raises(llama_stack_client.BadRequestError):
        await client.alpha.eval.run_eval("mmlu", benchmark_config={"eval_candidate": {}})


async def test_builtin_cancel_is_a_server_error(client: Any) -> None:
    with pytest.raises(llama_stack_client.InternalServerError) as caught:
        await client.alpha.eval.jobs.cancel("0", benchmark_id="basic-qa")
    assert caught.value.status_code == 501


async def test_wrong_key_is_an_authentication_error(state: SimState) -> None:
    async with sdk_client(state, api_key="sim-key-wrong") as sdk:
        with pytest.raises(llama_stack_client.AuthenticationError):
            await sdk.alpha.eval.jobs.status("eval-completed", benchmark_id="mmlu")


async def test_quota_is_a_rate_limit_error(client: Any, state: SimState) -> None:
    state.arm(Fault(kind="rate_limit"))
    with pytest.raises(llama_stack_client.RateLimitError):
        await client.alpha.eval.jobs.status("eval-completed", benchmark_id="mmlu")


async def test_server_error_is_an_internal_server_error(client: Any, state: SimState) -> None:
    state.arm(Fault(kind="server_error", status=500))
    with pytest.raises(llama_stack_client.InternalServerError):
        await client.alpha.eval.jobs.status("eval-completed", benchmark_id="mmlu")


async def test_route_miss_is_not_found(client: Any) -> None:
    with pytest.raises(llama_stack_client.NotFoundError):
        await client.get("/v1/eval/benchmarks", cast_to=object)


async def test_undocumented_status_fails_strict_validation(client: Any, state: SimState) -> None:
    state.arm(Fault(kind="undocumented_status"))
    with pytest.raises(llama_stack_client.APIResponseValidationError):
        await client.alpha.eval.jobs.status("eval-completed", benchmark_id="mmlu")
