"""Keeping the ledger current without callers: the refresher, the scheduled sync, retention.

Each runs in the serving process, in rounds, and takes a lease in the ledger first, so with
several replicas on one database one replica does a round, not every one:

- refresher (`ledger.refresher.enabled`): re-reads up to `batch` non-terminal jobs, least
  recently seen first, through the ordinary `fetch_job` (the same cache and coalescing as
  callers: a job callers poll anyway costs the vendor nothing more). It also settles the
  write-ahead intents left pending by a process that died mid-submit (see `resolve_orphans`).
- scheduled sync (`ledger.sync.schedule_seconds`): imports every backend's listing.
- retention (`ledger.retention_days`): purges old records, hourly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from gateway.errors import GatewayError, UpstreamTimeout
from gateway.ledger_jobs.importer import sync_backend
from gateway.schemas import Job

if TYPE_CHECKING:
    from gateway.core.async_gateway import AsyncGateway
    from gateway.ledger import Ledger, SubmissionRecord

log = logging.getLogger("gateway.ledger")
IDLE_POLL = 5.0  # seconds between looks at the config while a task is switched off
PURGE_EVERY = 3600.0
ORPHAN_POLL = 30.0  # seconds between looks for a dead process's pending submissions
ORPHAN_AFTER = 5.0  # seconds past a backend's deadline before a pending intent is an orphan
CLOCK_SKEW = timedelta(seconds=30)  # between our clock and the vendor's created_at
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
Current = Callable[[], "AsyncGateway"]


async def refresh_round(gw: AsyncGateway, owner: str = OWNER) -> int:
    """One refresher round (if this process holds the lease); the jobs it re-read."""
    settings = gw.config.ledger.refresher
    ledger = await gw.open_ledger()
    if not await ledger.try_lease("refresher", owner, settings.interval_seconds * 2 + 5):
        return 0
    read = 0
    for record in await ledger.non_terminal(settings.batch):
        if record.backend not in gw.config.backends:
            continue  # a backend this config no longer has
        # A failure is observed by the core (gone, or the problem); the next round retries.
        with contextlib.suppress(GatewayError):
            await gw.fetch_job(record.id, observed_by="refresher")
        read += 1
    return read


async def resolve_orphans(gw: AsyncGateway, ledger: Ledger) -> int:
    """Settle the intents whose process died between the write-ahead and the vendor's answer.

    The backend's listing is imported (so whatever the vendor created is in the ledger); an
    intent is linked to a listed job only when exactly one job not already owned by a
    submission matches its name and was created after it began. Otherwise it is marked
    outcome unknown: never submitted again, never guessed.
    """
    longest = max((g.deadline for g in (gw.guard(n) for n in gw.config.backends)), default=60.0)
    orphans = await ledger.unsettled_submissions(longest + ORPHAN_AFTER)
    pending = [o for o in orphans if o.state == "pending"]
    listed: dict[str, list[Job]] = {}
    for intent in pending:
        if intent.backend not in gw.config.backends:
            continue
        if intent.backend not in listed:
            listed[intent.backend] = (await sync_backend(gw, intent.backend)).jobs
            await ledger.flush()
        match = await _only_match(ledger, intent, listed[intent.backend])
        if match is not None:
            await ledger.settle_submission(intent.id, [match])
            log.info("submission %s settled after its gateway died: %s", intent.id, match.id)
        else:
            problem = UpstreamTimeout(
                "the gateway that sent this submission stopped before the vendor answered; "
                "it may or may not have created a job (see the backend's jobs)",
                backend=intent.backend,
                retryable=False,
            ).problem()
            await ledger.submission_unknown(intent.id, problem)
    return len(pending)


async def _only_match(ledger: Ledger, intent: SubmissionRecord, jobs: list[Job]) -> Job | None:
    name = intent.submission.get("name")
    if not name:
        return None  # nothing to tell its job from another one
    since = intent.created_at - CLOCK_SKEW
    found: list[Job] = []
    for job in jobs:
        if job.name != name or (job.created_at is not None and job.created_at < since):
            continue
        record = await ledger.get(job.id)
        if record is not None and record.submission is not None:
            continue  # another submission's job
        found.append(job)
    return found[0] if len(found) == 1 else None


async def _loop(current: Current, name: str) -> None:
    while True:
        gw = current()
        cfg = gw.config.ledger
        interval: float | None
        if name == "refresher":
            interval = cfg.refresher.interval_seconds if cfg.refresher.enabled else None
        elif name == "orphans":  # always: a dead process's intents must not stay pending
            interval = cfg.refresher.interval_seconds if cfg.refresher.enabled else ORPHAN_POLL
        elif name == "sync":
            interval = cfg.sync.schedule_seconds
        else:
            interval = PURGE_EVERY if cfg.retention_days else None
        if interval is None or not cfg.enabled:
            await asyncio.sleep(IDLE_POLL)
            continue
        await asyncio.sleep(interval)
        try:
            await _round(current(), name)
        except GatewayError as exc:
            log.warning("ledger %s round skipped: %s", name, exc.detail)
        except Exception:
            log.exception("ledger %s round failed", name)


async def _round(gw: AsyncGateway, name: str) -> None:
    if name == "refresher":
        await refresh_round(gw)
        return
    ledger = await gw.open_ledger()
    cfg = gw.config.ledger
    if name == "orphans":
        if await ledger.try_lease("orphans", OWNER, ORPHAN_POLL * 2):
            await resolve_orphans(gw, ledger)
    elif name == "sync":
        assert cfg.sync.schedule_seconds is not None
        if await ledger.try_lease("sync", OWNER, cfg.sync.schedule_seconds * 2 + 5):
            for backend in gw.config.backends:
                await sync_backend(gw, backend)
    elif cfg.retention_days and await ledger.try_lease("purge", OWNER, PURGE_EVERY):
        purged = await ledger.purge(cfg.retention_days)
        log.info(
            "ledger retention: %d record(s) older than %d days purged", purged, cfg.retention_days
        )


async def run_maintenance(current: Current) -> None:
    """The refresher, scheduled sync and retention loops, until cancelled."""
    async with asyncio.TaskGroup() as tasks:
        for name in ("refresher", "orphans", "sync", "purge"):
            tasks.create_task(_loop(current, name))
