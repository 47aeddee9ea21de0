"""Rows that follow the vendors, not only the ledger: on a page's live poll, the shown jobs that
are not terminal yet are read through the gateway (its cache and coalescing keep that to about
one vendor call per job per cache window, however many people watch). The read also tells the
ledger, which writes behind; the row shows the vendor's answer at once."""

from __future__ import annotations

import asyncio

from gateway.errors import GatewayError
from gateway.schemas import Job
from gateway.schemas.ledger import JobRecord
from gateway.server.auth import Caller
from gateway.server.holder import Generation

MAX_FRESHENED = 20  # rows read per poll; the rest wait for the ledger (or the refresher)
READ_SECONDS = 2.0  # a slow vendor leaves its rows as the ledger has them


async def _read(gen: Generation, caller: Caller, job_id: str) -> Job | None:
    try:
        async with asyncio.timeout(READ_SECONDS):
            return (await gen.gateway.fetch_job(job_id, tenant=caller.name)).value
    except (GatewayError, TimeoutError):
        return None  # the job page shows why; a table row keeps its last known state


async def freshen(gen: Generation, caller: Caller, records: list[JobRecord]) -> list[JobRecord]:
    moving = [r for r in records if not r.terminal][:MAX_FRESHENED]
    if not moving:
        return records
    answers = await asyncio.gather(*(_read(gen, caller, r.id) for r in moving))
    live = {job.id: job for job in answers if job is not None and not job.stale}
    fresh = []
    for record in records:
        job = live.get(record.id)
        if job is None or (job.status, job.vendor_status, job.progress) == (
            record.status,
            record.vendor_status,
            record.progress,
        ):
            fresh.append(record)
            continue
        fresh.append(
            record.model_copy(
                update={
                    "status": job.status,
                    "vendor_status": job.vendor_status,
                    "progress": job.progress,
                    "terminal": job.terminal,
                }
            )
        )
    return fresh
