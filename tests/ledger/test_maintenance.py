"""Retention purge, export formats, and leases shared by replicas."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import sqlalchemy as sa

from gateway.ledger import Ledger, LedgerQuery
from gateway.ledger.records import now_us
from gateway.ledger.tables import jobs, status_changes
from gateway.schemas.status import JobStatus
from tests.ledger.conftest import OpenLedger, make_job

DAY_US = 86_400 * 1_000_000


async def _age(ledger: Ledger, job_id: str, days: int) -> None:
    """Pretend the job was last changed and seen `days` ago."""
    past = now_us() - days * DAY_US
    async with ledger.engine.begin() as conn:
        await conn.execute(
            jobs.update().where(jobs.c.id == job_id).values(updated_us=past, last_seen_us=past)
        )


async def test_purge_removes_old_records_and_their_timelines_only(ledger: Ledger) -> None:
    for n in range(3):
        ledger.observe(make_job(n, JobStatus.SUCCEEDED), "read")
    await ledger.flush()
    await _age(ledger, "ls-sim~bench~0", 40)
    await _age(ledger, "ls-sim~bench~1", 10)
    assert await ledger.purge(retention_days=30) == 1
    assert await ledger.get("ls-sim~bench~0") is None
    assert await ledger.history("ls-sim~bench~0") == []
    assert await ledger.get("ls-sim~bench~1") is not None
    async with ledger.engine.connect() as conn:
        left = await conn.execute(sa.select(sa.func.count()).select_from(status_changes))
        assert left.scalar_one() == 2
    assert await ledger.purge(retention_days=30) == 0


async def test_export_streams_every_matching_record_as_jsonl_and_csv(ledger: Ledger) -> None:
    for n in range(1200):  # more than one internal page
        status = JobStatus.SUCCEEDED if n % 3 else JobStatus.FAILED
        ledger.observe(make_job(n, status, name=f'eval, "quoted" {n}'), "sync")
    await ledger.flush()
    query = LedgerQuery(statuses=(JobStatus.SUCCEEDED,), sort="created")
    lines = [chunk async for chunk in ledger.export(query, "jsonl")]
    records = [json.loads(line) for line in lines]
    assert len(records) == 800 and all(line.endswith(b"\n") for line in lines)
    assert records[0]["id"] == "ls-sim~bench~1" and records[0]["status"] == "succeeded"
    assert records[0]["vendor_ids"] == ["job-1"]
    text = b"".join([chunk async for chunk in ledger.export(query, "csv")]).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 800
    assert rows[0]["id"] == "ls-sim~bench~1"
    assert rows[0]["name"] == 'eval, "quoted" 1'
    assert json.loads(rows[0]["vendor_ids"]) == ["job-1"]
    assert rows[0]["terminal"] == "true"
    scoped = LedgerQuery(allowed_backends=frozenset({"do-sim"}))
    assert [chunk async for chunk in ledger.export(scoped, "jsonl")] == []


async def test_a_lease_has_exactly_one_owner_across_replicas(open_ledger: OpenLedger) -> None:
    one, two = await open_ledger(), await open_ledger()
    results = await asyncio.gather(
        *(ledger.try_lease("refresher", name, 30) for ledger, name in [(one, "a"), (two, "b")] * 5)
    )
    owners = {name for ok, name in zip(results, ["a", "b"] * 5, strict=True) if ok}
    assert len(owners) == 1
    owner = owners.pop()
    holder, other = (one, two) if owner == "a" else (two, one)
    other_name = "b" if owner == "a" else "a"
    assert await holder.try_lease("refresher", owner, 30)  # the owner renews
    assert not await other.try_lease("refresher", other_name, 30)
    assert await other.try_lease("sync", other_name, 30)  # leases are per name
    # The owner stops renewing (killed): once it expires, the other replica takes over.
    assert await holder.try_lease("refresher", owner, 0.001)
    await asyncio.sleep(0.01)
    assert await other.try_lease("refresher", other_name, 30)
    assert not await holder.try_lease("refresher", owner, 30)
