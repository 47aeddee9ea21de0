"""The simulators' shared engine: a controllable clock, scripted job lifecycles, faults.

Each vendor simulator keeps its jobs in a `SimState`. A job's vendor status at any moment
follows its lifecycle: a list of stages, each a vendor status word held for some seconds
(the last one forever). Tests freeze the clock and advance it to move jobs along.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class SimClock:
    """Wall-clock time that tests can freeze and advance."""

    def __init__(self, start: float | None = None, frozen: bool = False) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None
        if start is not None:
            self._offset = start - time.time()
        if frozen:
            # Exactly `start`: reading the wall clock twice would drift by microseconds.
            self._frozen_at = start if start is not None else time.time()

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def freeze(self) -> None:
        self._frozen_at = self.now()

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    def advance(self, seconds: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None


@dataclass(frozen=True)
class Stage:
    """One lifecycle stage: `status` (the vendor's word) held for `seconds` (None: forever)."""

    status: str
    seconds: float | None = None


@dataclass
class SimJob:
    """A job the simulator holds; `data` carries vendor-specific fields for rendering."""

    id: str
    lifecycle: list[Stage]
    created_at: float
    data: dict[str, Any] = field(default_factory=dict)
    # Set when the job was cancelled/overridden: (time, lifecycle appended from then on).
    override_at: float | None = None
    override: list[Stage] | None = None

    def status_at(self, now: float) -> str:
        stages, start = self.lifecycle, self.created_at
        if self.override is not None and self.override_at is not None and now >= self.override_at:
            stages, start = self.override, self.override_at
        elapsed = max(0.0, now - start)
        for stage in stages:
            if stage.seconds is None or elapsed < stage.seconds:
                return stage.status
            elapsed -= stage.seconds
        return stages[-1].status

    def stage_started_at(self, now: float, status: str) -> float | None:
        """When the job first entered `status` (None if it has not yet)."""
        stages, start = self.lifecycle, self.created_at
        if self.override is not None and self.override_at is not None and now >= self.override_at:
            stages, start = self.override, self.override_at
        t = start
        for stage in stages:
            if t > now:
                return None
            if stage.status == status:
                return t
            if stage.seconds is None:
                return None
            t += stage.seconds
        return None

    def elapsed(self, now: float) -> float:
        return max(0.0, now - self.created_at)

    def set_status(self, now: float, stages: list[Stage]) -> None:
        """From `now` on, follow `stages` (used for cancel and PATCH)."""
        self.override_at = now
        self.override = stages


FAULT_KINDS = (
    "rate_limit",  # the vendor's 429, with its rate-limit headers
    "server_error",  # a 5xx in the vendor's error shape (`status`, default 500)
    "delay",  # answer after `seconds` of real time
    "drop_connection",  # the connection breaks before any answer
    "malformed_body",  # 200 with a body that is not JSON
    "truncated_body",  # the real answer, cut in half
    "undocumented_status",  # jobs report a status word the vendor never documented
    # After an error answer (>= 400), the next request on that connection stalls `seconds`
    # and then fails as reset by peer (Llama Stack 0.7.3 keep-alive quirk). `count` is how
    # many error answers break their connection.
    "reset_after_error",
)
# Faults that do not replace an answer when taken (they alter content or a later request).
_DEFERRED_KINDS = frozenset({"undocumented_status", "reset_after_error"})
UNDOCUMENTED_STATUS = "sim_undocumented_status"
# One sequence for the simulators of gateway backends (`process_wide_ids`): a simulator
# rebuilt by a config reload never hands out an id an earlier one gave. Seeded jobs have
# fixed ids outside it; a bare SimState (tests, cassettes) counts from 1 on its own.
_PROCESS_SEQUENCE = itertools.count(1)


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    path: re.Pattern[str] | None = None
    status: int = 500
    seconds: float = 0.0
    retry_after: float | None = 1.0

    def applies_to(self, path: str) -> bool:
        return self.remaining > 0 and (self.path is None or self.path.search(path) is not None)


class SimState:
    """All a simulator instance holds: jobs, faults, the clock and request counts."""

    def __init__(
        self,
        clock: SimClock | None = None,
        api_key: str | None = None,
        *,
        process_wide_ids: bool = False,
    ) -> None:
        self.clock = clock or SimClock()
        self.api_key = api_key  # None: auth not enforced
        self.jobs: dict[str, SimJob] = {}
        self.faults: list[Fault] = []
        self.requests: Counter[str] = Counter()
        # Vendor-specific state beyond jobs (e.g. Llama Stack's benchmark registry).
        self.extras: dict[str, Any] = {}
        # connection id -> seconds its next request stalls before the reset (reset_after_error)
        self.broken_connections: dict[str, float] = {}
        self._lock = threading.Lock()
        self.process_wide_ids = process_wide_ids
        self._seq = _PROCESS_SEQUENCE if process_wide_ids else itertools.count(1)

    def next_seq(self) -> int:
        """The number in the next created job's id (process-wide: never handed out before)."""
        return next(self._seq)

    def add_job(
        self,
        job_id: str,
        lifecycle: list[Stage],
        data: dict[str, Any] | None = None,
        created_at: float | None = None,
    ) -> SimJob:
        if not lifecycle:
            raise ValueError("a lifecycle needs at least one stage")
        job = SimJob(
            job_id,
            lifecycle,
            self.clock.now() if created_at is None else created_at,
            dict(data or {}),
        )
        self.jobs[job_id] = job
        return job

    def status_of(self, job: SimJob) -> str:
        """The job's vendor status now; an armed `undocumented_status` fault overrides it."""
        fault = self._take("undocumented_status", "")
        if fault is not None:
            return UNDOCUMENTED_STATUS
        return job.status_at(self.clock.now())

    def arm(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, path: str) -> Fault | None:
        """The next armed transport-level fault for this path, consumed once."""
        with self._lock:
            for fault in self.faults:
                if fault.kind not in _DEFERRED_KINDS and fault.applies_to(path):
                    fault.remaining -= 1
                    self._prune()
                    return fault
        return None

    def resets_armed(self) -> bool:
        """Whether error answers may break their connection (cheap check per request)."""
        return any(f.kind == "reset_after_error" and f.remaining > 0 for f in self.faults)

    def note_error_answer(self, connection: str, path: str) -> None:
        """An error answer went out on `connection`: an armed reset_after_error breaks it."""
        fault = self._take("reset_after_error", path)
        if fault is not None:
            with self._lock:
                self.broken_connections[connection] = fault.seconds

    def take_broken_connection(self, connection: str) -> float | None:
        """The stall before the reset if `connection` is broken (then it is gone), else None."""
        with self._lock:
            return self.broken_connections.pop(connection, None)

    def _take(self, kind: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind == kind and fault.applies_to(path):
                    fault.remaining -= 1
                    self._prune()
                    return fault
        return None

    def _prune(self) -> None:
        self.faults = [f for f in self.faults if f.remaining > 0]

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()
            self.broken_connections.clear()
