"""Llama Stack run-eval: the canonical submission's mapping, every refused field, and the
adapter's submit against scripted answers (no simulator)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.adapters.base import BackendContext
from gateway.errors import InvalidRequest, UnsupportedOperation, UpstreamInvalidResponse
from gateway.ids import JobRef, parse_job_id
from gateway.schemas import JobStatus, SubmitRequest
from gateway.vendors.llama_stack.adapter import LlamaStackAdapter, to_submission
from gateway.vendors.llama_stack.sim.data import RunEvalBodyRequest
from gateway.vendors.llama_stack.wire import run_eval_path

FIXTURES = Path(__file__).parent / "fixtures"
CTX = BackendContext(backend="ls-dev", vendor="llama-stack", base_url="http://llama.example:8321")
MODEL = "meta-llama/Llama3.1-8B-Instruct"


def submit(**fields: Any) -> SubmitRequest:
    fields.setdefault("evaluation", "mmlu")
    fields.setdefault("targets", [{"model": MODEL}])
    fields.setdefault("max_tokens", 64)  # required (the builtin provider fails without it)
    return SubmitRequest.model_validate(fields)


def config(**fields: Any) -> dict[str, Any]:
    body = to_submission(CTX, submit(**fields))
    RunEvalBodyRequest.model_validate(body)  # what the server's own models accept
    return dict(body["benchmark_config"])


def sampling(**fields: Any) -> dict[str, Any]:
    return dict(config(**fields)["eval_candidate"]["sampling_params"])


# -- the mapping ----------------------------------------------------------------------------------


def test_a_bare_request_is_a_greedy_model_candidate() -> None:
    assert to_submission(CTX, submit()) == {
        "benchmark_config": {
            "eval_candidate": {
                "type": "model",
                "model": MODEL,
                "sampling_params": {"strategy": {"type": "greedy"}, "max_tokens": 64},
            },
            "scoring_params": {},  # required by 0.3 servers, the default from 0.4 on
        }
    }


def test_every_canonical_field_lands_where_the_contract_puts_it() -> None:
    body = to_submission(CTX, submit(temperature=0.7, top_p=0.9, max_tokens=256, num_samples=25))
    assert body == {
        "benchmark_config": {
            "eval_candidate": {
                "type": "model",
                "model": MODEL,
                "sampling_params": {
                    "strategy": {"type": "top_p", "temperature": 0.7, "top_p": 0.9},
                    "max_tokens": 256,
                },
            },
            "scoring_params": {},
            "num_examples": 25,
        }
    }
    assert "benchmark_id" not in body  # the benchmark is the path parameter
    assert run_eval_path("mmlu") == "/v1alpha/eval/benchmarks/mmlu/jobs"
    assert run_eval_path("a/b c") == "/v1alpha/eval/benchmarks/a%2Fb%20c/jobs"


def test_temperature_alone_leaves_top_p_to_the_vendor_default() -> None:
    strategy = sampling(temperature=0.3)["strategy"]
    assert strategy == {"type": "top_p", "temperature": 0.3}
    parsed = RunEvalBodyRequest.model_validate(to_submission(CTX, submit(temperature=0.3)))
    assert parsed.benchmark_config.eval_candidate.sampling_params.strategy.model_dump() == {
        "type": "top_p",
        "temperature": 0.3,
        "top_p": 0.95,
    }


def test_temperature_zero_is_still_a_top_p_strategy() -> None:
    assert sampling(temperature=0.0)["strategy"] == {"type": "top_p", "temperature": 0.0}


def test_the_sdk_test_body_is_reproduced() -> None:
    expected = json.loads((FIXTURES / "run_eval.request.sdk-test.json").read_text())
    scoring = expected["benchmark_config"]["scoring_params"]
    request = submit(targets=[{"model": "model"}], vendor_options={"scoring_params": scoring})
    sent = to_submission(CTX, request)
    # The SDK test body sets no max_tokens; the builtin provider needs one (always sent).
    assert sent["benchmark_config"]["eval_candidate"]["sampling_params"].pop("max_tokens") == 64
    assert sent == expected


def test_documented_vendor_options_are_merged() -> None:
    scoring = {"basic::equality": {"type": "basic", "aggregation_functions": ["accuracy"]}}
    got = config(
        max_tokens=64,
        vendor_options={
            "scoring_params": scoring,
            "system_message": "Answer with one letter.",
            "repetition_penalty": 1.1,
            "stop": ["\n\n", "###"],
            "strategy": {"type": "top_k", "top_k": 40},
        },
    )
    assert got == {
        "eval_candidate": {
            "type": "model",
            "model": MODEL,
            "sampling_params": {
                "strategy": {"type": "top_k", "top_k": 40},
                "max_tokens": 64,
                "repetition_penalty": 1.1,
                "stop": ["\n\n", "###"],
            },
            "system_message": {"role": "system", "content": "Answer with one letter."},
        },
        "scoring_params": scoring,
    }


def test_a_system_message_object_is_sent_as_given() -> None:
    message = {"role": "system", "content": [{"type": "text", "text": "Be brief."}]}
    got = config(vendor_options={"system_message": message})
    assert got["eval_candidate"]["system_message"] == message


def test_the_request_is_not_changed() -> None:
    options = {"stop": ["x"], "scoring_params": {}}
    request = submit(vendor_options=options)
    to_submission(CTX, request)
    assert request.vendor_options == {"stop": ["x"], "scoring_params": {}}


@settings(max_examples=60, deadline=None)
@given(
    temperature=st.none() | st.floats(0.0, 2.0),
    top_p=st.none() | st.floats(0.0, 1.0),
    max_tokens=st.integers(1, 100_000),
    num_samples=st.none() | st.integers(1, 100_000),
    model=st.text(min_size=1, max_size=40),
)
def test_any_expressible_request_is_a_valid_run_eval_body(
    temperature: float | None,
    top_p: float | None,
    max_tokens: int,
    num_samples: int | None,
    model: str,
) -> None:
    request = submit(
        targets=[{"model": model}],
        temperature=temperature,
        top_p=top_p if temperature is not None else None,
        max_tokens=max_tokens,
        num_samples=num_samples,
    )
    parsed = RunEvalBodyRequest.model_validate(to_submission(CTX, request)).benchmark_config
    params = parsed.eval_candidate.sampling_params
    assert parsed.eval_candidate.model == model
    assert (params.max_tokens, parsed.num_examples) == (max_tokens, num_samples)
    if temperature is None:
        assert params.strategy.type == "greedy"
    else:
        assert params.strategy.model_dump() == {
            "type": "top_p",
            "temperature": temperature,
            "top_p": 0.95 if top_p is None else top_p,
        }


# -- refusals: invalid-request naming the field ------------------------------------------------


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("name", {"name": "nightly"}, "no name"),
    ("top_p", {"top_p": 0.9}, "requires a temperature"),
    ("targets.0.agent", {"targets": [{"type": "agent", "agent": "support-bot"}]}, "models only"),
    (
        "targets.0.endpoint",
        {"targets": [{"model": MODEL, "endpoint": "https://llm.example/v1"}]},
        "not a URL",
    ),
    ("targets.1", {"targets": [{"model": MODEL}, {"model": "other"}]}, "one model candidate"),
    ("vendor_options.seed", {"vendor_options": {"seed": 1}}, "not a field of run-eval"),
    ("vendor_options.model", {"vendor_options": {"model": "x"}}, "target"),
    ("vendor_options.max_tokens", {"vendor_options": {"max_tokens": 5}}, "'max_tokens'"),
    ("vendor_options.num_examples", {"vendor_options": {"num_examples": 5}}, "'num_samples'"),
    ("vendor_options.temperature", {"vendor_options": {"temperature": 1}}, "'temperature'"),
    ("vendor_options.benchmark_id", {"vendor_options": {"benchmark_id": "x"}}, "'evaluation'"),
    (
        "vendor_options.benchmark_config",
        {"vendor_options": {"benchmark_config": {}}},
        "build it",
    ),
    ("vendor_options.sampling_params", {"vendor_options": {"sampling_params": {}}}, "top_p"),
    ("vendor_options.eval_candidate", {"vendor_options": {"eval_candidate": {}}}, "target"),
    ("vendor_options.scoring_params", {"vendor_options": {"scoring_params": ["x"]}}, "object"),
    (
        "vendor_options.scoring_params",
        {"vendor_options": {"scoring_params": {"fn": "basic"}}},
        "object",
    ),
    ("vendor_options.system_message", {"vendor_options": {"system_message": 3}}, "string"),
    ("vendor_options.system_message", {"vendor_options": {"system_message": ""}}, "string"),
    (
        "vendor_options.system_message",
        {"vendor_options": {"system_message": {"role": "system"}}},
        "content",
    ),
    ("vendor_options.repetition_penalty", {"vendor_options": {"repetition_penalty": "1"}}, "num"),
    ("vendor_options.repetition_penalty", {"vendor_options": {"repetition_penalty": True}}, "num"),
    ("vendor_options.stop", {"vendor_options": {"stop": "\n"}}, "list of strings"),
    ("vendor_options.strategy", {"vendor_options": {"strategy": "greedy"}}, "'type'"),
    (
        "vendor_options.strategy",
        {"temperature": 0.5, "vendor_options": {"strategy": {"type": "greedy"}}},
        "one or the other",
    ),
    (
        "vendor_options.strategy",
        {"temperature": 0.0, "vendor_options": {"strategy": {"type": "greedy"}}},
        "one or the other",
    ),
]


@pytest.mark.parametrize(
    ("field", "fields", "why"), REFUSED, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(REFUSED)]
)
def test_a_field_llama_stack_cannot_express_is_refused_by_name(
    field: str, fields: dict[str, Any], why: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_submission(CTX, submit(**fields))
    problem = caught.value
    assert f"'{field}'" in problem.detail and why in problem.detail
    assert problem.errors is not None
    assert [(e.loc, e.type) for e in problem.errors] == [
        (["body", *field.split(".")], "unsupported")
    ]
    assert (problem.backend, problem.vendor) == ("ls-dev", "llama-stack")


def test_every_refused_field_is_named_at_once() -> None:
    request = submit(
        name="n",
        top_p=0.5,
        targets=[{"type": "agent", "agent": "a", "endpoint": "https://a.example"}],
        vendor_options={"seed": 3},
    )
    with pytest.raises(InvalidRequest) as caught:
        to_submission(CTX, request)
    assert caught.value.errors is not None
    assert [".".join(map(str, e.loc[1:])) for e in caught.value.errors] == [
        "targets.0.agent",
        "targets.0.endpoint",
        "name",
        "top_p",
        "vendor_options.seed",
    ]


def test_the_refusal_is_the_problem_cannot_express_builds() -> None:
    adapter = LlamaStackAdapter(CTX, httpx.AsyncClient())
    with pytest.raises(InvalidRequest) as caught:
        to_submission(CTX, submit(name="n"))
    expected = adapter.cannot_express("name", "a run-eval job has no name")
    assert caught.value.problem() == expected.problem()


# -- the adapter's submit against scripted answers ---------------------------------------------


def scripted(
    answers: list[httpx.Response], seen: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    return handler


def adapter_with(answers: list[httpx.Response], seen: list[httpx.Request]) -> LlamaStackAdapter:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(scripted(answers, seen)), base_url=CTX.base_url
    )
    return LlamaStackAdapter(CTX, http)


async def test_submit_posts_run_eval_and_returns_the_created_job() -> None:
    seen: list[httpx.Request] = []
    adapter = adapter_with(
        [httpx.Response(200, json={"job_id": "eval-1234", "status": "in_progress"})], seen
    )
    jobs = await adapter.submit(submit(evaluation="my bench", temperature=0.7, max_tokens=100))
    [request] = seen
    assert (request.method, request.url.raw_path) == (
        "POST",
        b"/v1alpha/eval/benchmarks/my%20bench/jobs",
    )
    assert json.loads(request.content) == to_submission(
        CTX, submit(temperature=0.7, max_tokens=100)
    )
    [job] = jobs
    assert parse_job_id(job.id) == JobRef("ls-dev", ("my bench", "eval-1234"))
    assert (job.vendor_job_id, job.status, job.vendor_status) == (
        "eval-1234",
        JobStatus.RUNNING,
        "in_progress",
    )
    assert job.links[0].href == f"{CTX.base_url}/v1alpha/eval/benchmarks/my%20bench/jobs/eval-1234"


async def test_a_create_answer_without_status_is_read_back() -> None:
    seen: list[httpx.Request] = []
    adapter = adapter_with(
        [
            httpx.Response(200, json={"job_id": "7"}),
            httpx.Response(200, json={"job_id": "7", "status": "completed"}),
        ],
        seen,
    )
    [job] = await adapter.submit(submit(evaluation="basic-qa"))
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/v1alpha/eval/benchmarks/basic-qa/jobs"),
        ("GET", "/v1alpha/eval/benchmarks/basic-qa/jobs/7"),
    ]
    assert (job.id, job.status) == ("ls-dev~basic-qa~7", JobStatus.SUCCEEDED)


async def test_a_create_answer_without_job_id_is_an_invalid_response() -> None:
    seen: list[httpx.Request] = []
    adapter = adapter_with([httpx.Response(200, json={"status": "in_progress"})], seen)
    with pytest.raises(UpstreamInvalidResponse):
        await adapter.submit(submit())
    assert len(seen) == 1


async def test_a_refused_submission_never_reaches_the_vendor() -> None:
    seen: list[httpx.Request] = []
    adapter = adapter_with([], seen)
    with pytest.raises(InvalidRequest):
        await adapter.submit(submit(name="nightly"))
    assert seen == []


async def test_an_unknown_benchmark_names_the_evaluation_field() -> None:
    message = (
        "Benchmark `nope` not served by provider: `nvidia`. Make sure there is an Eval provider"
        " serving this benchmark."
    )
    seen: list[httpx.Request] = []
    adapter = adapter_with([httpx.Response(400, json={"error": {"message": message}})], seen)
    with pytest.raises(InvalidRequest) as caught:
        await adapter.submit(submit(evaluation="nope"))
    assert caught.value.errors is not None
    assert [e.loc for e in caught.value.errors] == [["body", "evaluation"]]


async def test_a_vendor_validation_error_keeps_the_vendors_field_errors() -> None:
    errors = [
        {
            "loc": ["body", "benchmark_config", "eval_candidate", "sampling_params", "stop"],
            "msg": "List should have at most 4 items after validation, not 5",
            "type": "too_long",
        }
    ]
    body = {"error": {"message": repr({"errors": errors})}}
    seen: list[httpx.Request] = []
    adapter = adapter_with([httpx.Response(400, json=body)], seen)
    with pytest.raises(InvalidRequest) as caught:
        await adapter.submit(submit(vendor_options={"stop": ["a", "b", "c", "d", "e"]}))
    assert caught.value.errors is not None
    assert [e.loc for e in caught.value.errors] == [errors[0]["loc"]]
    assert len(seen) == 1  # never retried


async def test_a_submission_without_max_tokens_is_refused_naming_what_to_send() -> None:
    # The builtin provider answers 500 without max_tokens: refused before the vendor call.
    seen: list[httpx.Request] = []
    adapter = adapter_with([], seen)
    with pytest.raises(InvalidRequest) as caught:
        await adapter.submit(submit(max_tokens=None))
    assert seen == []
    assert caught.value.errors is not None
    [error] = caught.value.errors
    assert (error.loc, error.type) == (["body", "max_tokens"], "missing")
    assert '"max_tokens": 512' in error.msg


async def test_an_unknown_model_is_an_invalid_request_on_the_target() -> None:
    # What a real 0.7.3 server answers for a candidate model it does not serve (a 404
    # ResourceNotFoundError): the caller's mistake, not a vendor failure.
    message = (
        "Model 'no-such-model' not found. Use 'client.models.list()' to list available Models."
    )
    seen: list[httpx.Request] = []
    adapter = adapter_with([httpx.Response(404, json={"error": {"message": message}})], seen)
    with pytest.raises(InvalidRequest) as caught:
        await adapter.submit(submit(targets=[{"model": "no-such-model"}]))
    assert caught.value.vendor_status_code == 404
    assert caught.value.errors is not None
    [error] = caught.value.errors
    assert error.loc == ["body", "targets", "0", "model"]
    assert error.msg.startswith("Model 'no-such-model' not found")
    assert "send as 'targets[0].model'" in error.msg
    assert "send as 'targets[0].model'" in caught.value.detail


async def test_a_route_miss_on_run_eval_stays_unsupported() -> None:
    # FastAPI's own 404 (no Eval API on this server) is not the caller's mistake.
    seen: list[httpx.Request] = []
    adapter = adapter_with([httpx.Response(404, json={"detail": "Not Found"})], seen)
    with pytest.raises(UnsupportedOperation):
        await adapter.submit(submit())
