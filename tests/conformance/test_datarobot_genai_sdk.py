"""The DataRobot simulator, read by DataRobot's own client (datarobot 3.20.0).

The client uses `requests`, so the simulator is served on loopback. Its GenAI `JobStatus`
model checks every answer with the strict `job_status_trafaret` (all seven keys, `code` in
{0, 1}, `status` in the six states); its waiter and `StatusCheckJob` resolve 303 answers to
their Location; its errors are `ClientError`/`ServerError` carrying the parsed body.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tests.support.servers import serve_in_thread

from gateway.adapters import BackendContext
from gateway.schemas import SubmitRequest, Target
from gateway.simulators import Fault, SimClock, SimState, Stage, create_app, vendor_sim
from gateway.vendors.datarobot_genai.adapter import DataRobotAdapter, to_submission
from gateway.vendors.datarobot_genai.sim.data import (
    CHAT_PROMPT_PATH,
    CLASSIC_IDS,
    EXAMPLE_CHAT_ID,
    GENAI_IDS,
    GENAI_MOVING_ID,
    GENAI_REDIRECT_ID,
    PROJECT_PATH,
)

pytestmark = pytest.mark.sdk
dr = pytest.importorskip("datarobot")

import datarobot.client as dr_client  # noqa: E402
from datarobot.context import Context  # noqa: E402
from datarobot.errors import (  # noqa: E402
    AsyncProcessUnsuccessfulError,
    AsyncTimeoutError,
    ClientError,
    ServerError,
)
from datarobot.models.genai.evaluation_dataset_metric_aggregation import (  # noqa: E402
    EvaluationDatasetMetricAggregation,
)
from datarobot.models.genai.insights_configuration import InsightsConfiguration  # noqa: E402
from datarobot.models.genai.jobstatus import (  # noqa: E402
    JobErrorCode,
    JobExecutionState,
    JobStatus,
)
from datarobot.models.status_check_job import StatusCheckJob  # noqa: E402
from datarobot.utils.pagination import unpaginate  # noqa: E402
from datarobot.utils.waiters import wait_for_async_resolution  # noqa: E402

VENDOR = "datarobot-genai"
KEY = "sim-key-datarobot-genai"


@dataclass
class Sim:
    url: str  # http://127.0.0.1:<port>
    state: SimState
    client: Any  # the datarobot RESTClientObject, also installed as the global client

    def status_url(self, status_id: str) -> str:
        return f"{self.url}/api/v2/genai/status/{status_id}/"


@pytest.fixture
def app() -> Starlette:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)
    return create_app(VENDOR, state=state)


@pytest.fixture
def isolated_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`dr.Client` installs a process-wide client: put the previous one back afterwards."""
    # The client checks `GET /api/v2/version/` when it is built; that endpoint is not in our
    # contract, so the simulator has none and the check is skipped instead.
    monkeypatch.setattr(dr_client, "_is_compatible_client", lambda client: True)
    previous_global = dr_client._global_client
    context_fields = ("_use_case", "_trace_context", "_enable_api_consumer_tracking")
    previous_context = {name: getattr(Context, name) for name in context_fields}
    # reset() of this token restores the context variable to before the test, even unset.
    token = dr_client._context_client.set(dr_client._context_client.get(previous_global))
    yield
    dr_client._context_client.reset(token)
    dr_client._global_client = previous_global
    for name, value in previous_context.items():
        setattr(Context, name, value)


@pytest.fixture
def sim(app: Starlette, isolated_client: None) -> Iterator[Sim]:
    with serve_in_thread(app) as url:
        client = dr.Client(endpoint=f"{url}/api/v2", token=KEY)
        yield Sim(url, app.state.sim, client)


# -- GenAI status ---------------------------------------------------------------------------------


@pytest.mark.parametrize("word", list(GENAI_IDS))
def test_every_seeded_genai_status_parses_strictly(sim: Sim, word: str) -> None:
    status = JobStatus.get(GENAI_IDS[word])
    assert status.status == word  # trafaret's Enum keeps the wire string
    assert JobExecutionState(status.status) is JobExecutionState[word]
    assert status.status_id == GENAI_IDS[word]
    expected_code = (
        JobErrorCode.GENERIC_ERROR
        if word in ("ERROR", "ABORTED", "EXPIRED")
        else (JobErrorCode.NO_ERROR)
    )
    assert JobErrorCode(status.code) is expected_code


def test_moving_genai_job_parses_at_every_stage(sim: Sim) -> None:
    seen = []
    for _ in range(3):
        seen.append(JobStatus.get(GENAI_MOVING_ID).status)
        sim.state.clock.advance(4)
    assert seen == ["INITIALIZED", "RUNNING", "COMPLETED"]


def test_waiter_returns_a_completed_genai_status(sim: Sim) -> None:
    data = wait_for_async_resolution(sim.client, sim.status_url(GENAI_IDS["COMPLETED"]))
    assert data["status"] == "COMPLETED"


def test_waiter_resolves_a_genai_303_to_its_location(sim: Sim) -> None:
    location = wait_for_async_resolution(sim.client, sim.status_url(GENAI_REDIRECT_ID))
    assert location == f"{sim.url}{CHAT_PROMPT_PATH}"


