"""Retention purge, streaming export and leases (one refresher across replicas)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.ledger.query import MAX_PAGE_SIZE, LedgerQuery
from gateway.ledger.records import now_us
from gateway.ledger.tables import jobs, leases, status_changes, submissions
from gateway.schemas.ledger import JobRecord, LedgerPage

DAY_US = 86_400 * 1_000_000
PURGE_CHUNK = 1000
CSV_COLUMNS = [
    *("id", "backend", "vendor", "api_version", "vendor_ids", "name", "caller"),
    *("idempotency_key", "status", "vendor_status", "terminal", "progress", "created_at"),
    *("first_seen_at", "last_seen_at", "updated_at", "outcome_unknown", "at_vendor"),
    *("last_problem", "result", "submission"),
]


async def purge(engine: AsyncEngine, retention_days: int) -> int:
    """Delete jobs neither changed nor seen for retention_days, their timelines and settled
    intents of that age; returns how many jobs went."""
    cutoff = now_us() - retention_days * DAY_US
    old = sa.select(jobs.c.id).where(jobs.c.updated_us < cutoff, jobs.c.last_seen_us < cutoff)
    removed = 0
    while True:
        async with engine.begin() as conn:
            ids = list((await conn.execute(old.limit(PURGE_CHUNK))).scalars())
            if not ids:
                break
            await conn.execute(status_changes.delete().where(status_changes.c.job_id.in_(ids)))
            await conn.execute(jobs.delete().where(jobs.c.id.in_(ids)))
            removed += len(ids)
    async with engine.begin() as conn:
        await conn.execute(
            submissions.delete().where(
                submissions.c.updated_us < cutoff,
                submissions.c.state.in_(("settled", "refused")),
            )
        )
    return removed


# One page of records for a query, without counts (the ledger's own page reader).
PageReader = Callable[[LedgerQuery], Awaitable[LedgerPage]]


async def export(
    read_page: PageReader, query: LedgerQuery, fmt: Literal["jsonl", "csv"]
) -> AsyncIterator[bytes]:
    """Every record the query matches (all pages), as JSON lines or CSV with a header."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format {fmt!r}")
    page_query = replace(query, page_size=MAX_PAGE_SIZE, page_token=None)
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    while True:
        page = await read_page(page_query)
        for record in page.items:
            yield _jsonl(record) if fmt == "jsonl" else _csv_line(_csv_row(record))
        if page.next_page_token is None:
            return
        page_query = replace(page_query, page_token=page.next_page_token)


def _jsonl(record: JobRecord) -> bytes:
    return (record.model_dump_json() + "\n").encode()


def _csv_row(record: JobRecord) -> list[str]:
    data = record.model_dump(mode="json")
    cells = []
    for column in CSV_COLUMNS:
        value = data.get(column)
        if isinstance(value, dict | list):
            cells.append(json.dumps(value, separators=(",", ":"), sort_keys=True))
        elif value is None:
            cells.append("")
        else:
            cells.append(str(value).lower() if isinstance(value, bool) else str(value))
    return cells


def _csv_line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode()


async def try_lease(engine: AsyncEngine, name: str, owner: str, ttl_seconds: float) -> bool:
    """Take or renew a named lease; exactly one owner holds it until it expires."""
    stamp = now_us()
    expires = stamp + int(ttl_seconds * 1_000_000)
    async with engine.begin() as conn:
        # The row lock of UPDATE (PostgreSQL) or the write lock (SQLite) serializes claimants;
        # the condition is re-checked against the row as the winner left it.
        taken = await conn.execute(
            leases.update()
            .where(
                leases.c.name == name,
                sa.or_(leases.c.owner == owner, leases.c.expires_us < stamp),
            )
            .values(owner=owner, expires_us=expires)
        )
        if taken.rowcount == 1:
            return True
        exists = (await conn.execute(sa.select(leases.c.name).where(leases.c.name == name))).first()
        if exists is not None:
            return False
    try:
        async with engine.begin() as conn:
            await conn.execute(
                leases.insert(), {"name": name, "owner": owner, "expires_us": expires}
            )
    except sa.exc.IntegrityError:
        return False  # another replica created it first
    return True
