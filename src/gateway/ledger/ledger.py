"""The Ledger: the gateway's durable record of every job it submits or sees."""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from cachetools import LRUCache, TTLCache

from gateway.config import LedgerConfig
from gateway.ledger import maintenance, submissions
from gateway.ledger.engine import database_errors, ledger_url, make_engine, shown_url
from gateway.ledger.query import LedgerQuery, counts_select, decode_token, encode_token, page_select
from gateway.ledger.records import (
    SubmissionRecord,
    change_from_row,
    now_us,
    problem_json,
    record_from_row,
    snapshot,
)
from gateway.ledger.schema import prepare
from gateway.ledger.tables import jobs, status_changes
from gateway.ledger.writer import MAX_REMEMBERED, Observe, Update, Writer
from gateway.schemas import Job, Problem, Result
from gateway.schemas.ledger import JobRecord, LedgerPage, Observer, StatusChange

log = logging.getLogger("gateway.ledger")
# An unchanged observation is not written; only every TOUCH_SECONDS is last_seen_at refreshed
# (it orders the refresher's work), so steady polling of one job costs no database work.
TOUCH_SECONDS = 60.0
CLOSE_SECONDS = 5.0  # aclose waits this long for queued writes
# Counts per status cost a pass over every matching row; a dashboard polling a filter and a
# caller paging through one reuse them for this long (they may lag changes by as much).
COUNTS_SECONDS = 2.0
# A read first waits this long for the writes this process queued before it, so a caller
# that has just seen a job finds it; past that (the database down or slow) it reads anyway.
READ_WAIT_SECONDS = 2.0

TerminalCallback = Callable[[JobRecord], Awaitable[None]]


@dataclass(frozen=True)
class LedgerHealth:
    state: Literal["ok", "degraded"]
    queued: int
    written: int
    failed_writes: int
    dropped: int
    last_error: str | None


@dataclass
class _Seen:
    key: tuple[str, str | None, float | None]
    at_vendor: bool
    touched: float