def test_waiter_follows_a_307_once(sim: Sim) -> None:
    moved = vendor_sim(VENDOR).new_job(
        sim.state, [Stage("RUNNING")], {"redirect_to": f"/api/v2/genai/status/{GENAI_REDIRECT_ID}/"}
    )
    location = wait_for_async_resolution(sim.client, sim.status_url(moved.id))
    assert location == f"{sim.url}{CHAT_PROMPT_PATH}"


@pytest.mark.parametrize("word", ["ERROR", "ABORTED"])
def test_waiter_raises_on_unsuccessful_jobs(sim: Sim, word: str) -> None:
    with pytest.raises(AsyncProcessUnsuccessfulError):
        wait_for_async_resolution(sim.client, sim.status_url(GENAI_IDS[word]))


def test_waiter_keeps_polling_a_running_job(sim: Sim) -> None:
    with pytest.raises(AsyncTimeoutError, match="Last status was 200"):
        wait_for_async_resolution(sim.client, sim.status_url(GENAI_IDS["RUNNING"]), max_wait=0)


# -- classic status -------------------------------------------------------------------------------


def test_classic_303_resolves_through_status_check_job(sim: Sim) -> None:
    job = StatusCheckJob(CLASSIC_IDS["COMPLETED"])
    result = job.get_status()
    assert result.status == "COMPLETED"
    assert result.completed_resource_url == f"{sim.url}{PROJECT_PATH}"
    assert job.wait_for_completion().completed_resource_url == f"{sim.url}{PROJECT_PATH}"
    location = wait_for_async_resolution(sim.client, f"status/{CLASSIC_IDS['COMPLETED']}/")
    assert location == f"{sim.url}{PROJECT_PATH}"


# EXPIRED is documented (D2) but the client's ASYNC_PROCESS_STATUS lacks it, so
# StatusCheckJob cannot read it; the list test below still reads it raw.
@pytest.mark.parametrize("word", ["INITIALIZED", "RUNNING", "ERROR", "ABORTED"])
def test_classic_statuses_parse_with_status_check_job(sim: Sim, word: str) -> None:
    result = StatusCheckJob(CLASSIC_IDS[word]).get_status()
    # (The client reads `statusId` after snake-casing the keys, so its status_id stays None.)
    assert (result.status, result.completed_resource_url) == (word, None)
    if word == "ERROR":
        assert result.message == "Dataset could not be processed: file is empty."


def test_classic_list_pages_through_the_clients_paginator(sim: Sim) -> None:
    items = list(unpaginate(f"{sim.url}/api/v2/status/", {"offset": 0, "limit": 3}, sim.client))
    assert [item["statusId"] for item in items][:6] == list(CLASSIC_IDS.values())
    assert len(items) == 7
    assert {item["status"] for item in items} == set(GENAI_IDS)


# -- metric aggregations --------------------------------------------------------------------------


def test_aggregation_create_poll_and_list(sim: Sim) -> None:
    insight = InsightsConfiguration(
        insight_name="Correctness",
        insight_type="Quality metric",
        aggregation_types=["average", "classPercentCoverage"],
    )
    job_id = EvaluationDatasetMetricAggregation.create(
        chat_name="sdk-eval",
        llm_blueprint_ids=["66b0c1d2e3f4a5b6c7d8e9cc"],
        evaluation_dataset_configuration_id="66b0c1d2e3f4a5b6c7d8e9dd",
        insights_configuration=[insight],
    )
    assert JobStatus.get(job_id).status == "INITIALIZED"
    sim.state.clock.advance(8)
    assert JobStatus.get(job_id).status == "COMPLETED"
    rows = EvaluationDatasetMetricAggregation.list(llm_blueprint_ids=["66b0c1d2e3f4a5b6c7d8e9cc"])
    by_type = {row.aggregation_type: row for row in rows}
    assert set(by_type) == {"average", "classPercentCoverage"}
    assert isinstance(by_type["average"].aggregation_value, float)
    assert [v["item"] for v in by_type["classPercentCoverage"].aggregation_value] == ["yes", "no"]
    assert all(row.chat_name == "sdk-eval" for row in rows)


def test_aggregation_list_defaults_hide_errored_rows(sim: Sim) -> None:
    rows = EvaluationDatasetMetricAggregation.list()  # non_errored_only=True by default
    assert [(row.chat_id, row.aggregation_value) for row in rows] == [(EXAMPLE_CHAT_ID, 0.87)]
    everything = EvaluationDatasetMetricAggregation.list(non_errored_only=False, limit=1)
    assert len(everything) == 2  # the client followed `next`


# -- errors ---------------------------------------------------------------------------------------


def test_non_uuid_status_is_a_client_error_with_the_fastapi_body(sim: Sim) -> None:
    with pytest.raises(ClientError) as caught:
        JobStatus.get("not-a-uuid")
    assert caught.value.status_code == 422
    assert caught.value.json["detail"][0]["loc"] == ["path", "statusId"]


