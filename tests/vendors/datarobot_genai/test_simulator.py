"""The DataRobot simulator in-process: shapes, lifecycles, control API, faults and auth."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.simulators import SimClock, SimState, client_for, create_app
from gateway.vendors.datarobot_genai.sim.data import (
    CLASSIC_IDS,
    CLASSIC_MOVING_ID,
    EXAMPLE_CHAT_ID,
    GENAI_IDS,
    GENAI_MOVING_ID,
    PROJECT_PATH,
    STATUSES,
)

VENDOR = "datarobot-genai"
FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sim-key-datarobot-genai"
SEVEN_KEYS = {"code", "created", "description", "message", "status", "statusId", "statusType"}
AGGREGATIONS = "/api/v2/genai/evaluationDatasetMetricAggregations/"
START_BODY = {
    "chatName": "sim-eval",
    "llmBlueprintIds": ["66b0c1d2e3f4a5b6c7d8e9aa"],
    "evaluationDatasetConfigurationId": "66b0c1d2e3f4a5b6c7d8e9bb",
    "insightsConfiguration": [
        {"insightName": "Correctness", "aggregationTypes": ["average", "percentYes"]}
    ],
}


def make_app(api_key: str | None = None) -> Starlette:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=api_key)
    return create_app(VENDOR, state=state)


@pytest.fixture
def app() -> Starlette:
    return make_app()


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(VENDOR, app) as client:
        yield client


async def genai_status(http: httpx.AsyncClient, status_id: str) -> Any:
    answer = await http.get(f"/api/v2/genai/status/{status_id}/")
    assert answer.status_code == 200
    return answer.json()


async def advance(http: httpx.AsyncClient, seconds: float) -> None:
    answer = await http.post("/_sim/clock", json={"advance": seconds})
    assert answer.status_code == 200


# -- GenAI status ---------------------------------------------------------------------------------


@pytest.mark.parametrize("word", STATUSES)
async def test_genai_status_always_has_the_seven_keys(http: httpx.AsyncClient, word: str) -> None:
    body = await genai_status(http, GENAI_IDS[word])
    assert set(body) == SEVEN_KEYS
    assert body["status"] == word and body["statusId"] == GENAI_IDS[word]
    assert body["code"] == (1 if word in ("ERROR", "ABORTED", "EXPIRED") else 0)
    assert all(isinstance(body[k], str) for k in ("description", "message", "statusType"))
    assert bool(body["message"]) == (body["code"] == 1)
    uuid.UUID(body["statusId"])
    assert body["created"] == "2025-12-31T23:50:00.000000Z"  # seeded 10 minutes before start


async def test_genai_lifecycle_moves_with_the_clock(http: httpx.AsyncClient) -> None:
    seen = []
    for _ in range(4):
        seen.append((await genai_status(http, GENAI_MOVING_ID))["status"])
        await advance(http, 2.5)
    assert seen == ["INITIALIZED", "RUNNING", "RUNNING", "COMPLETED"]


async def test_non_uuid_status_id_is_a_fastapi_422(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/v2/genai/status/not-a-uuid/")
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": [
            {
                "loc": ["path", "statusId"],
                "msg": "value is not a valid uuid",
                "type": "type_error.uuid",
            }
        ]
    }


async def test_unknown_genai_status_is_a_detail_404(http: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    answer = await http.get(f"/api/v2/genai/status/{missing}/")
    assert (answer.status_code, answer.json()) == (
        404,
        {"detail": f"Job status {missing} not found."},
    )
    # A classic id is not a GenAI job, even where one exists.
    assert (await http.get(f"/api/v2/status/{GENAI_IDS['RUNNING']}/")).status_code == 404


# -- classic status -------------------------------------------------------------------------------


async def test_classic_status_is_200_while_pending_and_303_when_completed(
    http: httpx.AsyncClient,
) -> None:
    pending = await http.get(f"/api/v2/status/{CLASSIC_MOVING_ID}/")
    assert pending.status_code == 200 and pending.json()["status"] == "INITIALIZED"
    assert set(pending.json()) >= {
        "code",
        "created",
        "description",
        "message",
        "status",
        "statusId",
    }
    await advance(http, 8)
    done = await http.get(f"/api/v2/status/{CLASSIC_MOVING_ID}/")
    assert done.status_code == 303 and done.content == b""
    assert done.headers["location"].startswith("http://datarobot-genai.sim.invalid/api/v2/")
    seeded = await http.get(f"/api/v2/status/{CLASSIC_IDS['COMPLETED']}/")
    assert seeded.headers["location"] == f"http://datarobot-genai.sim.invalid{PROJECT_PATH}"


async def test_classic_error_is_a_200_status_with_its_message(http: httpx.AsyncClient) -> None:
    body = (await http.get(f"/api/v2/status/{CLASSIC_IDS['ERROR']}/")).json()
    assert (body["status"], body["code"]) == ("ERROR", 1)
    assert body["message"] == "Dataset could not be processed: file is empty."


async def test_delete_destroys_the_status_record(http: httpx.AsyncClient) -> None:
    path = f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/"
    assert (await http.delete(path)).status_code == 204
    gone = await http.get(path)
    assert (gone.status_code, gone.json()) == (404, {"message": "Not Found"})
    assert (await http.delete(path)).status_code == 404


async def test_classic_list_pages_with_required_offset_and_limit(http: httpx.AsyncClient) -> None:
    first = (await http.get("/api/v2/status/", params={"offset": 0, "limit": 3})).json()
    assert first["count"] == 3 and first["previous"] is None
    assert first["next"] == "http://datarobot-genai.sim.invalid/api/v2/status/?offset=3&limit=3"
    last = (await http.get("/api/v2/status/", params={"offset": 6, "limit": 3})).json()
    assert [item["statusId"] for item in last["data"]] == [CLASSIC_MOVING_ID]
    assert last["next"] is None and last["previous"].endswith("?offset=3&limit=3")
    everything = (await http.get("/api/v2/status/", params={"offset": 0, "limit": 0})).json()
    assert everything["count"] == 7 and everything["next"] is None  # limit 0 = all
    assert {item["status"] for item in everything["data"]} == set(STATUSES)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, {"offset": "is required", "limit": "is required"}),
        ({"offset": 0}, {"limit": "is required"}),
        ({"offset": "x", "limit": 1}, {"offset": "value can't be converted to int"}),
    ],
)
async def test_classic_list_rejects_bad_paging(
    http: httpx.AsyncClient, params: dict[str, Any], message: dict[str, str]
) -> None:
    answer = await http.get("/api/v2/status/", params=params)
    assert (answer.status_code, answer.json()) == (400, {"message": message})


async def test_paths_need_their_trailing_slash_and_unknown_routes_use_the_service_shape(
    http: httpx.AsyncClient,
) -> None:
    no_slash = await http.get(f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}")
    assert (no_slash.status_code, no_slash.json()) == (404, {"detail": "Not Found"})
    classic = await http.get("/api/v2/projects/")
    assert (classic.status_code, classic.json()) == (404, {"message": "Not Found"})


# -- metric aggregations --------------------------------------------------------------------------


async def test_aggregation_job_runs_then_lists_its_rows(http: httpx.AsyncClient) -> None:
    started = await http.post(AGGREGATIONS, json=START_BODY)
    assert started.status_code == 202
    job_id = started.json()["jobId"]
    assert set(started.json()) == {"jobId"}
    assert (await genai_status(http, job_id))["status"] == "INITIALIZED"
    listed = await http.get(AGGREGATIONS, params={"llmBlueprintIds": "66b0c1d2e3f4a5b6c7d8e9aa"})
    assert listed.json()["data"] == []  # nothing until the job has finished
    await advance(http, 3)
    assert (await genai_status(http, job_id))["status"] == "RUNNING"
    await advance(http, 5)
    assert (await genai_status(http, job_id))["status"] == "COMPLETED"
    rows = await http.get(AGGREGATIONS, params={"chatIds": listed_chat(await all_rows(http))})
    data = rows.json()["data"]
    assert {(r["metricName"], r["aggregationType"]) for r in data} == {
        ("Correctness", "average"),
        ("Correctness", "percentYes"),
    }
    assert all(
        r["chatName"] == "sim-eval" and isinstance(r["aggregationValue"], float) for r in data
    )


async def all_rows(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await http.get(AGGREGATIONS, params={"limit": 100})).json()[
        "data"
    ]
    return rows


def listed_chat(rows: list[dict[str, Any]]) -> str:
    [chat] = {r["chatId"] for r in rows if r["chatName"] == "sim-eval"}
    return chat


async def test_seeded_aggregation_matches_the_contract_example(http: httpx.AsyncClient) -> None:
    example = json.loads(
        (FIXTURES / "evaluation_dataset_metric_aggregation.list.constructed.json").read_text()
    )
    listed = (await http.get(AGGREGATIONS, params={"chatIds": EXAMPLE_CHAT_ID})).json()
    assert set(listed) == set(example)
    [row] = listed["data"]
    [expected] = example["data"]
    assert set(row) == set(expected)
    assert {k: v for k, v in row.items() if k != "creationDate"} == {
        k: v for k, v in expected.items() if k != "creationDate"
    }
    request = json.loads(
        (
            FIXTURES / "evaluation_dataset_metric_aggregation.create.request.constructed.json"
        ).read_text()
    )
    started = await http.post(AGGREGATIONS, json=request)
    response = FIXTURES / "evaluation_dataset_metric_aggregation.create.response.constructed.json"
    assert set(started.json()) == set(json.loads(response.read_text()))


async def test_aggregation_list_filters_and_pages(http: httpx.AsyncClient) -> None:
    everything = (await http.get(AGGREGATIONS)).json()
    assert everything["totalCount"] == 2  # the seeded completed and failed aggregations
    example = everything["data"][0]
    assert example["chatId"] == EXAMPLE_CHAT_ID and example["aggregationValue"] == 0.87
    ok = (await http.get(AGGREGATIONS, params={"nonErroredOnly": "True"})).json()
    assert [r["chatId"] for r in ok["data"]] == [EXAMPLE_CHAT_ID]
    page = (await http.get(AGGREGATIONS, params={"limit": 1, "sort": "-chatName"})).json()
    assert (page["count"], page["totalCount"]) == (1, 2)
    assert "offset=1" in page["next"] and "sort=-chatName" in page["next"]
    mine = (await http.get(AGGREGATIONS, params={"metricNames": "Nope"})).json()
    assert mine["data"] == [] and mine["totalCount"] == 0


@pytest.mark.parametrize(
    ("params", "loc", "kind"),
    [
        ({"aggregationTypes": "median"}, ["query", "aggregationTypes"], "type_error.enum"),
        ({"nonErroredOnly": "maybe"}, ["query", "nonErroredOnly"], "type_error.bool"),
        ({"offset": "-1"}, ["query", "offset"], "value_error.number.not_ge"),
        ({"limit": "ten"}, ["query", "limit"], "type_error.integer"),
    ],
)
async def test_aggregation_list_validation_is_fastapi_shaped(
    http: httpx.AsyncClient, params: dict[str, str], loc: list[str], kind: str
) -> None:
    answer = await http.get(AGGREGATIONS, params=params)
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, kind)


async def test_aggregation_start_validates_its_body(http: httpx.AsyncClient) -> None:
    answer = await http.post(AGGREGATIONS, json={"chatName": 5, "llmBlueprintIds": []})
    assert answer.status_code == 422
    assert {(tuple(e["loc"]), e["type"]) for e in answer.json()["detail"]} == {
        (("body", "chatName"), "type_error.str"),
        (("body", "evaluationDatasetConfigurationId"), "value_error.missing"),
        (("body", "insightsConfiguration"), "value_error.missing"),
    }
    broken = await http.post(
        AGGREGATIONS, content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["type"] == "value_error.jsondecode"


# -- control API ----------------------------------------------------------------------------------


async def test_control_api_lists_and_creates_jobs(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/_sim/jobs")).json()
    assert listed["vendor"] == VENDOR
    assert {j["vendor_status"] for j in listed["jobs"]} >= set(STATUSES)
    made = await http.post(
        "/_sim/jobs",
        json={
            "lifecycle": [{"status": "RUNNING", "seconds": 1}, {"status": "COMPLETED"}],
            "data": {"kind": "classic", "location": "/api/v2/datasets/d1/"},
        },
    )
    assert made.status_code == 201
    assert made.json()["id_parts"] == ["classic", made.json()["id"]]  # the gateway id's parts
    path = f"/api/v2/status/{made.json()['id']}/"
    assert (await http.get(path)).json()["status"] == "RUNNING"
    await advance(http, 1)
    assert (await http.get(path)).status_code == 303
    genai = await http.post("/_sim/jobs", json={"lifecycle": [{"status": "ERROR"}]})
    body = await genai_status(http, genai.json()["id"])
    assert (body["status"], body["code"]) == ("ERROR", 1)
    bad = await http.post(
        "/_sim/jobs", json={"lifecycle": [{"status": "X"}], "data": {"kind": "v3"}}
    )
    assert bad.status_code == 400


async def test_bare_string_jobs_answer_a_json_string(http: httpx.AsyncClient) -> None:
    made = await http.post(
        "/_sim/jobs", json={"lifecycle": [{"status": "RUNNING"}], "data": {"bare_string": True}}
    )
    assert await genai_status(http, made.json()["id"]) == "RUNNING"


async def test_redirect_jobs_answer_307(http: httpx.AsyncClient) -> None:
    target = f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/"
    made = await http.post(
        "/_sim/jobs", json={"lifecycle": [{"status": "RUNNING"}], "data": {"redirect_to": target}}
    )
    answer = await http.get(f"/api/v2/genai/status/{made.json()['id']}/")
    assert answer.status_code == 307
    assert answer.headers["location"] == f"http://datarobot-genai.sim.invalid{target}"


async def test_clock_requests_and_reset(http: httpx.AsyncClient) -> None:
    clock = (await http.post("/_sim/clock", json={"advance": 10})).json()
    assert clock == {"now": pytest.approx(1767225610.0), "frozen": True}
    await http.delete(f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/")
    counts = (await http.get("/_sim/requests")).json()["requests"]
    assert counts == {f"DELETE /api/v2/status/{CLASSIC_IDS['RUNNING']}/": 1}
    assert (await http.post("/_sim/reset")).status_code == 204
    assert (await http.get(f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/")).status_code == 200


# -- faults ---------------------------------------------------------------------------------------


async def arm(http: httpx.AsyncClient, **fault: Any) -> None:
    answer = await http.post("/_sim/faults", json=fault)
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("status", "message"), [(429, "Too Many Requests"), (413, "Request Entity Too Large")]
)
async def test_rate_limit_fault_sends_retry_after(
    http: httpx.AsyncClient, status: int, message: str
) -> None:
    await arm(http, kind="rate_limit", status=status, retry_after=2.5)
    answer = await http.get(f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}/")
    assert (answer.status_code, answer.headers["retry-after"]) == (status, "3")
    assert answer.json() == {"message": message}
    assert (await http.get(f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}/")).status_code == 200


async def test_server_error_fault_uses_the_message_envelope(http: httpx.AsyncClient) -> None:
    await arm(http, kind="server_error", status=503, path="^/api/v2/status/$")
    ok = await http.get(f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/")
    assert ok.status_code == 200  # the fault is for another path
    answer = await http.get("/api/v2/status/", params={"offset": 0, "limit": 1})
    assert (answer.status_code, answer.json()) == (503, {"message": "Simulated server error"})


async def test_delay_fault_still_answers(http: httpx.AsyncClient) -> None:
    await arm(http, kind="delay", seconds=0.01)
    assert (await http.get(f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}/")).status_code == 200


async def test_drop_connection_fault_breaks_the_connection(http: httpx.AsyncClient) -> None:
    await arm(http, kind="drop_connection")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get(f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}/")


@pytest.mark.parametrize("kind", ["malformed_body", "truncated_body"])
async def test_body_faults_give_unreadable_json(http: httpx.AsyncClient, kind: str) -> None:
    await arm(http, kind=kind)
    answer = await http.get(f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}/")
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


async def test_reset_after_error_fault_breaks_the_next_request(http: httpx.AsyncClient) -> None:
    await arm(http, kind="reset_after_error", seconds=0)
    assert (await http.get("/api/v2/status/5f2b9a0c8e1d4a00ffffffff/")).status_code == 404
    with pytest.raises(httpx.ReadError):
        await http.get(f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/")
    assert (await http.get(f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/")).status_code == 200


async def test_undocumented_status_fault_and_clearing_faults(http: httpx.AsyncClient) -> None:
    await arm(http, kind="undocumented_status")
    body = await genai_status(http, GENAI_IDS["RUNNING"])
    assert body["status"] == "sim_undocumented_status" and set(body) == SEVEN_KEYS
    await arm(http, kind="rate_limit", count=5)
    assert (await http.delete("/_sim/faults")).status_code == 204
    assert (await genai_status(http, GENAI_IDS["RUNNING"]))["status"] == "RUNNING"


# -- auth -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [f"Token {KEY}", f"Bearer {KEY}", f"token {KEY}"])
async def test_both_auth_schemes_are_accepted(header: str) -> None:
    async with client_for(VENDOR, make_app(KEY), headers={"Authorization": header}) as http:
        assert (await http.get(f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/")).status_code == 200


@pytest.mark.parametrize(
    ("headers", "path", "body"),
    [
        ({}, "/api/v2/status/", {"message": "Unauthorized"}),
        ({"Authorization": "Token wrong"}, "/api/v2/status/", {"message": "Unauthorized"}),
        ({"Authorization": f"Basic {KEY}"}, "/api/v2/status/", {"message": "Unauthorized"}),
        ({}, f"/api/v2/genai/status/{GENAI_IDS['RUNNING']}/", {"detail": "Unauthorized"}),
    ],
)
async def test_wrong_credentials_get_401(
    headers: dict[str, str], path: str, body: dict[str, str]
) -> None:
    async with client_for(VENDOR, make_app(KEY), headers=headers) as http:
        answer = await http.get(path)
        assert (answer.status_code, answer.json()) == (401, body)
        assert (await http.get("/_sim/jobs")).status_code == 200  # the control API is open


async def test_no_api_key_means_no_auth(http: httpx.AsyncClient) -> None:
    answer = await http.get(
        f"/api/v2/status/{CLASSIC_IDS['RUNNING']}/", headers={"Authorization": "Basic anything"}
    )
    assert answer.status_code == 200
