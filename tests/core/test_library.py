"""The embeddable library, async and sync, on the embedded defaults (simulated vendors)."""

from __future__ import annotations

import httpx
import pytest

from gateway import (
    AsyncGateway,
    Gateway,
    InvalidRequest,
    JobNotReady,
    JobStatus,
    UnknownBackend,
    UpstreamTimeout,
    UpstreamUnavailable,
    config_from_dict,
    format_job_id,
)
from gateway.simulators import Fault, Stage, vendor_sim


def new_job(
    gw: AsyncGateway | Gateway, backend: str, *stages: Stage, data: dict[str, str] | None = None
) -> str:
    vendor = gw.config.backends[backend].vendor
    sim = vendor_sim(vendor)
    job = sim.new_job(gw.simulator(backend), list(stages), dict(data or {}))
    return format_job_id(backend, *sim.id_parts(job))


async def test_aliases_reach_their_backend_and_ids_name_the_real_backend() -> None:
    async with AsyncGateway() as gw:
        assert gw.backend("evals").name == gw.config.aliases["evals"]
        job_id = new_job(gw, "overmind-sim", Stage("running"))
        job = await gw.get_job(job_id)
        assert job.id == job_id and job.backend == "overmind-sim"
        names = {b.name: b for b in gw.backends()}
        assert "evals" in names[gw.config.aliases["evals"]].aliases


async def test_raw_vendor_payload_only_on_request() -> None:
    async with AsyncGateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("completed"))
        assert (await gw.get_job(job_id)).raw is None
        raw = (await gw.get_job(job_id, include_raw=True)).raw
        assert raw is not None and raw["status"] == "completed"


async def test_result_before_success_is_job_not_ready_with_current_status() -> None:
    async with AsyncGateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("running"))
        with pytest.raises(JobNotReady) as caught:
            await gw.get_result(job_id)
        assert caught.value.job_status == "running"
        problem = caught.value.problem()
        assert (problem.status, problem.job_id, problem.backend) == (409, job_id, "overmind-sim")


async def test_a_job_moves_with_the_simulator_clock() -> None:
    async with AsyncGateway() as gw:
        state = gw.simulator("overmind-sim")
        state.clock.freeze()
        job_id = new_job(
            gw, "overmind-sim", Stage("pending", 5), Stage("running", 5), Stage("completed")
        )
        seen = []
        for _ in range(3):
            seen.append((await gw.get_job(job_id, fresh=True)).status)
            state.clock.advance(5)
        assert seen == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED]
        result = await gw.get_result(job_id)
        assert result.job_id == job_id and result.status is JobStatus.SUCCEEDED


async def test_unknown_backend_and_malformed_ids_are_typed_problems() -> None:
    async with AsyncGateway() as gw:
        with pytest.raises(UnknownBackend):
            await gw.get_job("nope~123")
        with pytest.raises(InvalidRequest):
            await gw.get_job("not an id")
        with pytest.raises(InvalidRequest, match="2 part"):
            await gw.get_job("ls-sim~only-one-part")
        with pytest.raises(InvalidRequest, match="status"):
            await gw.list_jobs("overmind-sim", status="done")


async def test_list_pages_follow_tokens_and_filter_by_canonical_status() -> None:
    async with AsyncGateway() as gw:
        for _ in range(3):
            new_job(gw, "overmind-sim", Stage("running"))
        seen: list[str] = []
        token = None
        for _ in range(50):
            page = await gw.list_jobs("overmind-sim", page_size=2, page_token=token)
            assert len(page.items) <= 2
            seen.extend(j.id for j in page.items)
            token = page.next_page_token
            if token is None:
                break
        assert len(seen) == len(set(seen)) == len(gw.simulator("overmind-sim").jobs)
        running = await gw.list_jobs("overmind-sim", status="running", page_size=200)
        assert running.items and all(j.status is JobStatus.RUNNING for j in running.items)
        with pytest.raises(InvalidRequest, match="another backend"):
            await gw.list_jobs("do-sim", page_token=page_token_of(gw))


def page_token_of(gw: AsyncGateway) -> str:
    from gateway.paging import encode_page_token

    return encode_page_token("overmind-sim", {"page": 2})


