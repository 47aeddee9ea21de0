"""The proxy's ledger: one per process, shared by every config generation.

A reload builds a new AsyncGateway; it is given the same LedgerHandle (one database pool, one
write-behind queue) unless the `ledger:` section changed, in which case the new generation gets
a new handle and the old one is closed once the generation that used it is.

At start the server opens the ledger at once: a schema it does not know stops it from starting
(`eval-gateway ledger upgrade`); a database that cannot be reached does not (reads are served,
/readyz says degraded, and the ledger opens when it can).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from gateway.config import LedgerConfig
from gateway.errors import LedgerSchemaError, LedgerUnavailable
from gateway.export.settings import ExportSettings
from gateway.ledger_jobs.handle import LedgerHandle

if TYPE_CHECKING:
    from gateway.core.async_gateway import AsyncGateway

log = logging.getLogger("gateway.ledger")


class SharedLedger:
    """The handles of one serving process."""

    def __init__(self) -> None:
        self.current: LedgerHandle | None = None
        self._config: tuple[LedgerConfig, ExportSettings] | None = None
        self._all: list[LedgerHandle] = []

    def for_config(self, config: LedgerConfig, export: ExportSettings) -> LedgerHandle | None:
        if self._config == (config, export):
            return self.current
        self._config = (config, export)
        self.current = LedgerHandle(config, export=export) if config.enabled else None
        if self.current is not None:
            self._all.append(self.current)
        return self.current

    async def open_at_start(self, gateway: AsyncGateway) -> None:
        handle = gateway.ledger_handle
        if handle is None:
            return
        try:
            ledger = await handle.get()
        except LedgerSchemaError:
            raise  # the server must not run on a schema it does not know
        except LedgerUnavailable as exc:
            log.warning("job ledger unavailable at start (%s); serving without it", exc.detail)
            return
        log.info("job ledger: %r", ledger)

    async def release(self, handle: LedgerHandle | None, serving: LedgerHandle | None) -> None:
        """Close `handle` (a retired generation's) unless it is still in use."""
        if handle is None or handle is serving or handle is self.current:
            return
        if handle in self._all:
            self._all.remove(handle)
            await handle.aclose()

    async def aclose(self) -> None:
        handles, self._all = self._all, []
        for handle in handles:
            await handle.aclose()
