"""Measuring: one load run per target, re-run while other processes loaded the machine, and
the targets interleaved so that their ratios hold on a noisy machine.

A run during which processes outside the harness used more than `quiet_cores` is run again
after waiting for quiet, up to `retries` times, while the whole benchmark's `retry_budget`
(seconds, waits included) lasts; past it, runs are kept as measured (their *others' CPU* is
in the report) and a note says so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .load import WRK, LoadResult, Paths, run_load, warm
from .procs import CpuMeter, Proc, http_get, tree_cpu_seconds, wait_for_quiet
from .sizes import Size

Log = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    name: str
    proc: Proc
    paths: Paths

    @property
    def port(self) -> int:
        return self.proc.port


class Measurer:
    """Load runs against the servers in `procs` (its "upstream" is charged CPU per answer)."""

    def __init__(self, size: Size, log: Log, procs: Mapping[str, Proc], notes: list[str]) -> None:
        self.size = size
        self.log = log
        self.procs = procs
        self.notes = notes
        self.retry_seconds = 0.0  # spent so far on re-runs, waits for quiet included

    def _budget_left(self) -> float:
        return max(0.0, self.size.retry_budget - self.retry_seconds)

    def _may_retry(self, attempt: int) -> bool:
        if attempt >= self.size.retries:
            return False
        if self._budget_left() > 0:
            return True
        note = (
            f"The {self.size.retry_budget:g} s allowed for re-running measurements disturbed by "
            "other processes ran out: later runs were kept as measured (see *others' CPU*)."
        )
        if note not in self.notes:
            self.notes.append(note)
            self.log(f"  {note}")
        return False

    def once(
        self,
        target: Target,
        *,
        connections: int,
        duration: int | None = None,
        requests: int | None = None,
    ) -> LoadResult:
        """One load run, with the CPU the target (and the upstream) spent per answer."""
        upstream = self.procs["upstream"]
        meter = CpuMeter().start()
        cpu_before = (tree_cpu_seconds(target.proc), tree_cpu_seconds(upstream))
        result = run_load(
            target.name,
            target.port,
            target.paths,
            connections=connections,
            duration=duration,
            requests=requests,
        )
        result.background_cores = meter.stop()
        if result.requests:
            own = tree_cpu_seconds(target.proc) - cpu_before[0]
            result.server_cpu_us = round(own / result.requests * 1e6, 1)
            if target.proc is not upstream:
                up = tree_cpu_seconds(upstream) - cpu_before[1]
                result.upstream_cpu_us = round(up / result.requests * 1e6, 1)
        return result

    def measure(
        self,
        target: Target,
        *,
        connections: int,
        duration: int | None = None,
        requests: int | None = None,
    ) -> LoadResult:
        """One load run; rerun (after waiting for quiet) while others loaded the machine.

        The quietest attempt is kept. Also charges the CPU the target (and the upstream)
        spent to each answered request.
        """
        size = self.size
        best: LoadResult | None = None
        for attempt in range(size.retries + 1):
            began = time.monotonic()
            if attempt and size.quiet_wait:
                wait_for_quiet(size.quiet_cores, min(size.quiet_wait, self._budget_left()))
            result = self.once(
                target, connections=connections, duration=duration, requests=requests
            )
            if attempt:
                self.retry_seconds += time.monotonic() - began
            if best is None or result.background_cores < best.background_cores:
                best = result
            if result.background_cores <= size.quiet_cores:
                break
            again = self._may_retry(attempt)
            self.log(
                f"  (others used {result.background_cores} cores during {target.name} "
                f"c={connections}" + ("; running it again)" if again else ")")
            )
            if not again:
                break
        assert best is not None
        return best

    def interleaved(
        self,
        targets: Sequence[Target],
        connections: int,
        *,
        duration: int | None = None,
        requests: int | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Each target `repeats` times, round-robin; the median run (by req/s) of each."""
        runs: dict[str, list[LoadResult]] = {t.name: [] for t in targets}
        for _ in range(self.size.repeats):
            for t in targets:
                result = self.measure(
                    t, connections=connections, duration=duration, requests=requests
                )
                runs[t.name].append(result)
                self.log(
                    f"  {t.name:<22} c={connections:<4} {result.rps:>9.1f} req/s  "
                    f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms"
                    + (f"  ERRORS {result.errors}" if result.errors else "")
                )
        out: dict[str, dict[str, Any]] = {}
        for name, results in runs.items():
            ranked = sorted(results, key=lambda r: r.rps)
            chosen = ranked[len(ranked) // 2]
            row = chosen.as_dict()
            row["rps_runs"] = [r.rps for r in results]
            row["rps_spread"] = round(max(r.rps for r in results) - min(r.rps for r in results), 1)
            out[name] = row
        return out

    def warm(self, targets: Sequence[Target]) -> None:
        for t in targets:
            warm(t.port, t.paths, requests=self.size.warmup_requests, connections=16)


def guard_stats(port: int, backend: str) -> dict[str, int]:
    """The gateway's resilience counters for `backend` (from /metrics)."""
    status, body = http_get(port, "/metrics")
    if status != 200:
        return {}
    out: dict[str, int] = {}
    pattern = re.compile(
        r'^gateway_resilience_events_total\{backend="' + backend + r'",event="([a-z_]+)"\} (\S+)$',
        re.MULTILINE,
    )
    for event, value in pattern.findall(body.decode()):
        out[event] = int(float(value))
    return out


def tool_name() -> str:
    return "wrk" if WRK else "asyncio"
