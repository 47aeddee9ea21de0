"""NeMo Evaluator adapters (v1 and v2) against the simulator, through recorded cassettes.

Record: `pytest tests/vendors/nemo_evaluator/test_cassettes.py --record-mode=once`;
replay (CI): `--record-mode=none`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.adapters import BackendContext
from gateway.contract import ListQuery
from gateway.errors import (
    InvalidRequest,
    JobAlreadyTerminal,
    JobNotFound,
    JobNotReady,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.schemas import JobStatus
from gateway.simulators import SimClock, SimState, client_for, create_app, sim_base_url
from gateway.vendors.nemo_evaluator.adapter import NemoAdapterBase
from gateway.vendors.nemo_evaluator.sim.data import V1_STATUSES, V2_STATUSES, v1_id, v2_id
from gateway.vendors.nemo_evaluator.v1 import NemoV1Adapter, NemoV2Adapter
from tests.support.cassettes import cassette_dir

VENDOR = "nemo-evaluator"
KEY = "sim-key-nemo-evaluator"
ADAPTERS: dict[str, type[NemoAdapterBase]] = {"v1": NemoV1Adapter, "v2": NemoV2Adapter}

pytestmark = pytest.mark.vcr


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return cassette_dir(VENDOR)


def seeded_id(api: str, word: str) -> str:
    """The deterministic id the simulator gives its seeded job in `word`."""
    return v1_id("eval", f"v1-{word}") if api == "v1" else v2_id(f"v2-{word}")


def ref(api: str, word: str) -> JobRef:
    return JobRef("nemo", (seeded_id(api, word),))


class Backend:
    """An adapter wired to a fresh simulator (frozen clock) plus a control client for faults."""

    def __init__(self, api: str, sent_key: str | None = KEY) -> None:
        state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)
        self.app = create_app(VENDOR, state=state)
        cls = ADAPTERS[api]
        headers = cls.auth_headers(sent_key, "bearer") if sent_key else None
        context = BackendContext(
            backend="nemo",
            vendor=VENDOR,
            api_version=api,
            base_url=sim_base_url(VENDOR),
            secrets=(KEY,),
        )
        self.http = client_for(VENDOR, self.app, headers=headers)
        self.adapter = cls(context, self.http)

    async def fault(self, **fault: Any) -> None:
        answer = await self.http.post("/_sim/faults", json=fault)
        assert answer.status_code == 201

    async def advance(self, seconds: float) -> None:
        answer = await self.http.post("/_sim/clock", json={"advance": seconds})
        assert answer.status_code == 200


@pytest.fixture
async def nemo_v1() -> AsyncIterator[Backend]:
    backend = Backend("v1")
    yield backend
    await backend.http.aclose()


@pytest.fixture
async def nemo_v2() -> AsyncIterator[Backend]:
    backend = Backend("v2")
    yield backend
    await backend.http.aclose()


V1_EXPECTED = {
    "created": JobStatus.QUEUED,
    "pending": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "cancelled": JobStatus.CANCELLED,
    "cancelling": JobStatus.CANCELLING,
    "failed": JobStatus.FAILED,
    "completed": JobStatus.SUCCEEDED,
    "ready": JobStatus.UNKNOWN,
    "unknown": JobStatus.UNKNOWN,
}
V2_EXPECTED = {
    "created": JobStatus.QUEUED,
    "pending": JobStatus.QUEUED,
    "active": JobStatus.RUNNING,
    "cancelled": JobStatus.CANCELLED,
    "cancelling": JobStatus.CANCELLING,
    "error": JobStatus.FAILED,
    "completed": JobStatus.SUCCEEDED,
    "paused": JobStatus.PAUSED,
    "pausing": JobStatus.PAUSED,
    "resuming": JobStatus.RUNNING,
}


def test_tables_cover_every_documented_word() -> None:
    assert set(V1_EXPECTED) == set(V1_STATUSES)
    assert set(V2_EXPECTED) == set(V2_STATUSES)


# -- every status ------------------------------------------------------------------------------


@pytest.mark.parametrize("word", V1_STATUSES)
async def test_v1_every_seeded_status(nemo_v1: Backend, word: str) -> None:
    job = await nemo_v1.adapter.get_job(ref("v1", word))
    assert (job.status, job.vendor_status) == (V1_EXPECTED[word], word)
    assert job.id == f"nemo~{seeded_id('v1', word)}"
    assert job.created_at is not None
    assert job.created_at.tzinfo is not None
    assert (job.error is not None) == (word == "failed")
    if word == "running":
        assert job.progress == pytest.approx(0.425)
    if word == "failed":
        assert job.error is not None
        assert job.error.detail == "Error connecting to inference server"


@pytest.mark.parametrize("word", V2_STATUSES)
async def test_v2_every_seeded_status(nemo_v2: Backend, word: str) -> None:
    job = await nemo_v2.adapter.get_job(ref("v2", word))
    assert (job.status, job.vendor_status, job.api_version) == (V2_EXPECTED[word], word, "v2")
    assert job.name == f"eval-v2-{word}"
    assert (job.error is not None) == (word == "error")


async def test_v1_moving_job_follows_its_lifecycle(nemo_v1: Backend) -> None:
    job_ref = ref("v1", "lifecycle")
    seen = []
    # Steps land mid-stage: created 1 s -> pending 1 s -> running 5 s -> completed.
    for step in (0.5, 1.0, 1.5, 2.5, 2.0):
        await nemo_v1.advance(step)
        job = await nemo_v1.adapter.get_job(job_ref)
        seen.append((job.vendor_status, job.progress))
    assert seen == [
        ("created", None),
        ("pending", None),
        ("running", 0.2),
        ("running", 0.7),
        ("completed", None),
    ]


async def test_undocumented_status_is_unknown(nemo_v1: Backend, nemo_v2: Backend) -> None:
    for backend, api in ((nemo_v1, "v1"), (nemo_v2, "v2")):
        await backend.fault(kind="undocumented_status")
        job = await backend.adapter.get_job(ref(api, "completed"))
        assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, "sim_undocumented_status")


# -- results -----------------------------------------------------------------------------------


async def test_v1_result(nemo_v1: Backend) -> None:
    result = await nemo_v1.adapter.get_result(ref("v1", "completed"))
    assert result.status is JobStatus.SUCCEEDED
    metrics = {(m.group, m.name): m for m in result.metrics}
    assert metrics["qa", "bleu.sentence"].value == 32.5
    assert metrics["qa", "bleu.sentence"].stats == {
        "count": 200,
        "sum": 6500.0,
        "mean": 32.5,
        "stderr": 1.3,
    }
    assert metrics["evaluation", "bleu.corpus"].value == 30.1
    assert {a.rel: a.media_type for a in result.artifacts}["download-results"] == "application/zip"


async def test_v2_result(nemo_v2: Backend) -> None:
    result = await nemo_v2.adapter.get_result(ref("v2", "completed"))
    assert {(m.group, m.name) for m in result.metrics} == {
        ("qa", "bleu.sentence"),
        ("qa", "bleu.corpus"),
        ("evaluation", "bleu.corpus"),
    }
    artifacts = {a.rel: a.href for a in result.artifacts}
    assert artifacts["artifacts"].endswith("/results/artifacts/download")
    assert artifacts["result:evaluation-results"].startswith("hf://datasets/default/job-")


@pytest.mark.parametrize(
    ("api", "word", "status"),
    [
        ("v1", "running", "running"),
        ("v1", "failed", "failed"),
        ("v1", "ready", "unknown"),
        ("v2", "paused", "paused"),
        ("v2", "error", "failed"),
    ],
)
async def test_result_of_unfinished_job_is_not_ready(
    nemo_v1: Backend, nemo_v2: Backend, api: str, word: str, status: str
) -> None:
    backend = nemo_v1 if api == "v1" else nemo_v2
    with pytest.raises(JobNotReady) as not_ready:
        await backend.adapter.get_result(ref(api, word))
    assert not_ready.value.job_status == status
    assert not_ready.value.job_id == f"nemo~{seeded_id(api, word)}"


# -- cancel ------------------------------------------------------------------------------------


async def test_v1_cancel_answers_the_job_after_the_cancel(nemo_v1: Backend) -> None:
    job = await nemo_v1.adapter.cancel_job(ref("v1", "running"))
    assert (job.status, job.vendor_status) == (JobStatus.CANCELLING, "cancelling")
    await nemo_v1.advance(1.5)
    job = await nemo_v1.adapter.get_job(ref("v1", "running"))
    assert (job.status, job.terminal) == (JobStatus.CANCELLED, True)


async def test_v2_cancel_answers_the_job(nemo_v2: Backend) -> None:
    job = await nemo_v2.adapter.cancel_job(ref("v2", "paused"))
    assert (job.status, job.vendor_status) == (JobStatus.CANCELLING, "cancelling")


@pytest.mark.parametrize("api", ["v1", "v2"])
async def test_cancel_of_a_finished_job_is_job_already_terminal(
    nemo_v1: Backend, nemo_v2: Backend, api: str
) -> None:
    backend = nemo_v1 if api == "v1" else nemo_v2
    with pytest.raises(JobAlreadyTerminal) as refused:
        await backend.adapter.cancel_job(ref(api, "completed"))
    assert refused.value.vendor_status_code == 409
    assert "cannot be cancelled" in refused.value.vendor_error["detail"]


# -- lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("api", "count"), [("v1", 10), ("v2", 11)])
async def test_list_pages_through_every_job(
    nemo_v1: Backend, nemo_v2: Backend, api: str, count: int
) -> None:
    adapter = (nemo_v1 if api == "v1" else nemo_v2).adapter
    ids: list[str] = []
    cursor: dict[str, Any] | None = None
    pages = 0
    while True:
        page = await adapter.list_jobs(ListQuery(page_size=4, cursor=cursor))
        pages += 1
        assert page.total == count
        ids.extend(job.id for job in page.jobs)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert len(ids) == len(set(ids)) == count


@pytest.mark.parametrize(
    ("api", "status", "words"),
    [
        ("v1", JobStatus.FAILED, ["failed"]),
        ("v1", JobStatus.CANCELLING, ["cancelling"]),
        ("v2", JobStatus.SUCCEEDED, ["completed"]),
        ("v2", JobStatus.FAILED, ["error"]),
    ],
)
async def test_list_passes_a_one_word_status_filter(
    nemo_v1: Backend, nemo_v2: Backend, api: str, status: JobStatus, words: list[str]
) -> None:
    adapter = (nemo_v1 if api == "v1" else nemo_v2).adapter
    page = await adapter.list_jobs(ListQuery(status=status))
    assert [job.vendor_status for job in page.jobs] == words
    assert page.total == len(words)


async def test_list_with_a_several_word_status_is_left_to_the_core(nemo_v2: Backend) -> None:
    # paused = paused | pausing: v2's filter[status] takes one word, so nothing is filtered.
    page = await nemo_v2.adapter.list_jobs(ListQuery(status=JobStatus.PAUSED, page_size=50))
    assert page.total == 11
    assert {"paused", "pausing"} <= {job.vendor_status for job in page.jobs}


async def test_list_rejected_page_size_is_invalid_request_with_field_errors(
    nemo_v1: Backend,
) -> None:
    with pytest.raises(InvalidRequest) as bad:
        await nemo_v1.adapter.list_jobs(ListQuery(page_size=0))
    assert bad.value.errors is not None
    assert [(e.loc, e.type) for e in bad.value.errors] == [
        (["query", "page_size"], "greater_than_equal")
    ]


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["v1", "v2"])
async def test_unknown_job_is_job_not_found(nemo_v1: Backend, nemo_v2: Backend, api: str) -> None:
    backend = nemo_v1 if api == "v1" else nemo_v2
    # A v1 id is not a v2 job and the other way round.
    other = "v2" if api == "v1" else "v1"
    for operation in (backend.adapter.get_job, backend.adapter.cancel_job):
        with pytest.raises(JobNotFound) as missing:
            await operation(ref(other, "running"))
        assert missing.value.vendor_status_code == 404
        assert missing.value.vendor_error == {
            "detail": f"Job {seeded_id(other, 'running')} not found"
        }


@pytest.mark.parametrize("sent_key", [None, "sim-key-wrong"])
async def test_wrong_or_missing_key_is_upstream_auth_failed(sent_key: str | None) -> None:
    backend = Backend("v1", sent_key=sent_key)
    with pytest.raises(UpstreamAuthFailed) as refused:
        await backend.adapter.get_job(ref("v1", "running"))
    assert refused.value.vendor_status_code == 401
    expected = "Not authenticated" if sent_key is None else "Invalid authentication credentials"
    assert refused.value.vendor_error == {"detail": expected}
    await backend.http.aclose()


async def test_rate_limit_is_typed_with_retry_after(nemo_v2: Backend) -> None:
    await nemo_v2.fault(kind="rate_limit", retry_after=3)
    with pytest.raises(UpstreamRateLimited) as limited:
        await nemo_v2.adapter.list_jobs(ListQuery())
    assert (limited.value.retry_after, limited.value.retryable) == (3.0, True)
    assert limited.value.vendor_error == {"detail": "Too Many Requests"}


async def test_server_error_is_upstream_error(nemo_v1: Backend) -> None:
    await nemo_v1.fault(kind="server_error", status=500)
    with pytest.raises(UpstreamError) as failed:
        await nemo_v1.adapter.get_job(ref("v1", "running"))
    assert (failed.value.vendor_status_code, failed.value.retryable) == (500, True)
    assert failed.value.vendor_error == {"detail": "Simulated server error"}


@pytest.mark.parametrize("kind", ["malformed_body", "truncated_body"])
async def test_unreadable_body_is_invalid_response(nemo_v1: Backend, kind: str) -> None:
    await nemo_v1.fault(kind=kind)
    with pytest.raises(UpstreamInvalidResponse):
        await nemo_v1.adapter.get_job(ref("v1", "running"))


async def test_malformed_job_id_never_reaches_the_vendor(nemo_v1: Backend) -> None:
    with pytest.raises(InvalidRequest):
        await nemo_v1.adapter.get_job(JobRef("nemo", ("a", "b")))


def test_auth_header_is_bearer() -> None:
    assert NemoV1Adapter.auth_headers(KEY, "bearer") == {"Authorization": f"Bearer {KEY}"}
    assert NemoV2Adapter.auth_schemes == ("bearer",)
