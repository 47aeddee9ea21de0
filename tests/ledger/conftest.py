"""Ledger tests run on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.ledger import Ledger, LedgerConfig
from gateway.schemas import Job, Metric
from gateway.schemas.status import JobStatus
from tests.support.postgres import PostgresCluster, postgres_cluster

__all__ = ["postgres_cluster"]

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
OpenLedger = Callable[..., Awaitable[Ledger]]


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty ledger database of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()


@pytest.fixture
async def open_ledger(ledger_url: str) -> AsyncIterator[OpenLedger]:
    """Opens ledgers on the test's database (several act as replicas); closes them after."""
    opened: list[Ledger] = []

    async def _open(**settings: Any) -> Ledger:
        retry = settings.pop("write_retry_max", 0.05)
        config = LedgerConfig(url=settings.pop("url", ledger_url), **settings)
        ledger = await Ledger.open(config, write_retry_max=retry)
        opened.append(ledger)
        return ledger

    yield _open
    for ledger in opened:
        await ledger.aclose()


@pytest.fixture
async def ledger(open_ledger: OpenLedger) -> Ledger:
    return await open_ledger()


def make_job(
    number: int,
    status: JobStatus = JobStatus.RUNNING,
    *,
    backend: str = "ls-sim",
    vendor: str = "llama-stack",
    vendor_status: str | None = None,
    progress: float | None = None,
    name: str | None = None,
    created: datetime | None = None,
    metrics: list[Metric] | None = None,
) -> Job:
    """A canonical job as an adapter would answer it."""
    return Job(
        id=f"{backend}~bench~{number}",
        backend=backend,
        vendor=vendor,  # type: ignore[arg-type]
        vendor_job_id=f"job-{number}",
        name=name if name is not None else f"eval {number}",
        status=status,
        vendor_status=vendor_status if vendor_status is not None else status.value,
        progress=progress,
        created_at=created if created is not None else EPOCH + timedelta(seconds=number),
        metrics=metrics or [],
    )
