"""LedgerHandle: one lazily opened Ledger, shared by every AsyncGateway that is given it.

The ledger is on by default, so every AsyncGateway has one; opening it (importing SQLAlchemy,
connecting, checking the schema) must cost nothing until it is used. Reads never wait for it:
an observation made before the ledger is open is kept (bounded) and handed over once it is,
and opening happens in the background. Submissions and ledger reads await the open.

The proxy's GatewayHolder shares one handle across config generations (a reload builds a new
AsyncGateway, not a new database pool) and replaces it only when the `ledger:` section changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.config import LedgerConfig
from gateway.errors import GatewayError, LedgerSchemaError, LedgerUnavailable
from gateway.export.settings import ExportSettings
from gateway.schemas import Job, Problem, Result
from gateway.schemas.ledger import Observer

if TYPE_CHECKING:
    from gateway.export.mlflow import MlflowExporter
    from gateway.ledger import Ledger

log = logging.getLogger("gateway.ledger")
OPEN_TIMEOUT = 10.0  # seconds one attempt to open may take (a PostgreSQL connect)
REOPEN_AFTER = 5.0  # seconds before retrying an open that failed
LedgerState = Literal["off", "ok", "degraded"]
Pending = Callable[["Ledger"], None]


@dataclass(frozen=True)
class LedgerStatus:
    """What /readyz and /metrics say of the ledger."""

    state: LedgerState
    queued: int = 0
    written: int = 0
    failed_writes: int = 0
    dropped: int = 0
    last_error: str | None = None


class LedgerHandle:
    """Opens `config`'s ledger on first use (or wraps one already open: `of`)."""

    def __init__(
        self,
        config: LedgerConfig,
        *,
        ledger: Ledger | None = None,
        export: ExportSettings | None = None,
    ) -> None:
        self.config = config
        self.export = export  # automatic export of jobs turning terminal (export.mlflow)
        self._exporter: MlflowExporter | None = None
        self.ledger: Ledger | None = ledger
        self.owned = ledger is None  # a ledger given to us is closed by whoever opened it
        self._opening: asyncio.Task[Ledger] | None = None
        self._failed_at: float | None = None
        self._last_error: str | None = None
        self._pending: deque[Pending] = deque()
        self._dropped_early = 0
        self._closed = False

    # -- opening ---------------------------------------------------------------------------

    async def get(self) -> Ledger:
        """The open ledger; `LedgerUnavailable` (or `LedgerSchemaError`) if it cannot open."""
        if self.ledger is not None:
            return self.ledger
        if self._closed:
            raise LedgerUnavailable("the ledger is closed")
        task = self._start()
        try:
            return await asyncio.shield(task)
        except GatewayError:
            raise
        except Exception as exc:  # a driver's own error: the database is down
            raise LedgerUnavailable(f"the ledger cannot be opened: {type(exc).__name__}") from None

    def start_opening(self) -> None:
        """Open in the background (from a read: it never waits for the ledger)."""
        if self.ledger is None and not self._closed:
            if self._failed_at is not None and time.monotonic() - self._failed_at < REOPEN_AFTER:
                return
            task = self._start()
            task.add_done_callback(_consume)

    def _start(self) -> asyncio.Task[Ledger]:
        if self._opening is None or (self._opening.done() and self.ledger is None):
            self._opening = asyncio.ensure_future(self._open())
        return self._opening

    async def _open(self) -> Ledger:
        from gateway.ledger import Ledger  # SQLAlchemy is imported only by a gateway that uses it

        try:
            async with asyncio.timeout(OPEN_TIMEOUT):
                ledger = await Ledger.open(self.config)
        except LedgerSchemaError as exc:
            self._failed(exc.detail)
            raise
        except TimeoutError:
            self._failed("opening the ledger timed out")
            raise LedgerUnavailable(f"the ledger did not open within {OPEN_TIMEOUT:g}s") from None
        except GatewayError as exc:
            self._failed(exc.detail)
            raise
        except Exception as exc:
            self._failed(type(exc).__name__)
            raise LedgerUnavailable(f"the ledger cannot be opened: {type(exc).__name__}") from None
        self.ledger, self._failed_at, self._last_error = ledger, None, None
        if self.export is not None and self.export.mlflow is not None:
            from gateway.export.mlflow import attach

            self._exporter = attach(ledger, self.export)
        while self._pending:  # what was observed while it opened, in order
            self._pending.popleft()(ledger)
        return ledger

    def _failed(self, why: str) -> None:
        self._failed_at = time.monotonic()
        if why != self._last_error:
            log.warning("job ledger unavailable: %s (reads go on; writes are kept)", why)
        self._last_error = why

    # -- write-behind (never blocks) ---------------------------------------------------------

    def _later(self, write: Pending) -> None:
        ledger = self.ledger
        if ledger is not None:
            write(ledger)
            return
        if len(self._pending) >= self.config.queue_max:
            self._dropped_early += 1
        else:
            self._pending.append(write)
        self.start_opening()

    def observe(self, job: Job, observed_by: Observer) -> None:
        self._later(lambda ledger: ledger.observe(job, observed_by))

    def observe_result(self, job_id: str, result: Result) -> None:
        self._later(lambda ledger: ledger.observe_result(job_id, result))

    def observe_gone(self, job_id: str, problem: Problem) -> None:
        self._later(lambda ledger: ledger.observe_gone(job_id, problem))

    def observe_problem(self, job_id: str, problem: Problem) -> None:
        self._later(lambda ledger: ledger.observe_problem(job_id, problem))

    # -- health and shutdown -----------------------------------------------------------------

    def status(self) -> LedgerStatus:
        ledger = self.ledger
        if ledger is None:
            never_failed = self._failed_at is None
            return LedgerStatus(
                state="ok" if never_failed else "degraded",
                queued=len(self._pending),
                dropped=self._dropped_early,
                last_error=self._last_error,
            )
        health = ledger.health()
        return LedgerStatus(
            state=health.state,
            queued=health.queued,
            written=health.written,
            failed_writes=health.failed_writes,
            dropped=health.dropped + self._dropped_early,
            last_error=health.last_error,
        )

    async def aclose(self) -> None:
        self._closed = True
        opening = self._opening
        if opening is not None and not opening.done():
            # Let an open in progress finish (a driver cut off mid-connect calls back into a
            # loop that is gone), then close what it opened.
            done, _ = await asyncio.wait({opening}, timeout=OPEN_TIMEOUT)
            if not done:
                opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        if self.ledger is not None and self.owned:
            await self.ledger.aclose()
        if self._exporter is not None:  # after the ledger: its last terminal callbacks ran
            await self._exporter.aclose()
        if self._pending:
            log.warning("job ledger never opened: %d observation(s) lost", len(self._pending))
            self._pending.clear()


def _consume(task: asyncio.Task[Ledger]) -> None:
    if not task.cancelled():
        task.exception()  # logged by _failed; retrieved so asyncio does not warn