class Ledger:
    """Open with `await Ledger.open(config)`; close with `await ledger.aclose()`."""

    def __init__(self, config: LedgerConfig, *, write_retry_max: float = 5.0) -> None:
        self.config = config
        self.url = ledger_url(config)
        self.engine = make_engine(config)
        self._writer = Writer(
            self.engine, self.url, config.queue_max, self._terminal, write_retry_max
        )
        self._seen: LRUCache[str, _Seen] = LRUCache(MAX_REMEMBERED)
        self._results: LRUCache[str, bool] = LRUCache(MAX_REMEMBERED)
        self._counts: TTLCache[str, dict[str, int]] = TTLCache(256, COUNTS_SECONDS)
        self._callbacks: list[TerminalCallback] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # The last awaited call's failure, until a later database call succeeds.
        self._awaited_error: str | None = None
        self._awaited_failed_at = 0.0

    @classmethod
    async def open(cls, config: LedgerConfig, *, write_retry_max: float = 5.0) -> Ledger:
        """Check (or create) the schema and start the writer."""
        async with database_errors(ledger_url(config), "be opened"):
            ledger = cls(config, write_retry_max=write_retry_max)  # may create the directory
        try:
            async with database_errors(ledger.url, "be opened"):
                await prepare(ledger.engine, shown_url(ledger.url))
        except BaseException:
            await ledger.engine.dispose()
            raise
        ledger._writer.start()
        return ledger

    async def aclose(self) -> None:
        await self._writer.close(CLOSE_SECONDS)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_SECONDS)
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Ledger({shown_url(self.url)})"

    def health(self) -> LedgerHealth:
        writer = self._writer
        awaited_failing = self._awaited_error is not None and (
            self._awaited_failed_at > writer.last_ok
        )
        degraded = writer.failing or awaited_failing
        return LedgerHealth(
            state="degraded" if degraded else "ok",
            queued=writer.queued,
            written=writer.written,
            failed_writes=writer.failed_writes,
            dropped=writer.dropped,
            last_error=writer.last_error if writer.failing else self._awaited_error,
        )

    # -- write-behind ---------------------------------------------------------------------

    def observe(self, job: Job, observed_by: Observer) -> None:
        """Remember what a vendor answer says of a job; only changes reach the database."""
        if job.stale:  # served from cache after a vendor failure: it confirms nothing
            return
        key = (job.status.value, job.vendor_status, job.progress)
        clock = time.monotonic()
        seen = self._seen.get(job.id)
        fresh = seen is not None and clock - seen.touched < TOUCH_SECONDS
        if fresh and seen is not None and seen.key == key and seen.at_vendor:
            return
        if self._writer.put(Observe(job, observed_by, now_us())):
            self._seen[job.id] = _Seen(key, True, clock)
        else:
            self._seen.pop(job.id, None)  # dropped: the next observation tries again

    def observe_result(self, job_id: str, result: Result) -> None:
        if job_id in self._results:
            return
        if self._writer.put(Update(job_id, {"result": snapshot(job_id, result)})):
            self._results[job_id] = True

    def observe_gone(self, job_id: str, problem: Problem) -> None:
        """The vendor no longer knows the job: keep its last known status, mark it gone."""
        seen = self._seen.get(job_id)
        if seen is not None and not seen.at_vendor:
            return
        values = {"at_vendor": False, "last_problem": problem_json(problem)}
        if self._writer.put(Update(job_id, values)) and seen is not None:
            seen.at_vendor = False

    def observe_problem(self, job_id: str, problem: Problem) -> None:
        self._writer.put(Update(job_id, {"last_problem": problem_json(problem)}))

    async def flush(self) -> None:
        await self._writer.flush()

    def on_terminal(self, callback: TerminalCallback) -> None:
        self._callbacks.append(callback)

    def _terminal(self, job_ids: list[str]) -> None:
        if not self._callbacks:
            return
        task = asyncio.create_task(self._run_callbacks(job_ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_callbacks(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            try:
                record = await self._record(job_id)
            except Exception:
                log.warning("ledger: terminal job %s could not be read back", job_id)
                continue
            if record is None:
                continue
            for callback in self._callbacks:
                try:
                    await callback(record)
                except Exception:
                    log.exception("ledger on_terminal callback failed for %s", job_id)

    # -- write-ahead submissions (awaited) ------------------------------------------------

    async def begin_submission(
        self,
        *,
        backend: str,
        vendor: str,
        api_version: str | None,
        caller: str | None,
        idempotency_key: str | None,
        request_hash: str,
        submission: dict[str, Any],
    ) -> str:
        async with self._awaited("record a submission"):
            return await submissions.begin(
                self.engine,
                backend=backend,
                vendor=vendor,
                api_version=api_version,
                caller=caller,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                submission=submission,
            )

    async def settle_submission(self, intent_id: str, jobs_created: list[Job]) -> None:
        async with self._awaited("settle a submission"):
            states = await submissions.settle(self.engine, intent_id, jobs_created)
        clock = time.monotonic()
        for job in jobs_created:
            self._seen[job.id] = _Seen(states[job.id], True, clock)

    async def abandon_submission(self, intent_id: str, problem: Problem) -> None:
        async with self._awaited("record a refused submission"):
            await submissions.finish(self.engine, intent_id, "refused", problem)

    async def submission_unknown(self, intent_id: str, problem: Problem) -> None:
        async with self._awaited("record a submission's unknown outcome"):
            await submissions.finish(self.engine, intent_id, "unknown", problem)

    async def find_submission(
        self, tenant: str | None, idempotency_key: str
    ) -> SubmissionRecord | None:
        async with self._awaited("read a submission"):
            return await submissions.find(self.engine, tenant, idempotency_key)

    async def unsettled_submissions(self, older_than_seconds: float) -> list[SubmissionRecord]:
        async with self._awaited("read unsettled submissions"):
            return await submissions.unsettled(self.engine, older_than_seconds)

    @asynccontextmanager
    async def _awaited(self, what: str) -> AsyncIterator[None]:
        """Database errors of an awaited call as LedgerUnavailable, reflected in health()."""
        async with database_errors(self.url, what, self._awaited_failed):
            yield
        self._awaited_error = None

    def _awaited_failed(self, detail: str) -> None:
        self._awaited_error = detail
        self._awaited_failed_at = time.monotonic()

    # -- reads ----------------------------------------------------------------------------

    async def get(self, job_id: str) -> JobRecord | None:
        await self._writer.caught_up(READ_WAIT_SECONDS)
        return await self._record(job_id)

    async def _record(self, job_id: str) -> JobRecord | None:
        async with self._awaited("read a job"), self.engine.connect() as conn:
            row = (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).first()
        return None if row is None else record_from_row(row)

    async def history(self, job_id: str) -> list[StatusChange]:
        select = (
            sa.select(status_changes)
            .where(status_changes.c.job_id == job_id)
            .order_by(status_changes.c.seq)
        )
        await self._writer.caught_up(READ_WAIT_SECONDS)
        async with self._awaited("read a job's history"), self.engine.connect() as conn:
            rows = (await conn.execute(select)).all()
        return [change_from_row(row) for row in rows]

    async def list(self, query: LedgerQuery) -> LedgerPage:
        await self._writer.caught_up(READ_WAIT_SECONDS)
        return await self._page(query.checked(), with_counts=True)

    async def _page(self, query: LedgerQuery, *, with_counts: bool) -> LedgerPage:
        position = decode_token(query)
        counts: dict[str, int] = {}
        fingerprint = query.fingerprint()
        async with self._awaited("list jobs"), self.engine.connect() as conn:
            rows = (await conn.execute(page_select(query, position))).all()
            if with_counts:
                cached = self._counts.get(fingerprint)
                if cached is None:
                    found = await conn.execute(counts_select(query))
                    cached = {status: count for status, count in found}
                    self._counts[fingerprint] = cached
                counts = dict(cached)
        items = [record_from_row(row) for row in rows[: query.page_size]]
        token = None
        if len(rows) > query.page_size:
            last = rows[query.page_size - 1]._mapping
            sort_key = last["updated_us" if "updated" in query.sort else "listed_us"]
            token = encode_token(query, sort_key, last["id"])
        return LedgerPage(items=items, next_page_token=token, counts=counts)

    async def non_terminal(self, limit: int) -> builtins.list[JobRecord]:
        """Jobs still changing at their vendor, least recently seen first (the refresher's)."""
        select = (
            sa.select(jobs)
            .where(jobs.c.terminal.is_(False), jobs.c.at_vendor.is_(True))
            .order_by(jobs.c.last_seen_us)
            .limit(limit)
        )
        async with self._awaited("list unfinished jobs"), self.engine.connect() as conn:
            rows = (await conn.execute(select)).all()
        return [record_from_row(row) for row in rows]

    async def purge(self, retention_days: int) -> int:
        async with self._awaited("purge old records"):
            return await maintenance.purge(self.engine, retention_days)

    def export(self, query: LedgerQuery, fmt: Literal["jsonl", "csv"]) -> AsyncIterator[bytes]:
        return maintenance.export(self._page_without_counts, query.checked(), fmt)

    async def _page_without_counts(self, query: LedgerQuery) -> LedgerPage:
        return await self._page(query, with_counts=False)

    async def try_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        async with self._awaited("take a lease"):
            return await maintenance.try_lease(self.engine, name, owner, ttl_seconds)
