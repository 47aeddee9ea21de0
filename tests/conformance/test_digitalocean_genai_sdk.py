"""DigitalOcean's official SDK (gradient 3.12.2, strict response validation) reads the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

pytest.importorskip("gradient")

from gradient import (
    AsyncGradient,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)

from gateway.adapters import BackendContext
from gateway.schemas import SubmitRequest
from gateway.simulators import (
    Fault,
    SimClock,
    SimState,
    SimTransport,
    create_app,
    sim_base_url,
)
from gateway.vendors.digitalocean_genai.adapter import to_submission
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

pytestmark = pytest.mark.sdk

VENDOR = "digitalocean-genai"
KEY = "sim-key-digitalocean-genai"
SUCCESSFUL = SEEDED_RUNS["EVALUATION_RUN_SUCCESSFUL"]


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)


def sdk_client(state: SimState, token: str = KEY) -> AsyncGradient:
    app = create_app(VENDOR, state=state)
    return AsyncGradient(
        access_token=token,
        base_url=sim_base_url(VENDOR),
        http_client=httpx.AsyncClient(transport=SimTransport(app)),
        _strict_response_validation=True,
        max_retries=0,  # the typed errors are under test, not the SDK's retries
    )


@pytest.fixture
async def client(state: SimState) -> AsyncIterator[AsyncGradient]:
    sdk = sdk_client(state)
    yield sdk
    await sdk.close()


@pytest.mark.parametrize("vendor_status", sorted(SEEDED_RUNS))
async def test_every_seeded_run_parses(client: AsyncGradient, vendor_status: str) -> None:
    answer = await client.agents.evaluation_runs.retrieve(SEEDED_RUNS[vendor_status])
    run = answer.evaluation_run
    assert run is not None
    assert run.status == vendor_status
    assert run.evaluation_run_uuid == SEEDED_RUNS[vendor_status]
    assert run.queued_at is not None and run.queued_at.tzinfo is not None
    if vendor_status in ("EVALUATION_RUN_SUCCESSFUL", "EVALUATION_RUN_PARTIALLY_SUCCESSFUL"):
        assert run.star_metric_result is not None
        assert run.star_metric_result.metric_value_type == "METRIC_VALUE_TYPE_PERCENTAGE"
        assert run.run_level_metric_results
        assert run.pass_status is True


async def test_moving_run_parses_in_every_stage(client: AsyncGradient, state: SimState) -> None:
    seen = []
    for _ in range(4):
        run = (await client.agents.evaluation_runs.retrieve(MOVING_RUN)).evaluation_run
        assert run is not None
        seen.append(run.status)
        state.clock.advance(2.5)
    assert seen[-1] == "EVALUATION_RUN_SUCCESSFUL"
    assert len(set(seen)) == 4


async def test_results_pages_and_prompt_result(client: AsyncGradient) -> None:
    runs = client.agents.evaluation_runs
    first = await runs.list_results(SUCCESSFUL, page=1, per_page=2)
    assert first.meta is not None and (first.meta.page, first.meta.pages) == (1, 3)
    assert first.links is not None and first.links.pages is not None
    assert first.links.pages.next is not None and first.links.pages.previous is None
    assert first.prompts is not None and [p.prompt_id for p in first.prompts] == [1, 2]
    prompt = first.prompts[0]
    assert (prompt.input_tokens, prompt.output_tokens) == ("387", "19")
    assert prompt.evaluation_trace_spans is not None
    assert prompt.evaluation_trace_spans[0].type == "TRACE_SPAN_TYPE_LLM"
    last = await runs.list_results(SUCCESSFUL, page=3, per_page=2)
    assert last.links is not None and last.links.pages is not None
    assert last.links.pages.previous is not None and last.links.pages.next is None
    single = await runs.retrieve_results(2, evaluation_run_uuid=SUCCESSFUL)
    assert single.prompt is not None and single.prompt.ground_truth == "30 days."
    partial = SEEDED_RUNS["EVALUATION_RUN_PARTIALLY_SUCCESSFUL"]
    scored = await runs.retrieve_results(1, evaluation_run_uuid=partial)
    assert scored.prompt is not None and scored.prompt.prompt_level_metric_results is not None
    failed = [m for m in scored.prompt.prompt_level_metric_results if m.error_description]
    assert [m.metric_name for m in failed] == ["Toxicity"]


async def test_create_run_and_read_it_back(client: AsyncGradient) -> None:
    created = await client.agents.evaluation_runs.create(
        test_case_uuid=REFUND_POLICY,
        agent_uuids=[
            "1b418231-b7d6-11ef-bf8f-4e013e2ddde4",
            "2b418231-b7d6-11ef-bf8f-4e013e2ddde4",
        ],
        run_name="My Evaluation Run",
    )
    assert created.evaluation_run_uuids is not None and len(created.evaluation_run_uuids) == 2
    run = (
        await client.agents.evaluation_runs.retrieve(created.evaluation_run_uuids[1])
    ).evaluation_run
    assert run is not None and run.agent_name == "support-bot-canary"


async def test_the_adapters_create_body_is_the_sdks_create_call(client: AsyncGradient) -> None:
    # What the adapter would POST for two agents and one deployment, sent through the SDK's
    # typed create (its keyword arguments are exactly the vendor's body fields).
    request = SubmitRequest.model_validate(
        {
            "evaluation": SUPPORT_REGRESSION,
            "targets": [
                {"type": "agent", "agent": "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"},
                {"type": "agent", "agent": "support-adk"},
                {"type": "agent", "agent": "2b418231-b7d6-11ef-bf8f-4e013e2ddde4"},
            ],
            "name": "gateway-submission",
            "vendor_options": {"agent_deployment_names": ["support-adk"]},
        }
    )
    body = to_submission(BackendContext(backend="do", vendor=VENDOR), request)
    created = await client.agents.evaluation_runs.create(**body)
    assert created.evaluation_run_uuids is not None and len(created.evaluation_run_uuids) == 3
    runs = []
    for run_uuid in created.evaluation_run_uuids:
        run = (await client.agents.evaluation_runs.retrieve(run_uuid)).evaluation_run
        assert run is not None and run.status == "EVALUATION_RUN_QUEUED"
        assert (run.run_name, run.test_case_uuid) == ("gateway-submission", SUPPORT_REGRESSION)
        runs.append((run.agent_name, run.agent_deployment_name))
    assert runs == [("support-bot", None), ("support-bot-canary", None), (None, "support-adk")]


async def test_create_without_a_run_name_parses(client: AsyncGradient) -> None:
    created = await client.agents.evaluation_runs.create(
        test_case_uuid=REFUND_POLICY, agent_deployment_names=["support-adk"]
    )
    assert created.evaluation_run_uuids is not None and len(created.evaluation_run_uuids) == 1
    run = (
        await client.agents.evaluation_runs.retrieve(created.evaluation_run_uuids[0])
    ).evaluation_run
    assert run is not None and run.run_name and run.agent_uuid is None


async def test_create_for_an_unknown_test_case_is_the_sdks_not_found_error(
    client: AsyncGradient,
) -> None:
    with pytest.raises(NotFoundError):
        await client.agents.evaluation_runs.create(
            test_case_uuid="no-such-case", agent_uuids=["1b418231-b7d6-11ef-bf8f-4e013e2ddde4"]
        )


async def test_test_cases(client: AsyncGradient) -> None:
    cases = client.agents.evaluation_test_cases
    listed = await cases.list()
    assert listed.evaluation_test_cases is not None
    assert [c.test_case_uuid for c in listed.evaluation_test_cases] == [
        SUPPORT_REGRESSION,
        REFUND_POLICY,
        EMPTY_SUITE,
    ]
    got = await cases.retrieve(SUPPORT_REGRESSION, evaluation_test_case_version=1)
    assert got.evaluation_test_case is not None and got.evaluation_test_case.version == 1
    assert got.evaluation_test_case.dataset is not None
    assert got.evaluation_test_case.dataset.file_size == "900"
    runs = await cases.list_evaluation_runs(SUPPORT_REGRESSION)
    assert runs.evaluation_runs is not None and len(runs.evaluation_runs) == 7
    created = await cases.create(
        name="Test Case",
        dataset_uuid=SUPPORT_FAQ,
        metrics=[CORRECTNESS, TONE],
        star_metric={
            "metric_uuid": CORRECTNESS,
            "name": "Correctness",
            "success_threshold_pct": 80,
        },
    )
    assert created.test_case_uuid is not None
    updated = await cases.update(
        created.test_case_uuid, name="Renamed", metrics={"metric_uuids": [TONE]}
    )
    assert (updated.test_case_uuid, updated.version) == (created.test_case_uuid, 2)


async def test_metrics_catalog(client: AsyncGradient) -> None:
    metrics = await client.agents.evaluation_metrics.list()
    assert metrics.metrics is not None
    assert {m.metric_uuid for m in metrics.metrics} >= {CORRECTNESS, TONE}
    assert all(m.metric_type is not None for m in metrics.metrics)


async def test_not_found_is_the_sdks_not_found_error(client: AsyncGradient) -> None:
    with pytest.raises(NotFoundError) as raised:
        await client.agents.evaluation_runs.retrieve("no-such-run")
    assert raised.value.status_code == 404
    assert isinstance(raised.value.body, dict) and raised.value.body["id"] == "not_found"
    with pytest.raises(NotFoundError):
        await client.agents.evaluation_test_cases.list_evaluation_runs("no-such-case")


async def test_bad_request_is_the_sdks_bad_request_error(client: AsyncGradient) -> None:
    with pytest.raises(BadRequestError):
        await client.agents.evaluation_runs.create(test_case_uuid=REFUND_POLICY)


async def test_wrong_token_is_the_sdks_authentication_error(state: SimState) -> None:
    sdk = sdk_client(state, token="wrong")
    try:
        with pytest.raises(AuthenticationError) as raised:
            await sdk.agents.evaluation_runs.retrieve(SUCCESSFUL)
        assert raised.value.status_code == 401
    finally:
        await sdk.close()


async def test_rate_limit_is_the_sdks_rate_limit_error(
    client: AsyncGradient, state: SimState
) -> None:
    state.arm(Fault("rate_limit", retry_after=3))
    with pytest.raises(RateLimitError) as raised:
        await client.agents.evaluation_runs.retrieve(SUCCESSFUL)
    assert raised.value.response.headers["retry-after"] == "3"
    assert isinstance(raised.value.body, dict) and raised.value.body["id"] == "too_many_requests"


async def test_server_error_is_the_sdks_internal_server_error(
    client: AsyncGradient, state: SimState
) -> None:
    state.arm(Fault("server_error", status=500))
    with pytest.raises(InternalServerError) as raised:
        await client.agents.evaluation_test_cases.list()
    assert isinstance(raised.value.body, dict) and raised.value.body["id"] == "server_error"
