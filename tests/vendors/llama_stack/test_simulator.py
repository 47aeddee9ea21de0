"""The Llama Stack simulator in-process: routes, lifecycles, control API, faults and auth."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.simulators import (
    UNDOCUMENTED_STATUS,
    SimClock,
    SimState,
    SimTransport,
    create_app,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sim-key-llama-stack"
EVAL = "/v1alpha/eval/benchmarks"
RUN_BODY = json.loads((FIXTURES / "run_eval.request.sdk-test.json").read_text())


def job_url(benchmark_id: str, job_id: str) -> str:
    return f"{EVAL}/{benchmark_id}/jobs/{job_id}"


def client(state: SimState, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    app = create_app("llama-stack", state=state)
    return httpx.AsyncClient(
        transport=SimTransport(app), base_url="http://llama-stack.test", headers=headers
    )


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True))


@pytest.fixture
async def http(state: SimState) -> AsyncIterator[httpx.AsyncClient]:
    async with client(state) as c:
        yield c


def message(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message"}, body
    text: str = body["error"]["message"]
    return text


async def status_of(http: httpx.AsyncClient, benchmark_id: str, job_id: str) -> str:
    response = await http.get(job_url(benchmark_id, job_id))
    assert response.status_code == 200, response.text
    word: str = response.json()["status"]
    return word


async def advance(http: httpx.AsyncClient, seconds: float) -> None:
    response = await http.post("/_sim/clock", json={"advance": seconds})
    assert response.json()["frozen"] is True


# -- jobs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_id", "word"),
    [
        ("eval-scheduled", "scheduled"),
        ("eval-in-progress", "in_progress"),
        ("eval-completed", "completed"),
        ("eval-failed", "failed"),
        ("eval-cancelled", "cancelled"),
    ],
)
async def test_a_seeded_job_for_every_documented_status(
    http: httpx.AsyncClient, job_id: str, word: str
) -> None:
    response = await http.get(job_url("mmlu", job_id))
    assert response.status_code == 200
    assert response.json() == {"job_id": job_id, "status": word}


async def test_the_seeded_benchmarks_and_jobs_are_the_seeds_file(http: httpx.AsyncClient) -> None:
    # Seeded state is data (sim/seeds.yaml, shipped as package data), not code: every
    # benchmark is listed with its provider and every job answers its first status.
    text = resources.files("gateway.vendors.llama_stack.sim").joinpath("seeds.yaml").read_text()
    seeds = yaml.safe_load(text)
    listed = (await http.get(EVAL)).json()["data"]
    assert {b["identifier"]: b["provider_id"] for b in listed} == {
        name: entry["provider_id"] for name, entry in seeds["benchmarks"].items()
    }
    for job_id, job in seeds["jobs"].items():
        word = job["lifecycle"][0]["status"]
        assert await status_of(http, job["benchmark_id"], job_id) == word


async def test_seeded_lifecycle_moves_with_the_clock(http: httpx.AsyncClient) -> None:
    seen = [await status_of(http, "mmlu", "eval-lifecycle")]
    for seconds in (1.9, 0.1, 5.0):
        await advance(http, seconds)
        seen.append(await status_of(http, "mmlu", "eval-lifecycle"))
    assert seen == ["scheduled", "scheduled", "in_progress", "completed"]


async def test_run_eval_on_nvidia_answers_in_progress_then_runs_a_lifecycle(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(f"{EVAL}/mmlu/jobs", json=RUN_BODY)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_progress"  # whatever NeMo says (API.md §6)
    job_id = body["job_id"]
    assert job_id.startswith("eval-")
    seen = [await status_of(http, "mmlu", job_id)]
    for seconds in (2.0, 5.0):
        await advance(http, seconds)
        seen.append(await status_of(http, "mmlu", job_id))
    assert seen == ["scheduled", "in_progress", "completed"]
    result = await http.get(job_url("mmlu", job_id) + "/result")
    assert result.status_code == 200
    assert result.json()["scores"]["mmlu"]["aggregated_results"]["job"] == job_id


async def test_run_eval_accepts_the_nvidia_readme_body_with_its_extra_keys(
    http: httpx.AsyncClient,
) -> None:
    body = json.loads((FIXTURES / "run_eval.request.nvidia-readme.json").read_text())
    response = await http.post(f"{EVAL}/my-custom-benchmark/jobs", json=body)
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"


async def test_run_eval_on_the_builtin_provider_needs_max_tokens(http: httpx.AsyncClient) -> None:
    # inline::meta-reference asserts max_tokens is set: an AssertionError is the generic 500.
    response = await http.post(f"{EVAL}/basic-qa/jobs", json=RUN_BODY)
    assert response.status_code == 500
    assert response.json() == {
        "error": {"message": "Internal server error: An unexpected error occurred."}
    }


async def test_run_eval_on_the_builtin_provider_completes_synchronously(
    http: httpx.AsyncClient,
) -> None:
    body = copy.deepcopy(RUN_BODY)
    body["benchmark_config"]["eval_candidate"]["sampling_params"]["max_tokens"] = 32
    response = await http.post(f"{EVAL}/basic-qa/jobs", json=body)
    assert response.json() == {"job_id": "1", "status": "completed"}
    result = await http.get(job_url("basic-qa", "1") + "/result")
    assert [g["generated_answer"] for g in result.json()["generations"]] == [
        "Paris",
        "4",
        "It is blue",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {},
            "{'errors': [{'loc': ['body', 'benchmark_config'], 'msg': 'Field required', "
            "'type': 'missing'}]}",
        ),
        (
            {"benchmark_config": {"eval_candidate": {"model": "", "sampling_params": {}}}},
            "{'errors': [{'loc': ['body', 'benchmark_config', 'eval_candidate', 'model'], "
            "'msg': 'String should have at least 1 character', 'type': 'string_too_short'}]}",
        ),
    ],
)
async def test_request_validation_is_a_400_with_the_repr_message(
    http: httpx.AsyncClient, body: dict[str, Any], expected: str
) -> None:
    response = await http.post(f"{EVAL}/mmlu/jobs", json=body)
    assert response.status_code == 400
    assert message(response) == expected


async def test_unparsable_and_missing_bodies_are_validation_errors(
    http: httpx.AsyncClient,
) -> None:
    broken = await http.post(f"{EVAL}/mmlu/jobs", content=b'{"benchmark_config": ')
    assert broken.status_code == 400
    assert "'msg': 'JSON decode error', 'type': 'json_invalid'" in message(broken)
    empty = await http.post(f"{EVAL}/mmlu/jobs")
    assert message(empty) == (
        "{'errors': [{'loc': ['body'], 'msg': 'Field required', 'type': 'missing'}]}"
    )


async def test_unknown_benchmark_and_job_answer_the_documented_400s(
    http: httpx.AsyncClient,
) -> None:
    bench = await http.get(job_url("nope", "eval-completed"))
    assert bench.status_code == 400
    assert message(bench) == (
        "Benchmark `nope` not served by any of the providers: meta-reference, nvidia."
        " Make sure there is an Eval provider serving this benchmark."
    )
    job = await http.get(job_url("mmlu", "eval-nope"))
    assert (job.status_code, message(job)) == (400, "Job eval-nope not found")
    # A provider only knows its own jobs.
    other = await http.get(job_url("basic-qa", "eval-completed"))
    assert message(other) == "Job eval-completed not found"


async def test_result_before_completion_uses_each_providers_text(
    http: httpx.AsyncClient,
) -> None:
    nvidia = await http.get(job_url("mmlu", "eval-in-progress") + "/result")
    assert (nvidia.status_code, message(nvidia)) == (
        400,
        "Job eval-in-progress not completed. Status: in_progress",
    )
    created = await http.post(
        "/_sim/jobs",
        json={"lifecycle": [{"status": "in_progress"}], "data": {"benchmark_id": "basic-qa"}},
    )
    builtin = await http.get(job_url("basic-qa", created.json()["id"]) + "/result")
    assert message(builtin) == "Job is not completed, Status: in_progress"


# -- cancel --------------------------------------------------------------------------------------


async def test_cancel_answers_200_null_and_the_job_ends_cancelled(
    http: httpx.AsyncClient,
) -> None:
    response = await http.delete(job_url("mmlu", "eval-scheduled"))
    assert (response.status_code, response.content) == (200, b"null")
    # NeMo's `cancelling` shows as `failed` through remote::nvidia (API.md §6).
    assert await status_of(http, "mmlu", "eval-scheduled") == "failed"
    await advance(http, 1.0)
    assert await status_of(http, "mmlu", "eval-scheduled") == "cancelled"


async def test_cancel_leaves_finished_jobs_and_is_501_on_the_builtin_provider(
    http: httpx.AsyncClient,
) -> None:
    finished = await http.delete(job_url("mmlu", "eval-completed"))
    assert finished.status_code == 200
    assert await status_of(http, "mmlu", "eval-completed") == "completed"
    builtin = await http.delete(job_url("basic-qa", "0"))
    assert (builtin.status_code, message(builtin)) == (501, "Job cancel is not implemented yet")


# -- benchmarks and evaluations ------------------------------------------------------------------


async def test_benchmarks_list_get_register_unregister(http: httpx.AsyncClient) -> None:
    listed = (await http.get(EVAL)).json()
    assert [b["identifier"] for b in listed["data"]] == ["mmlu", "my-custom-benchmark", "basic-qa"]
    required = {"identifier", "provider_id", "dataset_id", "scoring_functions"}
    assert all(required <= set(b) and b["type"] == "benchmark" for b in listed["data"])
    assert (await http.get(f"{EVAL}/mmlu")).json()["metadata"] == {"type": "mmlu"}

    body = json.loads((FIXTURES / "register_benchmark.request.mmlu.json").read_text())
    body["benchmark_id"] = "mmlu-2"
    registered = await http.post(EVAL, json=body)
    assert (registered.status_code, registered.content) == (200, b"null")
    assert (await http.get(f"{EVAL}/mmlu-2")).json()["provider_id"] == "nvidia"
    run = await http.post(f"{EVAL}/mmlu-2/jobs", json=RUN_BODY)
    assert run.json()["status"] == "in_progress"

    removed = await http.delete(f"{EVAL}/mmlu-2")
    assert (removed.status_code, removed.content) == (200, b"null")
    gone = await http.get(f"{EVAL}/mmlu-2")
    assert (gone.status_code, message(gone)) == (400, "Benchmark 'mmlu-2' not found")
    invalid = await http.post(EVAL, json={"benchmark_id": "x"})
    assert "'loc': ['body', 'dataset_id']" in message(invalid)


async def test_reset_restores_seeded_benchmarks_and_jobs(http: httpx.AsyncClient) -> None:
    await http.delete(f"{EVAL}/mmlu")
    assert (await http.get(f"{EVAL}/mmlu")).status_code == 400
    assert (await http.post("/_sim/reset")).status_code == 204
    assert (await http.get(f"{EVAL}/mmlu")).status_code == 200


async def test_evaluate_rows_builtin_scores_nvidia_is_501(http: httpx.AsyncClient) -> None:
    body = {
        "input_rows": [{"input_query": "2+2?", "expected_answer": "4"}],
        "scoring_functions": ["basic::equality"],
        "benchmark_config": RUN_BODY["benchmark_config"],
    }
    builtin = await http.post(f"{EVAL}/basic-qa/evaluations", json=body)
    assert builtin.json()["scores"]["basic::equality"]["score_rows"] == [{"score": 1.0}]
    nvidia = await http.post(f"{EVAL}/mmlu/evaluations", json=body)
    assert nvidia.status_code == 501


# -- route misses --------------------------------------------------------------------------------


async def test_route_misses_answer_like_fastapi(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/eval/benchmarks/mmlu/jobs/eval-completed")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = await http.put(job_url("mmlu", "eval-completed"))
    assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"})
    assert wrong.headers["allow"] == "DELETE, GET, HEAD"
    slash = await http.get(f"{EVAL}/")
    assert slash.status_code == 307
    assert slash.headers["location"] == f"http://llama-stack.test{EVAL}"


# -- control API ---------------------------------------------------------------------------------


async def test_control_api_lists_and_creates_jobs(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/_sim/jobs")).json()
    assert listed["vendor"] == "llama-stack"
    assert {j["id"] for j in listed["jobs"]} >= {"eval-scheduled", "eval-lifecycle", "0"}

    created = await http.post(
        "/_sim/jobs",
        json={
            "lifecycle": [{"status": "in_progress", "seconds": 3}, {"status": "completed"}],
            "data": {"benchmark_id": "mmlu", "job_id": "eval-custom"},
        },
    )
    assert created.status_code == 201
    assert await status_of(http, "mmlu", "eval-custom") == "in_progress"
    await advance(http, 3)
    assert await status_of(http, "mmlu", "eval-custom") == "completed"

    numbered = await http.post("/_sim/jobs", json={"lifecycle": [{"status": "scheduled"}]})
    assert numbered.json()["id"].startswith("eval-SIM")
    unknown = await http.post(
        "/_sim/jobs", json={"lifecycle": [{"status": "failed"}], "data": {"benchmark_id": "x"}}
    )
    assert unknown.status_code == 400


async def test_control_api_can_set_a_result_body(http: httpx.AsyncClient) -> None:
    result = {"generations": [{"generated_answer": "x"}], "scores": {}}
    await http.post(
        "/_sim/jobs",
        json={
            "lifecycle": [{"status": "completed"}],
            "data": {"job_id": "eval-r", "result": result},
        },
    )
    assert (await http.get(job_url("mmlu", "eval-r") + "/result")).json() == result


# -- faults --------------------------------------------------------------------------------------


async def arm(http: httpx.AsyncClient, **fault: Any) -> None:
    assert (await http.post("/_sim/faults", json=fault)).status_code == 201


async def test_rate_limit_is_the_quota_429_without_retry_after(http: httpx.AsyncClient) -> None:
    await arm(http, kind="rate_limit", retry_after=5)
    limited = await http.get(job_url("mmlu", "eval-completed"))
    assert (limited.status_code, message(limited)) == (429, "Quota exceeded")
    assert "retry-after" not in limited.headers
    assert (await http.get(job_url("mmlu", "eval-completed"))).status_code == 200


async def test_server_error_uses_the_vendor_envelope_and_path_targeting(
    http: httpx.AsyncClient,
) -> None:
    await arm(http, kind="server_error", status=503, path="/result$", count=2)
    assert (await http.get(job_url("mmlu", "eval-completed"))).status_code == 200
    for _ in range(2):
        failed = await http.get(job_url("mmlu", "eval-completed") + "/result")
        assert (failed.status_code, message(failed)) == (503, "Simulated server error")
    assert (await http.get(job_url("mmlu", "eval-completed") + "/result")).status_code == 200


async def test_delay_still_answers(http: httpx.AsyncClient) -> None:
    await arm(http, kind="delay", seconds=0.01)
    assert (await http.get(job_url("mmlu", "eval-completed"))).status_code == 200


async def test_drop_connection_is_a_transport_error(http: httpx.AsyncClient) -> None:
    await arm(http, kind="drop_connection")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get(job_url("mmlu", "eval-completed"))


@pytest.mark.parametrize("kind", ["malformed_body", "truncated_body"])
async def test_unreadable_bodies(http: httpx.AsyncClient, kind: str) -> None:
    await arm(http, kind=kind)
    response = await http.get(job_url("mmlu", "eval-completed"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_undocumented_status_fault(http: httpx.AsyncClient) -> None:
    await arm(http, kind="undocumented_status")
    assert await status_of(http, "mmlu", "eval-completed") == UNDOCUMENTED_STATUS
    assert await status_of(http, "mmlu", "eval-completed") == "completed"


# -- auth and client version ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "Authentication required"),
        ({"Authorization": f"Token {KEY}"}, "Invalid Authorization header format"),
        ({"Authorization": "Bearer nope"}, "Invalid token"),
    ],
)
async def test_bearer_auth_is_enforced_when_a_key_is_set(
    state: SimState, headers: dict[str, str], expected: str
) -> None:
    state.api_key = KEY
    async with client(state, headers) as http:
        refused = await http.get(job_url("mmlu", "eval-completed"))
        assert (refused.status_code, message(refused)) == (401, expected)
        unknown_route = await http.get("/nowhere")
        assert unknown_route.status_code == 401  # auth runs before routing
        assert (await http.get("/_sim/jobs")).status_code == 200  # control API is open
    async with client(state, {"Authorization": f"Bearer {KEY}"}) as http:
        assert (await http.get(job_url("mmlu", "eval-completed"))).status_code == 200


async def test_without_a_key_any_request_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.get(job_url("mmlu", "eval-completed"), headers={"Authorization": "x"})
    assert response.status_code == 200


async def test_client_version_must_match_major_minor(http: httpx.AsyncClient) -> None:
    url = job_url("mmlu", "eval-completed")
    old = await http.get(url, headers={"X-LlamaStack-Client-Version": "0.6.2"})
    assert (old.status_code, message(old)) == (
        426,
        "Client version 0.6.2 is not compatible with server version 0.7.1."
        " Please update your client.",
    )
    same = await http.get(url, headers={"X-LlamaStack-Client-Version": "0.7.5"})
    assert same.status_code == 200
