"""The DigitalOcean adapter against its simulator, through recorded cassettes.

Record: `pytest tests/vendors/test_digitalocean_genai_cassettes.py --record-mode=once`;
replay (CI): `--record-mode=none`. Faults are armed on the simulator state directly, so
the recordings hold only vendor traffic.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable

import pytest

from gateway.adapters import BackendContext
from gateway.contract import ListQuery, ResultQuery
from gateway.errors import (
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    UnsupportedOperation,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.schemas import JobStatus, Result
from gateway.simulators import (
    UNDOCUMENTED_STATUS,
    Fault,
    SimClock,
    SimState,
    client_for,
    create_app,
    sim_base_url,
)
from gateway.vendors.digitalocean_genai.adapter import DigitalOceanAdapter
from gateway.vendors.digitalocean_genai.sim.data import MOVING_RUN, SEEDED_RUNS
from tests.support.cassettes import cassette_dir

VENDOR = "digitalocean-genai"
KEY = "sim-key-digitalocean-genai"
BACKEND = "do-sim"
START = 1767225600.0
NOT_FOUND_MESSAGE = "The resource you requested could not be found."
SEEDED_ORDER = [
    # support-regression: version 1, then version 2 and the moving run
    "EVALUATION_RUN_SUCCESSFUL",
    "EVALUATION_RUN_FAILED",
    "EVALUATION_RUN_QUEUED",
    "EVALUATION_RUN_RUNNING_DATASET",
    "EVALUATION_RUN_EVALUATING_RESULTS",
    "EVALUATION_RUN_PARTIALLY_SUCCESSFUL",
    "moving",
    # refund-policy (empty-suite has no runs)
    "EVALUATION_RUN_CANCELLING",
    "EVALUATION_RUN_CANCELLED",
    "EVALUATION_RUN_STATUS_UNSPECIFIED",
]
ALL_RUNS = [MOVING_RUN if s == "moving" else SEEDED_RUNS[s] for s in SEEDED_ORDER]


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=START, frozen=True), api_key=KEY)


AdapterFactory = Callable[..., DigitalOceanAdapter]


@pytest.fixture
async def make_adapter(state: SimState) -> AsyncIterator[AdapterFactory]:
    """Adapters on one simulator: `make(key=..., cls=...)`; their clients close at the end."""
    app = create_app(VENDOR, state=state)
    made: list[DigitalOceanAdapter] = []

    def make(
        key: str | None = KEY, cls: type[DigitalOceanAdapter] = DigitalOceanAdapter
    ) -> DigitalOceanAdapter:
        headers = cls.auth_headers(key, "bearer") if key is not None else {}
        context = BackendContext(
            backend=BACKEND, vendor=VENDOR, base_url=sim_base_url(VENDOR), secrets=(KEY,)
        )
        adapter = cls(context, client_for(VENDOR, app, headers=headers))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        await adapter.http.aclose()


@pytest.fixture
def adapter(make_adapter: AdapterFactory) -> DigitalOceanAdapter:
    return make_adapter()


def ref(run_uuid: str) -> JobRef:
    return JobRef(BACKEND, (run_uuid,))


class SmallPages(DigitalOceanAdapter):
    results_page_size = 2


# -- jobs ------------------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("vendor_status", "status"),
    [
        ("EVALUATION_RUN_STATUS_UNSPECIFIED", JobStatus.UNKNOWN),
        ("EVALUATION_RUN_QUEUED", JobStatus.QUEUED),
        ("EVALUATION_RUN_RUNNING_DATASET", JobStatus.RUNNING),
        ("EVALUATION_RUN_EVALUATING_RESULTS", JobStatus.RUNNING),
        ("EVALUATION_RUN_CANCELLING", JobStatus.CANCELLING),
        ("EVALUATION_RUN_CANCELLED", JobStatus.CANCELLED),
        ("EVALUATION_RUN_SUCCESSFUL", JobStatus.SUCCEEDED),
        ("EVALUATION_RUN_PARTIALLY_SUCCESSFUL", JobStatus.PARTIALLY_SUCCEEDED),
        ("EVALUATION_RUN_FAILED", JobStatus.FAILED),
    ],
)
async def test_every_seeded_status(
    adapter: DigitalOceanAdapter, vendor_status: str, status: JobStatus
) -> None:
    run_uuid = SEEDED_RUNS[vendor_status]
    job = await adapter.get_job(ref(run_uuid))
    assert job.id == f"{BACKEND}~{run_uuid}"
    assert (job.status, job.vendor_status) == (status, vendor_status)
    assert job.terminal is status.terminal
    assert job.created_at is not None
    assert (job.error is not None) is (status is JobStatus.FAILED)
    assert (job.finished_at is not None) is status.terminal
    assert bool(job.metrics) is (status in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_SUCCEEDED))


@pytest.mark.vcr
async def test_moving_run_through_its_sub_stages(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    seen = []
    for _ in range(4):
        job = await adapter.get_job(ref(MOVING_RUN))
        seen.append((job.status, job.vendor_status, job.message))
        state.clock.advance(2.5)
    assert seen == [
        (JobStatus.QUEUED, "EVALUATION_RUN_QUEUED", None),
        (
            JobStatus.RUNNING,
            "EVALUATION_RUN_RUNNING_DATASET",
            "running the test case dataset through the agent",
        ),
        (JobStatus.RUNNING, "EVALUATION_RUN_EVALUATING_RESULTS", "evaluating the agent's answers"),
        (JobStatus.SUCCEEDED, "EVALUATION_RUN_SUCCESSFUL", None),
    ]


@pytest.mark.vcr
async def test_undocumented_status_is_unknown(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    state.arm(Fault("undocumented_status"))
    job = await adapter.get_job(ref(SEEDED_RUNS["EVALUATION_RUN_SUCCESSFUL"]))
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, UNDOCUMENTED_STATUS)


# -- results ---------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_result_pages_follow_the_vendors_pages(make_adapter: AdapterFactory) -> None:
    adapter = make_adapter(cls=SmallPages)
    pages: list[Result] = []
    cursor = None
    while len(pages) < 10:
        page = await adapter.get_result_page(
            ref(SEEDED_RUNS["EVALUATION_RUN_SUCCESSFUL"]), ResultQuery(2, cursor)
        )
        pages.append(page.result)
        if (cursor := page.next_cursor) is None:
            break
    assert [len(p.rows) for p in pages] == [2, 2, 1]  # one vendor page per caller page
    rows = [row for p in pages for row in p.rows]
    assert [row.id for row in rows] == ["1", "2", "3", "4", "5"]
    assert [row.index for row in rows] == [0, 1, 2, 3, 4]
    assert all(p.metrics == pages[0].metrics for p in pages)  # metrics on every page
    result = pages[0]
    assert result.status is JobStatus.SUCCEEDED
    first = result.rows[0]
    assert first.expected == "Go to Settings > Security > Reset password."
    assert (first.data["input_tokens"], first.data["output_tokens"]) == (387, 19)
    assert {s.name: s.value for s in first.scores}["Tone"] == "Neutral"
    metrics = {(m.group, m.name): m for m in result.metrics}
    assert metrics[("star_metric", "Correctness (general hallucinations)")].value == 78.9
    assert metrics[("star_metric", "pass_status")].value is True
    assert metrics[(None, "Context adherence")].value == 0.82


@pytest.mark.vcr
async def test_result_of_a_partial_success(adapter: DigitalOceanAdapter) -> None:
    result = await adapter.get_result(ref(SEEDED_RUNS["EVALUATION_RUN_PARTIALLY_SUCCESSFUL"]))
    assert result.status is JobStatus.PARTIALLY_SUCCEEDED
    assert len(result.rows) == 5
    toxicity = next(s for s in result.rows[0].scores if s.name == "Toxicity")
    assert (toxicity.value, toxicity.detail) == (None, "judge model timed out")


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("vendor_status", "status"),
    [
        ("EVALUATION_RUN_STATUS_UNSPECIFIED", JobStatus.UNKNOWN),
        ("EVALUATION_RUN_QUEUED", JobStatus.QUEUED),
        ("EVALUATION_RUN_EVALUATING_RESULTS", JobStatus.RUNNING),
        ("EVALUATION_RUN_CANCELLING", JobStatus.CANCELLING),
        ("EVALUATION_RUN_CANCELLED", JobStatus.CANCELLED),
        ("EVALUATION_RUN_FAILED", JobStatus.FAILED),
    ],
)
async def test_result_before_success_is_not_ready(
    adapter: DigitalOceanAdapter, vendor_status: str, status: JobStatus
) -> None:
    with pytest.raises(JobNotReady) as raised:
        await adapter.get_result(ref(SEEDED_RUNS[vendor_status]))
    assert raised.value.job_status == status.value
    assert raised.value.job_id == f"{BACKEND}~{SEEDED_RUNS[vendor_status]}"


@pytest.mark.vcr
async def test_result_once_the_moving_run_succeeded(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    with pytest.raises(JobNotReady):
        await adapter.get_result(ref(MOVING_RUN))
    state.clock.advance(10)
    result = await adapter.get_result(ref(MOVING_RUN))
    assert (result.status, len(result.rows)) == (JobStatus.SUCCEEDED, 5)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.parametrize("operation", ["get_job", "get_result"])
async def test_unknown_run_is_job_not_found(adapter: DigitalOceanAdapter, operation: str) -> None:
    with pytest.raises(JobNotFound) as raised:
        await getattr(adapter, operation)(ref("no-such-run"))
    problem = raised.value.problem()
    assert problem.vendor_status_code == 404
    assert problem.vendor_error["id"] == "not_found"
    assert problem.vendor_error["message"] == NOT_FOUND_MESSAGE
    assert re.fullmatch(r"[0-9a-f-]{36}", problem.vendor_error["request_id"])


@pytest.mark.vcr
async def test_burst_rate_limit_passes_retry_after_on(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    state.arm(Fault("rate_limit", retry_after=7))
    with pytest.raises(UpstreamRateLimited) as raised:
        await adapter.get_job(ref(MOVING_RUN))
    problem = raised.value.problem()
    assert (problem.retry_after, problem.retryable, problem.vendor_status_code) == (7.0, True, 429)
    assert problem.vendor_error["id"] == "too_many_requests"


@pytest.mark.vcr
async def test_server_error(adapter: DigitalOceanAdapter, state: SimState) -> None:
    state.arm(Fault("server_error", status=500))
    with pytest.raises(UpstreamError) as raised:
        await adapter.list_jobs(ListQuery())
    problem = raised.value.problem()
    assert (problem.slug, problem.retryable) == ("upstream-error", True)
    assert problem.vendor_error["id"] == "server_error"


@pytest.mark.vcr
@pytest.mark.parametrize("kind", ["malformed_body", "truncated_body"])
async def test_unreadable_body_is_invalid_response(
    adapter: DigitalOceanAdapter, state: SimState, kind: str
) -> None:
    state.arm(Fault(kind))
    with pytest.raises(UpstreamInvalidResponse):
        await adapter.get_job(ref(MOVING_RUN))


@pytest.mark.vcr
@pytest.mark.parametrize("key", ["wrong-key", None], ids=["wrong", "missing"])
async def test_refused_credential_is_upstream_auth_failed(
    make_adapter: AdapterFactory, key: str | None
) -> None:
    adapter = make_adapter(key=key)
    with pytest.raises(UpstreamAuthFailed) as raised:
        await adapter.get_job(ref(MOVING_RUN))
    assert raised.value.vendor_error["message"] == "Unable to authenticate you."
    with pytest.raises(UpstreamAuthFailed):
        await adapter.list_jobs(ListQuery())


async def test_cancel_is_unsupported(adapter: DigitalOceanAdapter) -> None:
    with pytest.raises(UnsupportedOperation, match="no cancel for agent evaluation runs"):
        await adapter.cancel_job(ref(MOVING_RUN))


# -- list --------------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_list_walks_every_test_case_in_pages(adapter: DigitalOceanAdapter) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await adapter.list_jobs(ListQuery(page_size=3, cursor=cursor))
        pages += 1
        assert len(page.jobs) <= 3
        assert page.total is None  # the vendor gives no total across test cases
        seen += [job.vendor_job_id for job in page.jobs]
        if page.next_cursor is None:
            break
        cursor = json.loads(json.dumps(page.next_cursor))  # what the core's page token holds
    assert seen == ALL_RUNS
    assert pages == 4


@pytest.mark.vcr
async def test_list_status_filter(adapter: DigitalOceanAdapter) -> None:
    page = await adapter.list_jobs(ListQuery(status=JobStatus.RUNNING))
    assert [(j.vendor_job_id, j.vendor_status) for j in page.jobs] == [
        (SEEDED_RUNS["EVALUATION_RUN_RUNNING_DATASET"], "EVALUATION_RUN_RUNNING_DATASET"),
        (SEEDED_RUNS["EVALUATION_RUN_EVALUATING_RESULTS"], "EVALUATION_RUN_EVALUATING_RESULTS"),
    ]
    assert page.next_cursor is None


@pytest.mark.vcr
async def test_list_skips_a_test_case_deleted_meanwhile(
    adapter: DigitalOceanAdapter, state: SimState
) -> None:
    state.arm(Fault("server_error", status=404, path=re.compile("11efb7d6.*/evaluation_runs$")))
    page = await adapter.list_jobs(ListQuery())
    assert [j.vendor_job_id for j in page.jobs] == ALL_RUNS[7:]


async def test_list_rejects_a_foreign_cursor(adapter: DigitalOceanAdapter) -> None:
    with pytest.raises(InvalidRequest):
        await adapter.list_jobs(ListQuery(cursor={"offset": 3}))
