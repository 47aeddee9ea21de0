"""The ledger through the library: every read and submission is remembered, on SQLite and
PostgreSQL; a job the vendor purged is answered from the ledger; keys survive a restart."""

from __future__ import annotations

import re

import pytest

from gateway import AsyncGateway
from gateway.errors import Forbidden, GatewayError, InvalidRequest, JobNotFound, LedgerUnavailable
from gateway.ids import parse_job_id
from gateway.schemas import JobStatus
from gateway.simulators import Fault
from tests.ledger_integration.conftest import NAMED_REQUEST, OM_REQUEST, gateway_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def flushed(gw: AsyncGateway) -> None:
    ledger = await gw.open_ledger()
    await ledger.flush()


async def test_reads_are_recorded_once_per_change(ledger_url: str) -> None:
    async with AsyncGateway(gateway_config(ledger_url)) as gw:
        page = await gw.list_jobs("nemo")
        job = page.items[0]
        await gw.get_job(job.id)  # a cache hit or the same answer: no new history row
        await gw.get_job(job.id, fresh=True)
        await flushed(gw)
        listed = await gw.jobs(backend="nemo", page_size=500)
        assert {r.id for r in listed.items} == {j.id for j in page.items}
        assert sum(listed.counts.values()) == len(page.items)
        history = await gw.history(job.id)
        assert [c.observed_by for c in history.changes] == ["read"]
        assert history.changes[0].status is job.status


async def test_a_submission_is_recorded_with_who_and_what(ledger_url: str) -> None:
    async with AsyncGateway(gateway_config(ledger_url)) as gw:
        done = await gw.submit("nemo", NAMED_REQUEST, idempotency_key="k-1", tenant="alice")
        await flushed(gw)
        record = await gw.job_record(done.jobs[0].id)
        assert record.caller == "alice" and record.idempotency_key == "k-1"
        assert record.submission is not None and record.submission["name"] == "ledger-it"
        assert record.backend == "nemo" and not record.outcome_unknown
        assert [c.observed_by for c in (await gw.history(record.id)).changes] == ["submit"]
        mine = await gw.jobs(caller="alice", name_contains="LEDGER")
        assert [r.id for r in mine.items] == [record.id]


async def test_an_idempotency_key_survives_a_restart(ledger_url: str) -> None:
    config = gateway_config(ledger_url)
    async with AsyncGateway(config) as first:
        made = await first.submit("om", OM_REQUEST, idempotency_key="restart-key")
        vendor = first.simulator("om")
    # A new process: nothing in memory, only the ledger remembers the key. Same simulator
    # state, so a second vendor job would show.
    async with AsyncGateway(config, sim_states={"om": vendor}) as second:
        before = len(vendor.jobs)
        again = await second.submit("om", OM_REQUEST, idempotency_key="restart-key")
        assert again.replayed and [j.id for j in again.jobs] == [j.id for j in made.jobs]
        assert len(vendor.jobs) == before
        with pytest.raises(InvalidRequest, match="different request"):
            await second.submit(
                "om", {**OM_REQUEST, "evaluation": "x"}, idempotency_key="restart-key"
            )


async def test_an_unknown_outcome_is_kept_and_never_resubmitted(ledger_url: str) -> None:
    config = gateway_config(ledger_url)
    async with AsyncGateway(config) as first:
        vendor = first.simulator("om")
        vendor.arm(Fault("drop_connection", remaining=5, path=re.compile("^/api/jobs/$")))
        with pytest.raises(GatewayError) as dropped:
            await first.submit("om", OM_REQUEST, idempotency_key="lost")
        assert dropped.value.vendor_status_code is None  # we cannot know what the vendor did
    vendor.faults.clear()
    async with AsyncGateway(config, sim_states={"om": vendor}) as second:
        with pytest.raises(GatewayError, match="will not submit again"):
            await second.submit("om", OM_REQUEST, idempotency_key="lost")
        ledger = await second.open_ledger()
        found = await ledger.find_submission("", "lost")
        assert found is not None and found.state == "unknown"


async def test_a_refusal_by_the_vendor_is_recorded_as_nothing_created(ledger_url: str) -> None:
    async with AsyncGateway(gateway_config(ledger_url)) as gw:
        gw.simulator("om").arm(Fault("server_error", path=re.compile("^/api/jobs/$"), status=400))
        with pytest.raises(GatewayError) as refused:
            await gw.submit("om", OM_REQUEST, idempotency_key="refused")
        assert refused.value.vendor_status_code == 400
        found = await (await gw.open_ledger()).find_submission("", "refused")
        assert found is not None and found.state == "refused" and found.job_ids == []