def test_unknown_statuses_are_404_client_errors(sim: Sim) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClientError) as genai:
        JobStatus.get(missing)
    assert (genai.value.status_code, genai.value.json) == (
        404,
        {"detail": f"Job status {missing} not found."},
    )
    with pytest.raises(ClientError) as classic:
        StatusCheckJob("5f2b9a0c8e1d4a00ffffffff").get_status()
    assert (classic.value.status_code, classic.value.json) == (404, {"message": "Not Found"})


def test_list_without_paging_is_a_400_with_field_messages(sim: Sim) -> None:
    with pytest.raises(ClientError) as caught:
        sim.client.get("status/")
    assert caught.value.status_code == 400
    assert caught.value.json == {"message": {"offset": "is required", "limit": "is required"}}


def test_invalid_aggregation_start_is_a_422(sim: Sim) -> None:
    with pytest.raises(ClientError) as caught:
        sim.client.post("genai/evaluationDatasetMetricAggregations/", json={"chatName": "x"})
    assert caught.value.status_code == 422
    assert {e["type"] for e in caught.value.json["detail"]} == {"value_error.missing"}


def test_wrong_token_is_a_401_client_error(sim: Sim) -> None:
    dr.Client(endpoint=f"{sim.url}/api/v2", token="wrong-key")
    with pytest.raises(ClientError) as caught:
        JobStatus.get(GENAI_IDS["RUNNING"])
    assert caught.value.status_code == 401


def test_bearer_token_type_is_accepted(sim: Sim) -> None:
    dr.Client(endpoint=f"{sim.url}/api/v2", token=KEY, token_type="Bearer")
    assert JobStatus.get(GENAI_IDS["RUNNING"]).status == "RUNNING"


def test_server_error_is_a_server_error(sim: Sim) -> None:
    sim.state.arm(Fault("server_error", status=500))
    with pytest.raises(ServerError):
        JobStatus.get(GENAI_IDS["RUNNING"])


@pytest.mark.parametrize("status", [429, 413])
def test_client_honours_retry_after_and_retries(sim: Sim, status: int) -> None:
    sim.state.arm(Fault("rate_limit", status=status, retry_after=0))
    assert JobStatus.get(GENAI_IDS["RUNNING"]).status == "RUNNING"
    path = f"GET /api/v2/genai/status/{GENAI_IDS['RUNNING']}/"
    assert sim.state.requests[path] == 2  # one refusal, one retry


# -- canonical submission -------------------------------------------------------------------------


def test_sdk_create_sends_the_body_the_adapter_builds(sim: Sim) -> None:
    insight = InsightsConfiguration(
        insight_name="Faithfulness", insight_type="Quality metric", aggregation_types=["average"]
    )
    job_id = EvaluationDatasetMetricAggregation.create(
        chat_name="sdk-eval",
        llm_blueprint_ids=["66b0c1d2e3f4a5b6c7d8e9cc", "66b0c1d2e3f4a5b6c7d8e9ce"],
        evaluation_dataset_configuration_id="66b0c1d2e3f4a5b6c7d8e9dd",
        insights_configuration=[insight],
    )
    sent = sim.state.jobs[job_id].data["aggregation"]
    assert sent["insightsConfiguration"][0]["insightName"] == "Faithfulness"  # camelCase wire
    canonical = SubmitRequest(
        evaluation="66b0c1d2e3f4a5b6c7d8e9dd",
        targets=[
            Target(model="66b0c1d2e3f4a5b6c7d8e9cc"),
            Target(model="66b0c1d2e3f4a5b6c7d8e9ce"),
        ],
        name="sdk-eval",
        vendor_options={"insightsConfiguration": sent["insightsConfiguration"]},
    )
    context = BackendContext(backend="dr", vendor=VENDOR, base_url=sim.url)
    assert to_submission(context, canonical) == sent


def test_sdk_reads_a_job_the_adapter_submitted(sim: Sim) -> None:
    canonical = SubmitRequest(
        evaluation="66b0c1d2e3f4a5b6c7d8e9dd",
        targets=[Target(model="66b0c1d2e3f4a5b6c7d8e9cc")],
        name="gateway-eval",
        vendor_options={"insightsConfiguration": [{"insightName": "Correctness"}]},
    )

    async def submit() -> list[Any]:
        context = BackendContext(backend="dr", vendor=VENDOR, base_url=sim.url)
        headers = DataRobotAdapter.auth_headers(KEY, "token")
        async with httpx.AsyncClient(base_url=sim.url, headers=headers) as http:
            return await DataRobotAdapter(context, http).submit(canonical)

    (job,) = asyncio.run(submit())
    status = JobStatus.get(job.vendor_job_id)  # the client's strict trafaret accepts it
    assert (status.status_id, status.status) == (job.vendor_job_id, job.vendor_status)
    sim.state.clock.advance(8)
    assert wait_for_async_resolution(sim.client, sim.status_url(job.vendor_job_id))["status"] == (
        "COMPLETED"
    )
    rows = EvaluationDatasetMetricAggregation.list(llm_blueprint_ids=["66b0c1d2e3f4a5b6c7d8e9cc"])
    assert [(row.chat_name, row.metric_name) for row in rows] == [("gateway-eval", "Correctness")]
