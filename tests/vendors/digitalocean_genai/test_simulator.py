"""The DigitalOcean GenAI simulator in-process: routes, lifecycle, control API, faults, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulators import (
    UNDOCUMENTED_STATUS,
    SimClock,
    SimState,
    SimTransport,
    create_app,
    sim_base_url,
)
from gateway.vendors.digitalocean_genai.sim.data import (
    CORRECTNESS,
    EMPTY_SUITE,
    MOVING_RUN,
    REFUND_POLICY,
    SEEDED_RUNS,
    SUPPORT_FAQ,
    SUPPORT_REGRESSION,
    TONE,
)
from gateway.vendors.digitalocean_genai.spec import RUN_STATUSES

VENDOR = "digitalocean-genai"
KEY = "sim-key-digitalocean-genai"
START = 1767225600.0
RUNS = "/v2/gen-ai/evaluation_runs"
CASES = "/v2/gen-ai/evaluation_test_cases"
SUCCESSFUL = SEEDED_RUNS["EVALUATION_RUN_SUCCESSFUL"]
NOT_FOUND = {"id": "not_found", "message": "The resource you requested could not be found."}


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=START, frozen=True), api_key=KEY)


@pytest.fixture
def app(state: SimState) -> Starlette:
    return create_app(VENDOR, state=state)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=SimTransport(app),
        base_url=sim_base_url(VENDOR),
        headers={"Authorization": f"Bearer {KEY}"},
    ) as http:
        yield http


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(body.pop("request_id"), str)
    return body


async def status_of(client: httpx.AsyncClient, run_uuid: str) -> str:
    response = await client.get(f"{RUNS}/{run_uuid}")
    assert response.status_code == 200
    status: str = response.json()["evaluation_run"]["status"]
    return status


# -- runs ----------------------------------------------------------------------------------


async def test_one_seeded_run_per_documented_status(client: httpx.AsyncClient) -> None:
    assert set(SEEDED_RUNS) == set(RUN_STATUSES)
    for status, run_uuid in SEEDED_RUNS.items():
        assert await status_of(client, run_uuid) == status


async def test_moving_run_follows_its_lifecycle(client: httpx.AsyncClient, state: SimState) -> None:
    seen = [await status_of(client, MOVING_RUN)]
    for _ in range(3):
        state.clock.advance(2.5)
        seen.append(await status_of(client, MOVING_RUN))
    assert seen == [
        "EVALUATION_RUN_QUEUED",
        "EVALUATION_RUN_RUNNING_DATASET",
        "EVALUATION_RUN_EVALUATING_RESULTS",
        "EVALUATION_RUN_SUCCESSFUL",
    ]
    run = (await client.get(f"{RUNS}/{MOVING_RUN}")).json()["evaluation_run"]
    assert run["queued_at"] == "2026-01-01T00:00:00Z"
    assert run["started_at"] == "2026-01-01T00:00:02Z"
    assert run["finished_at"] == "2026-01-01T00:00:07Z"
    assert run["star_metric_result"]["metric_uuid"] == CORRECTNESS


async def test_run_body_fields(client: httpx.AsyncClient) -> None:
    run = (await client.get(f"{RUNS}/{SUCCESSFUL}")).json()["evaluation_run"]
    assert run["test_case_uuid"] == SUPPORT_REGRESSION
    assert run["test_case_version"] == 1
    assert run["created_by_user_id"] == "18224019"  # uint64 as a string
    assert run["pass_status"] is True
    tone = next(m for m in run["run_level_metric_results"] if m["metric_uuid"] == TONE)
    assert tone["metric_value_type"] == "METRIC_VALUE_TYPE_STRING"
    assert tone["string_value"] == "Neutral"
    failed = (await client.get(f"{RUNS}/{SEEDED_RUNS['EVALUATION_RUN_FAILED']}")).json()
    assert failed["evaluation_run"]["error_description"]
    assert "run_level_metric_results" not in failed["evaluation_run"]


async def test_create_runs_one_per_agent_and_deployment(
    client: httpx.AsyncClient, state: SimState
) -> None:
    response = await client.post(
        RUNS,
        json={
            "test_case_uuid": REFUND_POLICY,
            "agent_uuids": ["1b418231-b7d6-11ef-bf8f-4e013e2ddde4"],
            "agent_deployment_names": ["support-adk"],
            "run_name": "My Evaluation Run",
        },
    )
    assert response.status_code == 200  # not 201: the spec says 200 for every operation
    uuids = response.json()["evaluation_run_uuids"]
    assert len(uuids) == 2
    first = (await client.get(f"{RUNS}/{uuids[0]}")).json()["evaluation_run"]
    second = (await client.get(f"{RUNS}/{uuids[1]}")).json()["evaluation_run"]
    assert first["status"] == "EVALUATION_RUN_QUEUED"
    assert (first["run_name"], first["test_case_uuid"]) == ("My Evaluation Run", REFUND_POLICY)
    assert first["agent_uuid"] == "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"
    assert second["agent_deployment_name"] == "support-adk"
    assert "agent_uuid" not in second
    state.clock.advance(60)
    assert await status_of(client, uuids[0]) == "EVALUATION_RUN_SUCCESSFUL"


@pytest.mark.parametrize(
    ("body", "status", "error_id"),
    [
        (b"{not json", 400, "bad_request"),
        (b'{"test_case_uuid": "nope", "agent_uuids": ["a"]}', 404, "not_found"),
        (b'{"test_case_uuid": "' + REFUND_POLICY.encode() + b'"}', 400, "bad_request"),
        (
            b'{"test_case_uuid": "' + REFUND_POLICY.encode() + b'", "agent_uuids": "a"}',
            400,
            "bad_request",
        ),
    ],
)
async def test_create_run_rejects_bad_input(
    client: httpx.AsyncClient, body: bytes, status: int, error_id: str
) -> None:
    response = await client.post(RUNS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["id"] == error_id


async def test_results_paging_with_links(client: httpx.AsyncClient) -> None:
    url = f"{RUNS}/{SUCCESSFUL}/results"
    first = (await client.get(url, params={"page": 1, "per_page": 2})).json()
    assert first["meta"] == {"page": 1, "pages": 3, "total": 5}
    assert [p["prompt_id"] for p in first["prompts"]] == [1, 2]
    assert set(first["links"]["pages"]) == {"next", "last"}
    assert first["links"]["pages"]["next"].endswith(f"{url}?page=2&per_page=2")
    middle = (await client.get(url, params={"page": 2, "per_page": 2})).json()
    assert set(middle["links"]["pages"]) == {"first", "previous", "next", "last"}  # not `prev`
    last = (await client.get(url, params={"page": 3, "per_page": 2})).json()
    assert [p["prompt_id"] for p in last["prompts"]] == [5]
    assert set(last["links"]["pages"]) == {"first", "previous"}
    single = (await client.get(url)).json()  # default per_page 20: one page, no links
    assert single["meta"] == {"page": 1, "pages": 1, "total": 5}
    assert "links" not in single
    assert single["evaluation_run"]["status"] == "EVALUATION_RUN_SUCCESSFUL"
    prompt = single["prompts"][0]
    assert (prompt["input_tokens"], prompt["output_tokens"]) == ("387", "19")


async def test_results_per_page_is_capped_and_bad_params_are_400(client: httpx.AsyncClient) -> None:
    url = f"{RUNS}/{SUCCESSFUL}/results"
    capped = (await client.get(url, params={"per_page": 1000})).json()
    assert capped["meta"]["pages"] == 1
    bad = await client.get(url, params={"page": "two"})
    assert bad.status_code == 400
    assert bad.json()["id"] == "bad_request"


async def test_results_of_an_unfinished_run_have_the_run_but_no_prompts(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get(f"{RUNS}/{MOVING_RUN}/results")).json()
    assert body["evaluation_run"]["status"] == "EVALUATION_RUN_QUEUED"
    assert body["prompts"] == []
    assert body["meta"]["total"] == 0


async def test_prompt_result(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{RUNS}/{SUCCESSFUL}/results/2")).json()
    assert body["prompt"]["input"] == "What is your refund window?"
    partial = SEEDED_RUNS["EVALUATION_RUN_PARTIALLY_SUCCESSFUL"]
    scores = (await client.get(f"{RUNS}/{partial}/results/1")).json()["prompt"]
    failed = [m for m in scores["prompt_level_metric_results"] if "error_description" in m]
    assert [m["status"] for m in failed] == ["EVALUATION_METRIC_RESULT_STATUS_FAILED"]
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}/results/99")).status_code == 404
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}/results/abc")).status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{RUNS}/no-such-run"),
        ("GET", f"{RUNS}/no-such-run/results"),
        ("GET", f"{RUNS}/{SUCCESSFUL}/"),  # trailing slash: not a DigitalOcean path
        ("POST", f"{RUNS}/{SUCCESSFUL}/cancel"),  # agent runs have no cancel
        ("DELETE", f"{RUNS}/{SUCCESSFUL}"),
        ("GET", "/v2/gen-ai/nothing-here"),
        ("GET", f"{CASES}/no-such-case"),
    ],
)
async def test_unknown_routes_and_ids_answer_the_vendor_404(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 404
    assert without_request_id(response.json()) == NOT_FOUND


async def test_every_answer_carries_rate_limit_headers_and_a_request_id(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.get(f"{RUNS}/{SUCCESSFUL}")
    missing = await client.get(f"{RUNS}/nope")
    for response in (ok, missing):
        assert response.headers["ratelimit-limit"] == "5000"
        assert int(response.headers["ratelimit-remaining"]) < 5000
        assert response.headers["ratelimit-reset"] == str(int(START) + 3600)
        assert response.headers["x-request-id"]
    assert int(missing.headers["ratelimit-remaining"]) < int(ok.headers["ratelimit-remaining"])
    assert missing.json()["request_id"] == missing.headers["x-request-id"]


# -- test cases and metrics ------------------------------------------------------------------


async def test_test_cases_list_and_runs_by_test_case(client: httpx.AsyncClient) -> None:
    cases = (await client.get(CASES)).json()["evaluation_test_cases"]
    assert [c["test_case_uuid"] for c in cases] == [SUPPORT_REGRESSION, REFUND_POLICY, EMPTY_SUITE]
    regression = cases[0]
    assert (regression["version"], regression["total_runs"]) == (2, 7)
    assert regression["latest_version_number_of_runs"] == 5
    assert regression["dataset"]["file_size"] == "900"
    runs = (await client.get(f"{CASES}/{SUPPORT_REGRESSION}/evaluation_runs")).json()
    assert set(runs) == {"evaluation_runs"}  # no links/meta: this list is not paginated
    assert len(runs["evaluation_runs"]) == 7
    v1 = await client.get(
        f"{CASES}/{SUPPORT_REGRESSION}/evaluation_runs", params={"evaluation_test_case_version": 1}
    )
    assert {r["evaluation_run_uuid"] for r in v1.json()["evaluation_runs"]} == {
        SUCCESSFUL,
        SEEDED_RUNS["EVALUATION_RUN_FAILED"],
    }
    empty = (await client.get(f"{CASES}/{EMPTY_SUITE}/evaluation_runs")).json()
    assert empty == {"evaluation_runs": []}
    missing = await client.get(f"{CASES}/nope/evaluation_runs")
    assert missing.status_code == 404


async def test_test_case_create_get_update(client: httpx.AsyncClient) -> None:
    created = await client.post(
        CASES,
        json={
            "name": "Test Case",
            "description": "Description of the test case",
            "dataset_uuid": SUPPORT_FAQ,
            "metrics": [CORRECTNESS],
            "star_metric": {
                "metric_uuid": CORRECTNESS,
                "name": "Correctness",
                "success_threshold_pct": 80,
            },
        },
    )
    assert created.status_code == 200
    case_uuid = created.json()["test_case_uuid"]
    got = (await client.get(f"{CASES}/{case_uuid}")).json()["evaluation_test_case"]
    assert (got["name"], got["version"], got["star_metric"]["success_threshold_pct"]) == (
        "Test Case",
        1,
        80,
    )
    # Schema shape ({metric_uuids}) and the official curl sample's plain array both work.
    for metrics in ({"metric_uuids": [CORRECTNESS, TONE]}, [TONE]):
        updated = await client.put(
            f"{CASES}/{case_uuid}", json={"name": "Renamed", "metrics": metrics}
        )
        assert updated.status_code == 200
    assert updated.json() == {"test_case_uuid": case_uuid, "version": 3}
    latest = (await client.get(f"{CASES}/{case_uuid}")).json()["evaluation_test_case"]
    assert [m["metric_uuid"] for m in latest["metrics"]] == [TONE]
    v2 = await client.get(f"{CASES}/{case_uuid}", params={"evaluation_test_case_version": 2})
    assert [m["metric_uuid"] for m in v2.json()["evaluation_test_case"]["metrics"]] == [
        CORRECTNESS,
        TONE,
    ]
    v9 = await client.get(f"{CASES}/{case_uuid}", params={"evaluation_test_case_version": 9})
    assert v9.status_code == 404


async def test_workspace_test_cases_and_metrics(client: httpx.AsyncClient) -> None:
    workspace = "3c1f2a10-b7d6-11ef-bf8f-4e013e2ddde4"
    by_workspace = await client.get(f"/v2/gen-ai/workspaces/{workspace}/evaluation_test_cases")
    assert len(by_workspace.json()["evaluation_test_cases"]) == 3
    other = await client.get("/v2/gen-ai/workspaces/other/evaluation_test_cases")
    assert other.json() == {"evaluation_test_cases": []}
    metrics = (await client.get("/v2/gen-ai/evaluation_metrics")).json()["metrics"]
    assert {m["metric_value_type"] for m in metrics} == {
        "METRIC_VALUE_TYPE_PERCENTAGE",
        "METRIC_VALUE_TYPE_NUMBER",
        "METRIC_VALUE_TYPE_STRING",
    }


# -- auth --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": KEY},
        {"Authorization": f"Token {KEY}"},
    ],
)
async def test_wrong_or_missing_credential_is_the_vendor_401(
    app: Starlette, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(
        transport=SimTransport(app), base_url=sim_base_url(VENDOR)
    ) as http:
        response = await http.get(f"{RUNS}/{SUCCESSFUL}", headers=headers)
    assert response.status_code == 401
    assert without_request_id(response.json()) == {
        "id": "unauthorized",
        "message": "Unable to authenticate you.",
    }
    assert response.headers["ratelimit-limit"] == "5000"


async def test_no_key_configured_accepts_any_request() -> None:
    app = create_app(VENDOR, state=SimState(clock=SimClock(start=START, frozen=True)))
    async with httpx.AsyncClient(
        transport=SimTransport(app), base_url=sim_base_url(VENDOR)
    ) as http:
        assert (await http.get(f"{RUNS}/{SUCCESSFUL}")).status_code == 200


# -- control API and faults ------------------------------------------------------------------


async def test_control_jobs_list_and_create(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/_sim/jobs")).json()
    assert listed["vendor"] == VENDOR
    assert {j["id"] for j in listed["jobs"]} == {*SEEDED_RUNS.values(), MOVING_RUN}
    created = await client.post(
        "/_sim/jobs",
        json={
            "lifecycle": [
                {"status": "EVALUATION_RUN_QUEUED", "seconds": 1},
                {"status": "EVALUATION_RUN_FAILED"},
            ],
            "data": {"test_case_uuid": REFUND_POLICY, "error_description": "agent deleted"},
        },
    )
    assert created.status_code == 201
    run_uuid = created.json()["id"]
    assert await status_of(client, run_uuid) == "EVALUATION_RUN_QUEUED"
    await client.post("/_sim/clock", json={"advance": 1})
    run = (await client.get(f"{RUNS}/{run_uuid}")).json()["evaluation_run"]
    assert (run["status"], run["error_description"]) == ("EVALUATION_RUN_FAILED", "agent deleted")
    assert run["test_case_uuid"] == REFUND_POLICY
    runs = (await client.get(f"{CASES}/{REFUND_POLICY}/evaluation_runs")).json()["evaluation_runs"]
    assert run_uuid in {r["evaluation_run_uuid"] for r in runs}


async def test_control_clock(client: httpx.AsyncClient) -> None:
    answer = (await client.post("/_sim/clock", json={"advance": 10})).json()
    assert answer == {"now": pytest.approx(START + 10), "frozen": True}
    assert await status_of(client, MOVING_RUN) == "EVALUATION_RUN_SUCCESSFUL"


async def test_control_reset_restores_the_seed(client: httpx.AsyncClient) -> None:
    await client.post(CASES, json={"name": "extra", "dataset_uuid": SUPPORT_FAQ})
    assert len((await client.get(CASES)).json()["evaluation_test_cases"]) == 4
    assert (await client.post("/_sim/reset")).status_code == 204
    assert len((await client.get(CASES)).json()["evaluation_test_cases"]) == 3


async def test_rate_limit_fault_with_burst_retry_after(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "rate_limit", "retry_after": 29})
    limited = await client.get(f"{RUNS}/{SUCCESSFUL}")
    assert limited.status_code == 429
    assert without_request_id(limited.json()) == {
        "id": "too_many_requests",
        "message": "API rate limit exceeded.",
    }
    assert limited.headers["retry-after"] == "29"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit-reset"] == str(int(START) + 3600)
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}")).status_code == 200  # consumed once


async def test_rate_limit_fault_without_retry_after_is_the_hourly_limit(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/_sim/faults", json={"kind": "rate_limit", "retry_after": None})
    limited = await client.get(CASES)
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers
    assert limited.headers["ratelimit-remaining"] == "0"


async def test_server_error_fault_in_the_vendor_envelope(client: httpx.AsyncClient) -> None:
    await client.post(
        "/_sim/faults", json={"kind": "server_error", "status": 503, "path": "results"}
    )
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}")).status_code == 200  # path does not match
    failed = await client.get(f"{RUNS}/{SUCCESSFUL}/results")
    assert failed.status_code == 503
    assert without_request_id(failed.json()) == {
        "id": "service_unavailable",
        "message": "Simulated server error",
    }
    await client.post("/_sim/faults", json={"kind": "server_error"})
    assert (await client.get(CASES)).json()["id"] == "server_error"


async def test_transport_faults(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "drop_connection"})
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(f"{RUNS}/{SUCCESSFUL}")
    await client.post("/_sim/faults", json={"kind": "malformed_body"})
    malformed = await client.get(f"{RUNS}/{SUCCESSFUL}")
    assert malformed.status_code == 200
    assert malformed.content.startswith(b"<html>")
    await client.post("/_sim/faults", json={"kind": "truncated_body"})
    truncated = await client.get(f"{RUNS}/{SUCCESSFUL}")
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        truncated.json()
    await client.post("/_sim/faults", json={"kind": "delay", "seconds": 0.01})
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}")).status_code == 200


async def test_reset_after_error_fault_breaks_the_next_request(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "reset_after_error", "seconds": 0})
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}")).status_code == 200  # not an error answer
    assert (await client.get(f"{RUNS}/nope")).status_code == 404
    with pytest.raises(httpx.ReadError):
        await client.get(f"{RUNS}/{SUCCESSFUL}")
    assert (await client.get(f"{RUNS}/{SUCCESSFUL}")).status_code == 200  # a new connection


async def test_undocumented_status_fault(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "undocumented_status"})
    assert await status_of(client, SUCCESSFUL) == UNDOCUMENTED_STATUS
    assert await status_of(client, SUCCESSFUL) == "EVALUATION_RUN_SUCCESSFUL"


async def test_bad_fault_is_rejected_by_the_control_api(client: httpx.AsyncClient) -> None:
    response = await client.post("/_sim/faults", json={"kind": "meteor"})
    assert response.status_code == 400
    assert (await client.get("/_sim/requests")).json()["requests"] == {}
