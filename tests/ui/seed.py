"""Fill a ledger file before the board's gateway starts: many synthetic jobs (paging), written
through the ledger's own API, as the gateway would have observed them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gateway.config import LedgerConfig
from gateway.ids import format_job_id
from gateway.schemas import Job, JobStatus

BULK_BACKEND = "ls-sim"  # a configured llama-stack backend: ids have (benchmark, job) parts
BULK_BENCHMARK = "bulk"
BULK_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.QUEUED, JobStatus.CANCELLED)
VENDOR_WORDS = {
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.QUEUED: "scheduled",
    JobStatus.CANCELLED: "cancelled",
}


def bulk_job(i: int, now: datetime) -> Job:
    status = BULK_STATUSES[i % len(BULK_STATUSES)]
    vendor_id = f"bulk-{i:06d}"
    return Job(
        id=format_job_id(BULK_BACKEND, BULK_BENCHMARK, vendor_id),
        backend=BULK_BACKEND,
        vendor="llama-stack",
        vendor_job_id=vendor_id,
        name=f"bulk run {i:06d}",
        status=status,
        vendor_status=VENDOR_WORDS[status],
        created_at=now - timedelta(minutes=i),
    )


async def _seed(url: str, count: int) -> None:
    from gateway.ledger import Ledger

    ledger = await Ledger.open(LedgerConfig(url=url, queue_max=max(10000, count + 10)))
    now = datetime.now(UTC)
    try:
        for i in range(count):
            ledger.observe(bulk_job(i, now), "sync")
            if i % 5000 == 4999:
                await ledger.flush()
        await ledger.flush()
    finally:
        await ledger.aclose()


def seed_ledger(url: str, count: int) -> None:
    asyncio.run(_seed(url, count))
