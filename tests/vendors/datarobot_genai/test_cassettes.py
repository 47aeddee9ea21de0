"""DataRobotAdapter against the DataRobot simulator, recorded as vcrpy cassettes.

Record: `pytest tests/vendors/test_datarobot_genai_cassettes.py --record-mode=once`;
replay (CI): `--record-mode=none`. The simulator runs on a frozen clock, so recordings are
deterministic; faults are armed on the simulator state directly (no control-API traffic).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from gateway.adapters import BackendContext
from gateway.contract import ListQuery
from gateway.core.async_gateway import AsyncGateway
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
from gateway.schemas import FieldError, JobStatus, Link
from gateway.simulators import (
    Fault,
    SimClock,
    SimState,
    SimTransport,
    Stage,
    client_for,
    create_app,
    sim_base_url,
    vendor_sim,
)
from gateway.vendors.datarobot_genai.adapter import DataRobotAdapter
from gateway.vendors.datarobot_genai.sim.data import (
    CHAT_PROMPT_PATH,
    CLASSIC_IDS,
    CLASSIC_MOVING_ID,
    GENAI_IDS,
    GENAI_MOVING_ID,
    GENAI_REDIRECT_ID,
    PROJECT_PATH,
)
from tests.support.cassettes import cassette_dir

VENDOR = "datarobot-genai"
KEY = "sim-key-datarobot-genai"
BASE = sim_base_url(VENDOR)
BACKEND = "dr-sim"
CANONICAL = {
    "INITIALIZED": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "COMPLETED": JobStatus.SUCCEEDED,
    "ERROR": JobStatus.FAILED,
    "ABORTED": JobStatus.CANCELLED,
    "EXPIRED": JobStatus.EXPIRED,
}
Make = Callable[..., DataRobotAdapter]


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


@pytest.fixture
def app() -> Starlette:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)
    return create_app(VENDOR, state=state)


@pytest.fixture
async def make(app: Starlette) -> AsyncIterator[Make]:
    """Adapters over the simulator; `key`/`scheme` pick the credential they send."""
    made: list[DataRobotAdapter] = []

    def build(key: str | None = KEY, scheme: str = "token") -> DataRobotAdapter:
        headers = DataRobotAdapter.auth_headers(key, scheme) if key else None
        context = BackendContext(
            backend=BACKEND, vendor=VENDOR, base_url=BASE, secrets=(KEY,) if key else ()
        )
        adapter = DataRobotAdapter(context, client_for(VENDOR, app, headers=headers))
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        await adapter.http.aclose()


@pytest.fixture
def adapter(make: Make) -> DataRobotAdapter:
    return make()


def state(app: Starlette) -> SimState:
    sim: SimState = app.state.sim
    return sim


def genai(status_id: str) -> JobRef:
    return JobRef(BACKEND, ("genai", status_id))


def classic(status_id: str) -> JobRef:
    return JobRef(BACKEND, ("classic", status_id))


# -- every status value ---------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.parametrize("word", list(GENAI_IDS))
async def test_every_genai_status(adapter: DataRobotAdapter, word: str) -> None:
    job = await adapter.get_job(genai(GENAI_IDS[word]))
    assert (job.status, job.vendor_status) == (CANONICAL[word], word)
    assert job.id == f"{BACKEND}~genai~{GENAI_IDS[word]}"
    assert job.created_at is not None
    assert (job.error is not None) == (word in ("ERROR", "ABORTED", "EXPIRED"))


@pytest.mark.vcr
@pytest.mark.parametrize("word", [w for w in CLASSIC_IDS if w != "COMPLETED"])
async def test_every_pending_or_failed_classic_status(adapter: DataRobotAdapter, word: str) -> None:
    job = await adapter.get_job(classic(CLASSIC_IDS[word]))
    assert (job.status, job.vendor_status) == (CANONICAL[word], word)
    assert job.id == f"{BACKEND}~classic~{CLASSIC_IDS[word]}"


@pytest.mark.vcr
async def test_classic_303_is_succeeded_with_the_finished_resource(
    adapter: DataRobotAdapter,
) -> None:
    job = await adapter.get_job(classic(CLASSIC_IDS["COMPLETED"]))
    assert (job.status, job.vendor_status) == (JobStatus.SUCCEEDED, None)
    assert Link(rel="result", href=f"{BASE}{PROJECT_PATH}") in job.links
    result = await adapter.get_result(classic(CLASSIC_IDS["COMPLETED"]))
    assert result.status is JobStatus.SUCCEEDED
    assert result.artifacts == [Link(rel="result", href=f"{BASE}{PROJECT_PATH}")]


@pytest.mark.vcr
async def test_genai_303_is_treated_the_same(adapter: DataRobotAdapter) -> None:
    result = await adapter.get_result(genai(GENAI_REDIRECT_ID))
    assert result.artifacts == [Link(rel="result", href=f"{BASE}{CHAT_PROMPT_PATH}")]


@pytest.mark.vcr
@pytest.mark.parametrize(
    ("status_id", "kind"), [(GENAI_MOVING_ID, "genai"), (CLASSIC_MOVING_ID, "classic")]
)
async def test_moving_lifecycle(
    adapter: DataRobotAdapter, app: Starlette, status_id: str, kind: str
) -> None:
    ref = JobRef(BACKEND, (kind, status_id))
    seen = []
    for _ in range(3):
        seen.append((await adapter.get_job(ref)).status)
        state(app).clock.advance(4)
    assert seen == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]


@pytest.mark.vcr
async def test_307_is_followed_once(adapter: DataRobotAdapter, app: Starlette) -> None:
    target = f"/api/v2/status/{CLASSIC_IDS['ERROR']}/"
    moved = vendor_sim(VENDOR).new_job(
        state(app), [Stage("RUNNING")], {"kind": "genai", "redirect_to": target}
    )
    job = await adapter.get_job(genai(moved.id))
    # The answer is the status at the Location, for the job asked about: it keeps the id it
    # was asked by (polled again, the 307 is followed again); the body names the other id.
    assert (job.status, job.id) == (JobStatus.FAILED, f"{BACKEND}~genai~{moved.id}")
    assert job.raw is not None and job.raw["statusId"] == CLASSIC_IDS["ERROR"]


@pytest.mark.vcr
async def test_bare_string_body_is_read_leniently(
    adapter: DataRobotAdapter, app: Starlette
) -> None:
    bare = vendor_sim(VENDOR).new_job(state(app), [Stage("RUNNING")], {"bare_string": True})
    job = await adapter.get_job(genai(bare.id))
    assert (job.status, job.vendor_status, job.raw) == (JobStatus.RUNNING, "RUNNING", None)


@pytest.mark.vcr
async def test_undocumented_status_is_unknown(adapter: DataRobotAdapter, app: Starlette) -> None:
    state(app).arm(Fault("undocumented_status"))
    job = await adapter.get_job(genai(GENAI_IDS["RUNNING"]))
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, "sim_undocumented_status")


# -- results and cancel ---------------------------------------------------------------------------


@pytest.mark.vcr
async def test_result_of_a_completed_genai_status(adapter: DataRobotAdapter) -> None:
    result = await adapter.get_result(genai(GENAI_IDS["COMPLETED"]))
    assert (result.status, result.artifacts, result.metrics) == (JobStatus.SUCCEEDED, [], [])
    assert result.raw is not None and result.raw["status"] == "COMPLETED"


@pytest.mark.vcr
@pytest.mark.parametrize("word", ["INITIALIZED", "RUNNING", "ERROR", "ABORTED", "EXPIRED"])
async def test_result_before_success_is_not_ready(adapter: DataRobotAdapter, word: str) -> None:
    with pytest.raises(JobNotReady) as caught:
        await adapter.get_result(genai(GENAI_IDS[word]))
    assert caught.value.job_status == CANONICAL[word].value


@pytest.mark.parametrize("kind", ["genai", "classic"])
async def test_cancel_is_unsupported_and_says_why(adapter: DataRobotAdapter, kind: str) -> None:
    with pytest.raises(UnsupportedOperation, match="only destroys the status record"):
        await adapter.cancel_job(JobRef(BACKEND, (kind, CLASSIC_IDS["RUNNING"])))


async def test_unknown_kind_is_invalid_before_any_call(adapter: DataRobotAdapter) -> None:
    with pytest.raises(InvalidRequest, match="genai, classic"):
        await adapter.get_job(JobRef(BACKEND, ("chat", GENAI_IDS["RUNNING"])))


# -- list -----------------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_list_pages_through_every_classic_status(adapter: DataRobotAdapter) -> None:
    seen: list[str] = []
    cursor: dict[str, Any] | None = None
    pages = 0
    while True:
        listed = await adapter.list_jobs(ListQuery(page_size=3, cursor=cursor))
        seen += [job.vendor_job_id for job in listed.jobs]
        pages += 1
        assert all(job.id.startswith(f"{BACKEND}~classic~") for job in listed.jobs)
        if listed.next_cursor is None:
            break
        assert listed.next_cursor == {"offset": len(seen)}
        cursor = listed.next_cursor
    assert pages == 3
    assert seen == [*CLASSIC_IDS.values(), CLASSIC_MOVING_ID]


@pytest.mark.vcr
async def test_status_filter_through_the_gateway(app: Starlette) -> None:
    state(app).api_key = None  # the config below carries no credential
    config = {"backends": {BACKEND: {"vendor": VENDOR, "base_url": BASE}}}
    async with AsyncGateway(config, transports={BACKEND: SimTransport(app)}) as gateway:
        page = await gateway.list_jobs(BACKEND, status="failed", page_size=50)
    assert [job.vendor_job_id for job in page.items] == [CLASSIC_IDS["ERROR"]]
    assert page.next_page_token is None


@pytest.mark.vcr
async def test_deleted_status_disappears_from_the_list(
    adapter: DataRobotAdapter, app: Starlette
) -> None:
    async with client_for(VENDOR, app, headers=DataRobotAdapter.auth_headers(KEY, "token")) as http:
        deleted = await http.delete(f"/api/v2/status/{CLASSIC_IDS['ABORTED']}/")
    assert deleted.status_code == 204
    listed = await adapter.list_jobs(ListQuery(page_size=50))
    assert CLASSIC_IDS["ABORTED"] not in [job.vendor_job_id for job in listed.jobs]
    with pytest.raises(JobNotFound):
        await adapter.get_job(classic(CLASSIC_IDS["ABORTED"]))


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_non_uuid_genai_id_is_invalid_with_field_errors(adapter: DataRobotAdapter) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await adapter.get_job(genai("not-a-uuid"))
    assert caught.value.errors == [
        FieldError(
            loc=["path", "statusId"], msg="value is not a valid uuid", type="type_error.uuid"
        )
    ]
    assert caught.value.vendor_status_code == 422


@pytest.mark.vcr
async def test_unknown_genai_id_is_not_found(adapter: DataRobotAdapter) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(JobNotFound) as caught:
        await adapter.get_job(genai(missing))
    assert caught.value.vendor_error == {"detail": f"Job status {missing} not found."}


@pytest.mark.vcr
async def test_unknown_classic_id_is_not_found(adapter: DataRobotAdapter) -> None:
    with pytest.raises(JobNotFound) as caught:
        await adapter.get_result(classic("5f2b9a0c8e1d4a00ffffffff"))
    assert caught.value.vendor_error == {"message": "Not Found"}


@pytest.mark.vcr
@pytest.mark.parametrize("status", [429, 413])
async def test_rate_limits_pass_retry_after_on(
    adapter: DataRobotAdapter, app: Starlette, status: int
) -> None:
    state(app).arm(Fault("rate_limit", status=status, retry_after=3))
    with pytest.raises(UpstreamRateLimited) as caught:
        await adapter.get_job(genai(GENAI_IDS["RUNNING"]))
    assert (caught.value.retry_after, caught.value.vendor_status_code) == (3.0, status)
    assert caught.value.retryable is True


@pytest.mark.vcr
async def test_server_error_is_upstream_error(adapter: DataRobotAdapter, app: Starlette) -> None:
    state(app).arm(Fault("server_error", status=500))
    with pytest.raises(UpstreamError) as caught:
        await adapter.list_jobs(ListQuery())
    assert caught.value.vendor_error == {"message": "Simulated server error"}


@pytest.mark.vcr
async def test_malformed_body_is_an_invalid_response(
    adapter: DataRobotAdapter, app: Starlette
) -> None:
    state(app).arm(Fault("malformed_body"))
    with pytest.raises(UpstreamInvalidResponse):
        await adapter.get_job(classic(CLASSIC_IDS["RUNNING"]))


# -- auth -----------------------------------------------------------------------------------------


@pytest.mark.vcr
async def test_bearer_scheme_is_accepted(make: Make) -> None:
    job = await make(scheme="bearer").get_job(genai(GENAI_IDS["RUNNING"]))
    assert job.status is JobStatus.RUNNING


@pytest.mark.vcr
@pytest.mark.parametrize("key", ["wrong-key", None], ids=["wrong", "missing"])
async def test_wrong_or_missing_key_is_upstream_auth_failed(make: Make, key: str | None) -> None:
    with pytest.raises(UpstreamAuthFailed) as caught:
        await make(key=key).get_job(genai(GENAI_IDS["RUNNING"]))
    assert caught.value.vendor_status_code == 401
