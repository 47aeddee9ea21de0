"""The write-behind writer: observations queue (bounded), are written in batches, and are
retried with backoff while the database is down or slow. Callers never wait for it and never
see its failures; what it could not keep is counted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cachetools import LRUCache
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.ledger.engine import DATABASE_ERRORS, describe_error
from gateway.ledger.records import job_snapshot, job_values, new_job_row, problem_json
from gateway.ledger.tables import jobs, status_changes
from gateway.schemas import Job
from gateway.schemas.ledger import Observer

log = logging.getLogger("gateway.ledger")
BATCH = 500
MAX_REMEMBERED = 200_000  # jobs whose stored state this process remembers


@dataclass(frozen=True)
class Observe:
    job: Job
    observed_by: Observer
    observed_us: int


@dataclass(frozen=True)
class Update:
    """A plain column update of a job already in the ledger (result, gone, problem)."""

    job_id: str
    values: dict[str, Any] = field(hash=False)


Item = Observe | Update


@dataclass(frozen=True)
class Stored:
    status: str
    vendor_status: str | None
    progress: float | None
    terminal: bool
    at_vendor: bool


class Writer:
    def __init__(
        self,
        engine: AsyncEngine,
        url: URL,
        queue_max: int,
        on_terminal: Callable[[list[str]], None],
        backoff_max: float = 5.0,
    ) -> None:
        self._engine = engine
        self._url = url
        self._queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=queue_max)
        self._on_terminal = on_terminal
        self.backoff_max = backoff_max
        self._stored: LRUCache[str, Stored] = LRUCache(MAX_REMEMBERED)
        self._in_flight = 0
        # Items ever queued and ever finished (written or given up on): a read waits until
        # finished reaches what was queued before it, so a process reads its own writes.
        self._queued_total = 0
        self._finished_total = 0
        self._progress = asyncio.Event()
        self.written = 0
        self.failed_writes = 0
        self.dropped = 0
        self.last_error: str | None = None
        self.failing = False
        self.last_ok = 0.0  # time.monotonic() of the last batch written
        self._task: asyncio.Task[None] | None = None

    @property
    def queued(self) -> int:
        return self._queue.qsize() + self._in_flight

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    def put(self, item: Item) -> bool:
        """Queue a write; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        self._queued_total += 1
        return True

    async def caught_up(self, wait_seconds: float) -> bool:
        """Wait (at most `wait_seconds`) until every write queued before this call is
        finished; False when it was not (the database is down or slow)."""
        target = self._queued_total
        if self._task is None or self._task.done():
            return self._finished_total >= target
        try:
            async with asyncio.timeout(wait_seconds):
                while self._finished_total < target:
                    await self._progress.wait()
        except TimeoutError:
            return False
        return True

    async def flush(self) -> None:
        await self._queue.join()

    async def close(self, wait_seconds: float) -> None:
        try:
            async with asyncio.timeout(wait_seconds):
                await self.flush()
        except TimeoutError:
            lost = self.queued
            self.dropped += lost
            log.warning("ledger closed with %d writes not written: %s", lost, self.last_error)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._in_flight = len(batch)
            try:
                await self._write_with_retries(batch)
            finally:
                self._in_flight = 0
                self._finished_total += len(batch)
                self._progress.set()  # wakes every waiter; later ones wait on a new event
                self._progress = asyncio.Event()
                for _ in batch:
                    self._queue.task_done()

    async def _write_with_retries(self, batch: list[Item]) -> None:
        attempt = 0
        while True:
            stored: dict[str, Stored] = {}
            try:
                async with self._engine.begin() as conn:
                    terminal = await self._apply(conn, batch, stored)
            except DATABASE_ERRORS as exc:
                self.failed_writes += 1
                self.failing = True
                self.last_error = describe_error(exc, self._url)
                if attempt == 0:
                    log.warning("ledger write failed, retrying: %s", self.last_error)
                # Full jitter, so replicas coming back do not hit the database in step.
                await asyncio.sleep(random.uniform(0, min(self.backoff_max, 0.05 * 2**attempt)))
                attempt += 1
                continue
            except Exception:
                log.exception("ledger write failed on a bug; %d writes dropped", len(batch))
                self.dropped += len(batch)
                return
            self._stored.update(stored)
            self.written += len(batch)
            self.failing = False
            self.last_ok = time.monotonic()
            if terminal:
                self._on_terminal(terminal)
            return

    async def _known(self, conn: AsyncConnection, ids: Iterable[str]) -> dict[str, Stored]:
        found = {i: self._stored[i] for i in ids if i in self._stored}
        missing = sorted(set(ids) - found.keys())
        c = jobs.c
        for start in range(0, len(missing), 500):
            rows = await conn.execute(
                sa.select(
                    c.id, c.status, c.vendor_status, c.progress, c.terminal, c.at_vendor
                ).where(c.id.in_(missing[start : start + 500]))
            )
            for row in rows:
                found[row.id] = Stored(
                    row.status, row.vendor_status, row.progress, row.terminal, row.at_vendor
                )
        return found

    async def _apply(
        self, conn: AsyncConnection, batch: list[Item], stored: dict[str, Stored]
    ) -> list[str]:
        """Write one batch in one transaction; the ids that became terminal."""
        stored.update(await self._known(conn, [i.job.id for i in batch if isinstance(i, Observe)]))
        became_terminal: list[str] = []
        changes: list[dict[str, Any]] = []
        touches: dict[str, int] = {}
        fresh: dict[str, dict[str, Any]] = {}  # new rows, inserted together (one statement)

        async def insert_fresh(before: str) -> None:
            if before in fresh:  # a later write of a row not inserted yet
                await conn.execute(jobs.insert(), list(fresh.values()))
                fresh.clear()

        for item in batch:
            if isinstance(item, Update):
                await insert_fresh(item.job_id)
                await conn.execute(jobs.update().where(jobs.c.id == item.job_id), item.values)
                if "at_vendor" in item.values and item.job_id in stored:
                    old = stored[item.job_id]
                    stored[item.job_id] = Stored(
                        old.status, old.vendor_status, old.progress, old.terminal, False
                    )
                continue
            job, seen = item.job, item.observed_us
            prev = stored.get(job.id)
            now = Stored(job.status.value, job.vendor_status, job.progress, job.terminal, True)
            if prev is not None and prev.terminal and not job.terminal:
                touches[job.id] = seen  # an older answer arriving late: a terminal job stays
                continue
            if prev is not None and prev == now:
                touches[job.id] = seen
                continue
            if prev is None:
                fresh[job.id] = new_job_row(job, seen)
            else:
                await insert_fresh(job.id)
                # An answer without a name or creation time does not erase the known ones.
                values = job_values(job, seen)
                for kept in ("name", "name_folded", "created_us", "api_version"):
                    if values[kept] is None:
                        del values[kept]
                if (prev.status, prev.vendor_status, prev.progress) == (
                    now.status,
                    now.vendor_status,
                    now.progress,
                ):  # only back at the vendor: no new timeline row
                    await conn.execute(jobs.update().where(jobs.c.id == job.id), values)
                    stored[job.id] = now
                    continue
                values.update(updated_us=seen, last_problem=problem_json(job.error))
                if job.terminal and not prev.terminal and job.metrics:
                    values["result"] = job_snapshot(job)
                await conn.execute(jobs.update().where(jobs.c.id == job.id), values)
            changes.append(
                {
                    "job_id": job.id,
                    "status": now.status,
                    "vendor_status": now.vendor_status,
                    "progress": now.progress,
                    "observed_us": seen,
                    "observed_by": item.observed_by,
                }
            )
            if job.terminal and (prev is None or not prev.terminal):
                became_terminal.append(job.id)
            stored[job.id] = now
        if fresh:
            await conn.execute(jobs.insert(), list(fresh.values()))
        if changes:
            await conn.execute(status_changes.insert(), changes)
        if touches:
            await conn.execute(
                jobs.update()
                .where(jobs.c.id == sa.bindparam("job_id"))
                .values(last_seen_us=sa.bindparam("seen")),
                [{"job_id": k, "seen": v} for k, v in touches.items()],
            )
        return became_terminal