async def test_vendor_faults_become_typed_problems() -> None:
    async with AsyncGateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("running"))
        state = gw.simulator("overmind-sim")
        state.arm(Fault("drop_connection"))  # one drop: retried on a fresh connection
        assert (await gw.get_job(job_id)).status is JobStatus.RUNNING
        # An outage on a job never seen before (nothing to serve stale): retries run out.
        unseen = new_job(gw, "overmind-sim", Stage("running"))
        state.arm(Fault("drop_connection", remaining=10))
        with pytest.raises(UpstreamUnavailable) as caught:
            await gw.get_job(unseen)
        assert caught.value.backend == "overmind-sim"
        assert caught.value.job_id == unseen
        assert caught.value.attempts == gw.config.backends["overmind-sim"].retry.max_attempts


async def test_a_call_never_outlives_the_backends_total_timeout() -> None:
    config = config_from_dict(
        {
            "backends": {
                "om": {
                    "vendor": "overmind",
                    "base_url": "sim://overmind",
                    "timeouts": {"total": 0.2},
                }
            }
        }
    )
    async with AsyncGateway(config) as gw:
        job_id = new_job(gw, "om", Stage("running"))
        gw.simulator("om").arm(Fault("delay", seconds=2.0))
        with pytest.raises(UpstreamTimeout):
            await gw.get_job(job_id)


async def test_injected_transport_replaces_the_network() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(
            200,
            json={
                "id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
                "status": "running",
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "iterations": [],
            },
        )

    config = config_from_dict(
        {
            "backends": {
                "om": {
                    "vendor": "overmind",
                    "base_url": "https://api.overmind.test",
                    "api_key": "${OM_KEY}",
                }
            }
        },
        env={"OM_KEY": "ovr_test_key_123"},
    )
    transport = httpx.MockTransport(handler)
    async with AsyncGateway(config, transports={"om": transport}) as gw:
        job = await gw.get_job("om~182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")
        assert "ovr_test_key_123" not in repr(gw.backend("om"))
    assert job.status is JobStatus.RUNNING
    assert calls == ["https://api.overmind.test/api/jobs/182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e/"]


def test_sync_gateway_does_the_same_in_blocking_code() -> None:
    with Gateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("completed"))
        job = gw.get_job(job_id)
        assert job.status is JobStatus.SUCCEEDED and job.terminal
        assert gw.get_result(job_id).job_id == job_id
        assert {b.name for b in gw.backends()} == set(gw.config.backends)
        with pytest.raises(UnknownBackend):
            gw.get_job("nope~1")


async def test_a_job_started_outside_the_gateway_is_reachable_by_its_vendor_ids() -> None:
    async with AsyncGateway() as gw:
        state = gw.simulator("overmind-sim")
        outside = vendor_sim("overmind").new_job(state, [Stage("running")], {})
        job_id = gw.job_id("overmind-sim", outside.id)
        assert (await gw.get_job(job_id)).vendor_job_id == outside.id
        with pytest.raises(InvalidRequest, match="benchmark_id, job_id"):
            gw.job_id("ls-sim", "only-the-job-id")
        # An alias resolves to the backend it points at today.
        assert gw.job_id("evals", "eval-1").startswith(gw.config.aliases["evals"] + "~")


async def test_polls_within_the_running_ttl_cost_one_vendor_call() -> None:
    async with AsyncGateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("running"))
        state = gw.simulator("overmind-sim")
        before = sum(state.requests.values())
        first = await gw.fetch_job(job_id)
        again = await gw.fetch_job(job_id)
        assert (first.cache.value, again.cache.value) == ("miss", "hit")
        assert again.value == first.value
        assert sum(state.requests.values()) - before == 1
        fresh = await gw.fetch_job(job_id, fresh=True)
        assert fresh.cache.value == "bypass"
        assert sum(state.requests.values()) - before == 2


async def test_cancel_invalidates_the_cached_job() -> None:
    async with AsyncGateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("running"))
        assert (await gw.get_job(job_id)).status is JobStatus.RUNNING
        cancelled = await gw.cancel_job(job_id)
        assert cancelled.status is JobStatus.CANCELLED
        assert (await gw.get_job(job_id)).status is JobStatus.CANCELLED


async def test_a_vendor_outage_is_retried_then_served_stale_and_marked() -> None:
    async with AsyncGateway() as gw:
        job_id = new_job(gw, "overmind-sim", Stage("running"))
        state = gw.simulator("overmind-sim")
        state.arm(Fault("server_error", status=503))
        job = await gw.get_job(job_id, fresh=True)  # one 503, then a retried success
        assert job.status is JobStatus.RUNNING
        assert not job.stale
        state.arm(Fault("server_error", remaining=10, status=503))
        stale = await gw.fetch_job(job_id, fresh=True)
        assert stale.cache.value == "stale"
        assert stale.value.stale
        assert stale.value.status is JobStatus.RUNNING
