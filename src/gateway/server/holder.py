"""The config now serving, swapped atomically on reload.

Each request takes the current `Generation` (config + AsyncGateway + caller keys) once and
keeps it to the end, so a reload never changes the rules under a request in flight. A replaced
generation is closed once its last request has finished (or after `drain_seconds`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
from anyio.abc import TaskGroup

from gateway.config import GatewayConfig, load_config
from gateway.core.async_gateway import AsyncGateway
from gateway.errors import ConfigError
from gateway.ledger_jobs.refresher import run_maintenance
from gateway.ledger_jobs.serving import SharedLedger
from gateway.server.auth import KeyRing
from gateway.server.metrics import Metrics
from gateway.server.models import BackendHealth
from gateway.server.signals import install_sighup, on_shutdown_signal, remove_sighup
from gateway.vendors.registry import SimulatorState

log = logging.getLogger("gateway.server")
EMBEDDED = "<embedded defaults>"
# Outcomes that mean the vendor itself failed us (the rest mean it answered).
_FAILURE_PREFIX = "upstream-"
AUTH_OFF_WARNING = (
    "!!! CALLER AUTH IS OFF: anyone who can reach this port can use every backend. "
    "Fine on a laptop; set auth.enabled and auth.keys anywhere else. !!!"
)


@dataclass(eq=False)
class Generation:
    number: int
    config: GatewayConfig
    gateway: AsyncGateway
    keys: KeyRing
    loaded_at: datetime
    inflight: int = 0
    retired: bool = False
    idle: anyio.Event | None = None


class InUse:
    """`async with holder.use() as gen`: a class, not a generator-based context manager,
    since it wraps every request."""

    __slots__ = ("gen",)

    def __init__(self, gen: Generation) -> None:
        self.gen = gen

    async def __aenter__(self) -> Generation:
        self.gen.inflight += 1
        return self.gen

    async def __aexit__(self, *exc_info: object) -> None:
        gen = self.gen
        gen.inflight -= 1
        if gen.retired and gen.inflight == 0 and gen.idle is not None:
            gen.idle.set()


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass
class _HealthRecord:
    last_outcome: str | None = None
    last_ok_at: float | None = None  # time.time(): a datetime per request cost more than this
    last_failure_at: float | None = None
    consecutive_failures: int = 0


@dataclass
class HealthBook:
    """Per-backend health from the outcomes of real calls."""

    records: dict[str, _HealthRecord] = field(default_factory=dict)

    def record(self, backend: str, outcome: str) -> None:
        rec = self.records.get(backend)
        if rec is None:
            rec = self.records[backend] = _HealthRecord()
        now = time.time()
        rec.last_outcome = outcome
        if outcome.startswith(_FAILURE_PREFIX):
            rec.last_failure_at = now
            rec.consecutive_failures += 1
        else:
            rec.last_ok_at = now
            rec.consecutive_failures = 0

    def view(self, backend: str, circuit: str | None = None) -> BackendHealth:
        """`circuit`: the backend's breaker state; an open circuit is never `ok` (it may have
        opened on another replica sharing it through Redis, unseen by this book)."""
        rec = self.records.get(backend)
        if rec is None or rec.last_outcome is None:
            return BackendHealth(state="failing" if circuit == "open" else "unknown")
        return BackendHealth(
            state="failing" if rec.consecutive_failures or circuit == "open" else "ok",
            last_outcome=rec.last_outcome,
            last_ok_at=_moment(rec.last_ok_at),
            last_failure_at=_moment(rec.last_failure_at),
            consecutive_failures=rec.consecutive_failures,
        )

    def keep_only(self, backends: set[str]) -> None:
        for name in set(self.records) - backends:
            del self.records[name]


class GatewayHolder:
    """Owns the serving generation; reloads from `source` (None: nothing to reload from)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        source: Path | None,
        source_label: str | None = None,
        metrics: Metrics,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.source = source
        self.source_label = source_label or (str(source) if source else "<in-memory config>")
        self.metrics = metrics
        self.health = HealthBook()
        self._transports = transports
        self._fingerprint = _fingerprint(source)
        self._digest = _digest(source)
        self._lock: anyio.Lock | None = None
        self._tasks: TaskGroup | None = None
        self.ledgers = SharedLedger()  # one ledger across generations (ledger_jobs.serving)
        self._current = self._build(config, 1)
        metrics.generation.set(1)
        _warn_if_open(config)

    @property
    def current(self) -> Generation:
        return self._current

    def use(self) -> InUse:
        """The current generation, held until the block ends (a reload waits for it)."""
        return InUse(self._current)

    async def reload(self, reason: str) -> bool:
        """Load, validate and swap in the config from `source`; False if refused."""
        if self.source is None:
            log.warning("config reload (%s) skipped: the config was not loaded from a file", reason)
            return False
        if self._lock is None:
            self._lock = anyio.Lock()  # made here: it needs the running event loop
        async with self._lock:
            self._fingerprint = _fingerprint(self.source)
            self._digest = _digest(self.source)
            try:
                config = load_config(self.source)
                new = self._build(config, self._current.number + 1)
            except ConfigError as exc:
                self._refused(reason, "; ".join(f"{p or '<root>'}: {m}" for p, m in exc.issues))
                return False
            except Exception:  # a bug building the backends must not take the service down
                log.exception("config reload (%s) refused: could not build the backends", reason)
                self.metrics.reloads.labels("refused").inc()
                return False
            old, self._current = self._current, new  # the atomic swap
            old.retired = True
            if old.inflight:
                old.idle = anyio.Event()
            self.health.keep_only(set(config.backends))
            self.metrics.reloads.labels("applied").inc()
            self.metrics.generation.set(new.number)
            log.info(
                "config reloaded (%s) from %s: generation %d, %d backend(s), aliases %s",
                reason,
                self.source_label,
                new.number,
                len(config.backends),
                config.aliases,
            )
            _warn_restart_only(old.config, config)
            _warn_if_open(config)
        if self._tasks is not None:
            self._tasks.start_soon(self._retire, old)
        else:
            await self._retire(old)
        return True

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Watch the file and SIGHUP while the block runs; close everything after."""
        await self.ledgers.open_at_start(self._current.gateway)
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            tasks.start_soon(self._watch)
            tasks.start_soon(run_maintenance, lambda: self._current.gateway)
            # The signal callback runs outside any task: it only wakes a task that reloads.
            hup = [anyio.Event()]
            sighup = install_sighup(lambda: hup[0].set())
            if sighup:
                tasks.start_soon(self._on_sighup, hup)
            stopping = anyio.Event()
            tasks.start_soon(self._stop_watching, stopping)
            try:
                with on_shutdown_signal(stopping.set):
                    yield
            finally:
                if sighup:
                    remove_sighup()
                self._tasks = None
                tasks.cancel_scope.cancel()
        await self._current.gateway.aclose()
        await self.ledgers.aclose()

    async def aclose(self) -> None:
        await self._current.gateway.aclose()
        await self.ledgers.aclose()

    # -- internals -----------------------------------------------------------------------------

    def _build(self, config: GatewayConfig, number: int) -> Generation:
        gateway = AsyncGateway(
            config,
            transports=self._transports,
            on_unknown_status=self.metrics.unknown_status,
            on_vendor_outcome=self.health.record,
            ledger=self.ledgers.for_config(config.ledger, config.export),
            sim_states=self._kept_simulators(config) if number > 1 else None,
        )
        return Generation(number, config, gateway, KeyRing(config), datetime.now(UTC))

    def _kept_simulators(self, config: GatewayConfig) -> dict[str, SimulatorState]:
        """The in-process simulators of backends this reload leaves as they were (same name,
        same config): their jobs live on in the new generation instead of vanishing."""
        old = self._current
        kept: dict[str, SimulatorState] = {}
        for name, cfg in config.backends.items():
            if old.config.backends.get(name) == cfg:
                state = old.gateway.backend(name).sim_state
                if state is not None:
                    kept[name] = state
        return kept

    def _refused(self, reason: str, why: str) -> None:
        self.metrics.reloads.labels("refused").inc()
        log.error(
            "config reload (%s) REFUSED, still serving generation %d: %s: %s",
            reason,
            self._current.number,
            self.source_label,
            why,
        )

    async def _retire(self, gen: Generation) -> None:
        try:
            if gen.idle is not None and gen.inflight:
                with anyio.move_on_after(gen.config.server.reload.drain_seconds):
                    await gen.idle.wait()
        finally:
            with anyio.CancelScope(shield=True):  # closed even when shutdown cancels the wait
                await gen.gateway.aclose()
                await self.ledgers.release(
                    gen.gateway.ledger_handle, self._current.gateway.ledger_handle
                )
            log.info(
                "config generation %d closed (%d request(s) cut off)", gen.number, gen.inflight
            )

    async def _stop_watching(self, stopping: anyio.Event) -> None:
        """On SIGTERM/SIGINT: end the long-polls and event streams (they would otherwise keep
        the server for its whole graceful-shutdown period); other requests finish."""
        await stopping.wait()
        log.info("shutting down: closing the job watchers (event streams end)")
        await self._current.gateway.watcher.aclose()

    async def _on_sighup(self, hup: list[anyio.Event]) -> None:
        while True:
            await hup[0].wait()
            hup[0] = anyio.Event()
            await self.reload("SIGHUP")

    async def _watch(self) -> None:
        changed: tuple[int, int, int] | None = None
        while True:
            reload_cfg = self._current.config.server.reload
            await anyio.sleep(reload_cfg.poll_seconds)
            if not reload_cfg.watch or self.source is None:
                continue
            seen = _fingerprint(self.source)
            if seen == self._fingerprint:
                continue
            if seen != changed:  # still being written? act once it holds still for a poll
                changed = seen
                continue
            self._fingerprint = seen
            if _digest(self.source) != self._digest:
                await self.reload("file changed")


def _fingerprint(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _digest(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


def _warn_if_open(config: GatewayConfig) -> None:
    if not config.auth.enabled:
        log.warning(AUTH_OFF_WARNING)


def _warn_restart_only(old: GatewayConfig, new: GatewayConfig) -> None:
    for key in ("host", "port", "workers"):
        if getattr(old.server, key) != getattr(new.server, key):
            log.warning("server.%s changed: it takes effect at the next restart", key)