async def test_a_job_the_vendor_purged_is_answered_from_the_ledger(ledger_url: str) -> None:
    async with AsyncGateway(gateway_config(ledger_url)) as gw:
        made = (await gw.submit("om", OM_REQUEST)).jobs[0]
        await flushed(gw)
        vendor_id = parse_job_id(made.id).parts[-1]
        del gw.simulator("om").jobs[vendor_id]  # the vendor forgot it
        job = await gw.get_job(made.id, fresh=True)
        assert job.stale and job.status is made.status and job.id == made.id
        await flushed(gw)
        record = await gw.job_record(made.id)
        assert not record.at_vendor and record.status is made.status
        # A watch does not wait on a job nobody can read any more.
        with pytest.raises(JobNotFound):
            await gw.wait(made.id, timeout=5)
        # One the ledger never saw is still not found.
        with pytest.raises(JobNotFound):
            await gw.get_job("om~00000000-0000-4000-8000-000000000000", fresh=True)


async def test_bad_filters_are_typed_and_scopes_hold(ledger_url: str) -> None:
    async with AsyncGateway(gateway_config(ledger_url)) as gw:
        await gw.list_jobs("nemo")
        await flushed(gw)
        with pytest.raises(InvalidRequest, match="unknown status"):
            await gw.jobs(status="done")
        with pytest.raises(InvalidRequest, match="page_size"):
            await gw.jobs(page_size=100_000)
        with pytest.raises(InvalidRequest):
            await gw.jobs(page_token="not-a-token")
        with pytest.raises(InvalidRequest, match="unknown alias"):
            await gw.jobs(alias="nope")
        with pytest.raises(Forbidden):
            await gw.jobs(backend="nemo", tenant_backends=frozenset({"om"}))
        scoped = await gw.jobs(tenant_backends=frozenset({"om", "evals"}))
        assert scoped.items == [] and scoped.counts == {}
        running = await gw.jobs(status=["running", JobStatus.QUEUED], backend="nemo")
        assert {r.status for r in running.items} <= {JobStatus.RUNNING, JobStatus.QUEUED}


async def test_a_ledger_that_is_down_keeps_reads_and_refuses_submissions(
    tmp_path: object,
) -> None:
    down = "postgresql+asyncpg://nobody@127.0.0.1:9/none"  # nothing listens on port 9
    async with AsyncGateway(gateway_config(down)) as gw:
        page = await gw.list_jobs("nemo")  # served from the vendor all the same
        assert page.items
        with pytest.raises(LedgerUnavailable, match="nothing was sent"):
            await gw.submit("om", OM_REQUEST)
        assert gw.simulator("om").requests.get("POST /api/jobs/", 0) == 0
        assert gw.ledger_handle is not None and gw.ledger_handle.status().state == "degraded"
    async with AsyncGateway(gateway_config(down, require_for_submit=False)) as gw:
        assert (await gw.submit("om", OM_REQUEST)).jobs


async def test_watch_polls_are_recorded_as_watch(ledger_url: str) -> None:
    config = gateway_config(ledger_url)
    config["backends"]["om"]["cache"] = {"enabled": False}
    async with AsyncGateway(config) as gw:
        made = (await gw.submit("om", OM_REQUEST)).jobs[0]
        gw.simulator("om").clock.advance(24 * 3600)  # it finished while nobody looked
        done = await gw.wait(made.id, timeout=10)
        await flushed(gw)
        changes = (await gw.history(made.id)).changes
        assert [c.observed_by for c in changes] == ["submit", "watch"]
        assert changes[-1].status is done.status and done.terminal


async def test_a_given_ledger_is_used_and_left_open(ledger_url: str) -> None:
    from gateway.config import LedgerConfig
    from gateway.ledger import Ledger

    ledger = await Ledger.open(LedgerConfig(url=ledger_url))
    try:
        async with AsyncGateway(
            gateway_config("sqlite+aiosqlite:///unused.db"), ledger=ledger
        ) as gw:
            assert gw.ledger is ledger
            job = (await gw.list_jobs("nemo")).items[0]
        await ledger.flush()  # still open after the gateway closed: its owner closes it
        record = await ledger.get(job.id)
        assert record is not None and record.status is job.status
    finally:
        await ledger.aclose()
