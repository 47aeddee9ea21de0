"""The sync importer: jobs started elsewhere, imported from the vendors' own listings.

`eval-gateway ledger sync [BACKEND]` and the scheduled sync (`ledger.sync.schedule_seconds`)
page through each backend's job list with the ordinary `fetch_jobs`, so the cache, the
coalescing, the retries and the circuit breaker apply as to any caller; at most
`ledger.sync.max_pages` pages per backend and run. Each job listed is observed as `sync`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.errors import GatewayError
from gateway.paging import MAX_PAGE_SIZE
from gateway.schemas import Job

if TYPE_CHECKING:
    from gateway.core.async_gateway import AsyncGateway

SYNC_PAGE_SIZE = min(100, MAX_PAGE_SIZE)


@dataclass
class SyncReport:
    """What one backend's sync read."""

    backend: str
    pages: int = 0
    jobs: list[Job] = field(default_factory=list)
    complete: bool = False  # the listing's last page was reached (not cut by max_pages)
    problem: str | None = None  # why it stopped early, if a vendor call failed

    def summary(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "pages": self.pages,
            "jobs": len(self.jobs),
            "complete": self.complete,
            "problem": self.problem,
        }


async def sync_backend(
    gw: AsyncGateway,
    backend: str,
    *,
    max_pages: int | None = None,
    fresh: bool = False,
    page_size: int = SYNC_PAGE_SIZE,
) -> SyncReport:
    """Import one backend's (or alias's) listing into the ledger, page by page."""
    name = gw.backend(backend).name
    pages = max_pages if max_pages is not None else gw.config.ledger.sync.max_pages
    report = SyncReport(backend=name)
    token: str | None = None
    while report.pages < pages:
        try:
            outcome = await gw.fetch_jobs(
                name, page_size=page_size, page_token=token, fresh=fresh, observed_by="sync"
            )
        except GatewayError as exc:
            report.problem = f"{exc.problem_type.slug}: {exc.detail}"
            return report
        report.pages += 1
        report.jobs.extend(outcome.value.items)
        token = outcome.value.next_page_token
        if token is None:
            report.complete = True
            break
    return report


async def sync_all(
    gw: AsyncGateway, backends: list[str] | None = None, *, max_pages: int | None = None
) -> list[SyncReport]:
    """Sync `backends` (default: every configured backend), one after the other."""
    names = backends if backends else [info.name for info in gw.backends()]
    return [await sync_backend(gw, name, max_pages=max_pages) for name in names]
