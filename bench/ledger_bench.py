"""Ledger list latency over 100,000 rows: `python -m bench.ledger_bench [--db sqlite|postgres]`.

Inserts the rows (bulk, as `ledger sync` of a large vendor would end up), then times filtered
and paged `Ledger.list` calls, counts per status included, and prints p50/p95 per query.
Goal (issue 13): p50 <= 20 ms on SQLite and PostgreSQL. Not part of `python -m bench run`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from gateway.config import LedgerConfig
from gateway.ledger import Ledger, LedgerQuery
from gateway.ledger.records import new_job_row
from gateway.ledger.tables import jobs, status_changes
from gateway.schemas import Job
from gateway.schemas.status import JobStatus

from .ledger_pg import postgres_cluster

GOAL_P50_MS = 20.0
START = datetime(2026, 1, 1, tzinfo=UTC)
BACKENDS = [
    ("ls", "llama-stack"),
    ("nemo", "nemo-evaluator"),
    ("overmind", "overmind"),
    ("do", "digitalocean-genai"),
    ("dr", "datarobot-genai"),
]
CALLERS = ["ci", "nightly", "dashboards", "alice"]
# Most jobs of a long-lived ledger are finished; a few are running.
STATUS_CYCLE = (
    [JobStatus.SUCCEEDED] * 12
    + [JobStatus.FAILED] * 3
    + [
        JobStatus.RUNNING,
        JobStatus.QUEUED,
        JobStatus.CANCELLED,
        JobStatus.PARTIALLY_SUCCEEDED,
        JobStatus.UNKNOWN,
    ]
)
BENCHMARKS = ["mmlu", "gsm8k", "hellaswag", "truthfulqa", "arc", "humaneval", "toxicity"]


def _job(n: int) -> Job:
    backend, vendor = BACKENDS[n % len(BACKENDS)]
    status = STATUS_CYCLE[(n * 7) % len(STATUS_CYCLE)]
    return Job(
        id=f"{backend}~eval~{n}",
        backend=backend,
        vendor=vendor,
        vendor_job_id=f"eval-{n}",
        name=f"{BENCHMARKS[n % len(BENCHMARKS)]} run {n}",
        status=status,
        vendor_status=status.value,
        created_at=START + timedelta(seconds=n * 77),  # ~90 days over 100,000 jobs
    )


async def _insert(ledger: Ledger, rows: int) -> float:
    started = time.perf_counter()
    stamp = int(START.timestamp() * 1_000_000)
    for first in range(0, rows, 5000):
        batch, history = [], []
        for n in range(first, min(rows, first + 5000)):
            job = _job(n)
            seen = stamp + n * 77_000_000 + 3_600_000_000  # seen an hour after its creation
            row = new_job_row(job, seen)
            row["caller"] = CALLERS[n % len(CALLERS)]
            batch.append(row)
            history.append(
                {
                    "job_id": job.id,
                    "status": job.status.value,
                    "vendor_status": job.vendor_status,
                    "progress": None,
                    "observed_us": seen,
                    "observed_by": "sync",
                }
            )
        async with ledger.engine.begin() as conn:
            await conn.execute(jobs.insert(), batch)
            await conn.execute(status_changes.insert(), history)
    if ledger.engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: planner statistics and the visibility
        # map (index-only scans for the counts).
        async with ledger.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(sa.text("VACUUM ANALYZE jobs"))
    return time.perf_counter() - started


def _queries() -> dict[str, LedgerQuery]:
    return {
        "all, newest first": LedgerQuery(),
        "status=running": LedgerQuery(statuses=(JobStatus.RUNNING,)),
        "backend + 2 statuses, -updated": LedgerQuery(
            backends=("nemo",), statuses=(JobStatus.FAILED, JobStatus.SUCCEEDED), sort="-updated"
        ),
        "caller + created window": LedgerQuery(
            callers=("ci",),
            created_after=START + timedelta(days=30),
            created_before=START + timedelta(days=60),
        ),
        "scoped key (2 backends), oldest first": LedgerQuery(
            allowed_backends=frozenset({"ls", "do"}), sort="created"
        ),
        "name contains 'gsm8k'": LedgerQuery(name_contains="gsm8k"),
    }


async def _time(ledger: Ledger, query: LedgerQuery, calls: int) -> tuple[list[float], list[float]]:
    """(counted, reused) milliseconds: counted calls compute the counts per status (the
    ledger's short-lived counts cache emptied first); reused ones find them cached, as a
    dashboard refreshing within COUNTS_SECONDS or a caller on its next page does."""
    for _ in range(5):  # warm the connection pool and the database's caches
        await ledger.list(query)
    counted, reused = [], []
    for _ in range(calls):
        ledger._counts.clear()  # the bench measures the uncached path on purpose
        started = time.perf_counter()
        await ledger.list(query)
        counted.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await ledger.list(query)
        reused.append((time.perf_counter() - started) * 1000)
    return counted, reused


async def _deep_token(ledger: Ledger, query: LedgerQuery, pages: int) -> LedgerQuery:
    for _ in range(pages):
        page = await ledger.list(query)
        assert page.next_page_token is not None
        query = replace(query, page_token=page.next_page_token)
    return query


def _p(timings: list[float], share: float) -> float:
    return statistics.quantiles(timings, n=100)[int(share * 100) - 1]


Row = tuple[str, float, float, float, float]


async def run(url: str, label: str, rows: int, calls: int) -> list[Row]:
    ledger = await Ledger.open(LedgerConfig(url=url))
    try:
        seconds = await _insert(ledger, rows)
        print(f"{label}: inserted {rows:,} rows in {seconds:.1f} s")
        queries = _queries()
        queries["page 20 of all, newest first"] = await _deep_token(ledger, LedgerQuery(), 19)
        results = []
        for name, query in queries.items():
            cold, warm = await _time(ledger, query, calls)
            results.append(
                (
                    name,
                    statistics.median(cold),
                    _p(cold, 0.95),
                    statistics.median(warm),
                    _p(warm, 0.95),
                )
            )
        return results
    finally:
        await ledger.aclose()


def _report(label: str, results: list[Row]) -> bool:
    print(f"\n{label}: Ledger.list, page_size 50, with counts per status (ms)")
    print(f"| {'query':<38} | counted p50 | p95 | counts reused p50 | p95 |")
    print(f"|{'-' * 40}|-------------|-----|-------------------|-----|")
    for name, p50, p95, warm50, warm95 in results:
        print(f"| {name:<38} | {p50:11.1f} | {p95:3.0f} | {warm50:17.1f} | {warm95:3.0f} |")
    worst = max(r[1] for r in results)
    met = worst <= GOAL_P50_MS
    verdict = "met" if met else "MISSED"
    print(f"goal p50 <= {GOAL_P50_MS:.0f} ms (counted): {verdict} (worst p50 {worst:.1f})")
    return met


@contextlib.contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        yield f"sqlite+aiosqlite:///{Path(tmp) / 'ledger.sqlite3'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--postgres-url", help="use this database instead of a throwaway one")
    args = parser.parse_args()
    met = True
    if args.db in ("sqlite", "both"):
        with _sqlite_url() as url:
            met &= _report("SQLite", asyncio.run(run(url, "SQLite", args.rows, args.calls)))
    if args.db in ("postgres", "both"):
        with (
            contextlib.nullcontext(args.postgres_url)
            if args.postgres_url
            else postgres_cluster() as url
        ):
            met &= _report("PostgreSQL", asyncio.run(run(url, "PostgreSQL", args.rows, args.calls)))
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
