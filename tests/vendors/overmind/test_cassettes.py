"""OvermindAdapter against the Overmind simulator, recorded as vcrpy cassettes.

Record: `pytest tests/vendors/overmind/test_cassettes.py --record-mode=once`; CI replays them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from gateway.adapters import BackendContext
from gateway.contract import ListQuery
from gateway.errors import (
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from gateway.ids import JobRef
from gateway.schemas import JobStatus
from gateway.simulators import Fault, SimClock, SimState, client_for, create_app, sim_base_url
from gateway.vendors.overmind.adapter import OvermindAdapter
from gateway.vendors.overmind.sim.data import SEEDED
from tests.support.cassettes import cassette_dir

KEY = "sim-key-overmind"
MISSING_JOB = "00000000-0000-4000-8000-000000000000"
pytestmark = pytest.mark.vcr


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir("overmind")


@dataclass
class Rig:
    adapter: OvermindAdapter
    state: SimState
    sent: list[httpx.Request] = field(default_factory=list)


def make_rig(key: str | None = KEY, scheme: str = "x-api-key") -> Rig:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)
    app = create_app("overmind", state=state)
    headers = OvermindAdapter.auth_headers(key, scheme) if key is not None else None
    client = client_for("overmind", app, headers=headers)
    context = BackendContext(
        backend="om-sim", vendor="overmind", base_url=sim_base_url("overmind"), secrets=(KEY,)
    )
    rig = Rig(OvermindAdapter(context, client), state)

    async def remember(request: httpx.Request) -> None:
        rig.sent.append(request)  # event hooks run in replay too, unlike the simulator

    client.event_hooks["request"].append(remember)
    return rig


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    made = make_rig()
    yield made
    await made.adapter.http.aclose()


def ref(name_or_id: str) -> JobRef:
    return JobRef("om-sim", (SEEDED.get(name_or_id, name_or_id),))


# -- every status ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seeded", "canonical"),
    [
        ("pending", JobStatus.QUEUED),
        ("running", JobStatus.RUNNING),
        ("waiting_user", JobStatus.PAUSED),
        ("completed", JobStatus.SUCCEEDED),
        ("failed", JobStatus.FAILED),
        ("cancelled", JobStatus.CANCELLED),
    ],
)
async def test_each_seeded_status(rig: Rig, seeded: str, canonical: JobStatus) -> None:
    job = await rig.adapter.get_job(ref(seeded))
    assert job.status is canonical
    assert job.vendor_status == seeded
    assert job.id == f"om-sim~{SEEDED[seeded]}"
    assert job.links[0].href == f"http://overmind.sim.invalid/api/jobs/{SEEDED[seeded]}/"
    assert [str(rig.sent[0].url.path)] == [f"/api/jobs/{SEEDED[seeded]}/"]


async def test_failed_job_carries_the_vendor_error(rig: Rig) -> None:
    job = await rig.adapter.get_job(ref("failed"))
    assert job.error is not None
    assert job.error.detail == "dataset has no eval rows"
    assert job.error.vendor_error == {"error": "dataset has no eval rows"}


async def test_running_job_has_summary_scores_and_no_error(rig: Rig) -> None:
    job = await rig.adapter.get_job(ref("running"))
    assert {m.name: m.value for m in job.metrics} == {
        "best_score": 0.69,
        "baseline_score": 0.64,
        "improvement": 0.05,
    }
    assert job.error is None
    assert job.message is None  # the drifted `error` field is "" on healthy jobs


async def test_moving_lifecycle_then_result(rig: Rig) -> None:
    job_ref = ref("lifecycle")
    assert (await rig.adapter.get_job(job_ref)).status is JobStatus.QUEUED
    rig.state.clock.advance(3)
    running = await rig.adapter.get_job(job_ref)
    assert running.status is JobStatus.RUNNING
    with pytest.raises(JobNotReady) as not_ready:
        await rig.adapter.get_result(job_ref)
    assert not_ready.value.job_status == "running"
    rig.state.clock.advance(5)
    done = await rig.adapter.get_job(job_ref)
    assert done.status is JobStatus.SUCCEEDED and done.terminal
    result = await rig.adapter.get_result(job_ref)
    assert len(result.rows) == 3
    assert [row.data["status"] for row in result.rows] == ["keep", "discard", "keep"]
    assert {m.name: m.value for m in result.metrics}["best_score"] == 0.79


# -- results -------------------------------------------------------------------------------------


async def test_result_of_the_completed_job(rig: Rig) -> None:
    result = await rig.adapter.get_result(ref("completed"))
    assert result.status is JobStatus.SUCCEEDED
    assert {m.name: m.value for m in result.metrics} == {
        "best_score": 0.79,
        "baseline_score": 0.64,
        "improvement": 0.15,
    }
    assert [row.data["iteration_name"] for row in result.rows] == [
        "iteration_1",
        "iteration_2",
        "iteration_3",
    ]
    assert {s.name for s in result.rows[0].scores} == {"avg_score", "accuracy", "format"}
    assert result.raw is not None and result.raw["result"] == {"best_iteration": "iteration_3"}


@pytest.mark.parametrize(
    ("seeded", "canonical"),
    [("pending", "queued"), ("waiting_user", "paused"), ("failed", "failed")],
)
async def test_result_before_success_is_job_not_ready(
    rig: Rig, seeded: str, canonical: str
) -> None:
    with pytest.raises(JobNotReady) as caught:
        await rig.adapter.get_result(ref(seeded))
    assert caught.value.job_status == canonical
    assert caught.value.job_id == f"om-sim~{SEEDED[seeded]}"


# -- cancel --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seeded", ["running", "waiting_user", "pending"])
async def test_cancel_patches_the_status_to_cancelled(rig: Rig, seeded: str) -> None:
    job = await rig.adapter.cancel_job(ref(seeded))
    assert job.status is JobStatus.CANCELLED
    assert job.vendor_status == "cancelled"
    patch = [r for r in rig.sent if r.method == "PATCH"]
    assert len(patch) == 1 and patch[0].content == b'{"status":"cancelled"}'
    assert (await rig.adapter.get_job(ref(seeded))).status is JobStatus.CANCELLED


@pytest.mark.parametrize(
    ("seeded", "canonical"),
    [("completed", JobStatus.SUCCEEDED), ("failed", JobStatus.FAILED)],
)
async def test_cancel_of_a_finished_job_returns_it_unchanged(
    rig: Rig, seeded: str, canonical: JobStatus
) -> None:
    job = await rig.adapter.cancel_job(ref(seeded))
    assert job.status is canonical
    assert [r.method for r in rig.sent] == ["GET"]


async def test_cancel_of_a_missing_job_is_job_not_found(rig: Rig) -> None:
    with pytest.raises(JobNotFound):
        await rig.adapter.cancel_job(ref(MISSING_JOB))


# -- errors --------------------------------------------------------------------------------------


async def test_missing_job_is_job_not_found_with_the_vendor_body(rig: Rig) -> None:
    with pytest.raises(JobNotFound) as caught:
        await rig.adapter.get_job(ref(MISSING_JOB))
    assert caught.value.vendor_status_code == 404
    assert caught.value.vendor_error == {"detail": "No Job matches the given query."}


async def test_a_job_id_that_is_not_a_uuid_is_refused_before_any_call(rig: Rig) -> None:
    with pytest.raises(InvalidRequest):
        await rig.adapter.get_job(JobRef("om-sim", ("../api/jobs",)))
    assert rig.sent == []


@pytest.mark.parametrize(
    ("key", "message"),
    [("wrong-key", "Invalid API key."), (None, "Authentication credentials were not provided.")],
    ids=["wrong", "missing"],
)
async def test_wrong_or_missing_key_is_upstream_auth_failed(key: str | None, message: str) -> None:
    rig = make_rig(key)
    with pytest.raises(UpstreamAuthFailed) as caught:
        await rig.adapter.get_job(ref("running"))
    assert caught.value.vendor_error == {"detail": message}
    assert caught.value.vendor_status_code == 401


async def test_bearer_scheme_is_accepted() -> None:
    rig = make_rig(KEY, "bearer")
    assert (await rig.adapter.get_job(ref("running"))).status is JobStatus.RUNNING


async def test_throttled_is_rate_limited_with_retry_after(rig: Rig) -> None:
    rig.state.arm(Fault("rate_limit", retry_after=12))
    with pytest.raises(UpstreamRateLimited) as caught:
        await rig.adapter.get_job(ref("running"))
    assert caught.value.retry_after == 12.0
    assert caught.value.vendor_error == {
        "detail": "Request was throttled. Expected available in 12 seconds."
    }


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        (500, UpstreamError),
        (503, UpstreamUnavailable),
        (402, UpstreamError),
        (403, UpstreamAuthFailed),
        (400, InvalidRequest),
    ],
)
async def test_vendor_error_statuses(rig: Rig, status: int, problem: type[Exception]) -> None:
    rig.state.arm(Fault("server_error", status=status))
    with pytest.raises(problem) as caught:
        await rig.adapter.get_job(ref("running"))
    assert type(caught.value) is problem
    assert getattr(caught.value, "vendor_status_code", None) == status


async def test_server_crash_page_is_kept_as_vendor_error(rig: Rig) -> None:
    rig.state.arm(Fault("server_error", status=500))
    with pytest.raises(UpstreamError) as caught:
        await rig.adapter.get_job(ref("running"))
    assert "Server Error (500)" in str(caught.value.vendor_error)


@pytest.mark.parametrize("kind", ["malformed_body", "truncated_body"])
async def test_unreadable_bodies_are_upstream_invalid_response(rig: Rig, kind: str) -> None:
    rig.state.arm(Fault(kind))
    with pytest.raises(UpstreamInvalidResponse):
        await rig.adapter.get_job(ref("completed"))


async def test_undocumented_status_word_is_unknown(rig: Rig) -> None:
    rig.state.arm(Fault("undocumented_status"))
    job = await rig.adapter.get_job(ref("completed"))
    assert job.status is JobStatus.UNKNOWN
    assert job.vendor_status == "sim_undocumented_status"
    assert not job.terminal


# -- list ------------------------------------------------------------------------------------------


async def test_list_pages_through_every_job(rig: Rig) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await rig.adapter.list_jobs(ListQuery(page_size=3, cursor=cursor))
        pages += 1
        assert page.total == 7
        seen += [job.vendor_job_id for job in page.jobs]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(SEEDED.values())
    assert seen[0] == SEEDED["lifecycle"]  # newest first
    assert rig.sent[1].url.params["page"] == "2"


async def test_list_passes_a_status_filter_the_vendor_can_express(rig: Rig) -> None:
    page = await rig.adapter.list_jobs(ListQuery(status=JobStatus.SUCCEEDED))
    assert rig.sent[0].url.params["status"] == "completed"
    assert [job.vendor_job_id for job in page.jobs] == [SEEDED["completed"]]
    assert page.total == 1
    assert page.next_cursor is None


async def test_list_for_paused_leaves_filtering_to_the_core(rig: Rig) -> None:
    page = await rig.adapter.list_jobs(ListQuery(status=JobStatus.PAUSED))
    assert "status" not in rig.sent[0].url.params
    assert JobStatus.PAUSED in {job.status for job in page.jobs}


async def test_list_items_are_the_slim_shape(rig: Rig) -> None:
    page = await rig.adapter.list_jobs(ListQuery())
    completed = next(j for j in page.jobs if j.vendor_job_id == SEEDED["completed"])
    assert completed.raw is not None and "iterations" not in completed.raw
    assert {m.name for m in completed.metrics} == {"best_score", "baseline_score", "improvement"}


async def test_stale_page_token_is_invalid_request(rig: Rig) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await rig.adapter.list_jobs(ListQuery(cursor={"page": 99}))
    assert caught.value.vendor_error == {"detail": "Invalid page."}


async def test_list_with_a_wrong_key_is_upstream_auth_failed() -> None:
    rig = make_rig("wrong-key")
    with pytest.raises(UpstreamAuthFailed):
        await rig.adapter.list_jobs(ListQuery())
