"""Scenarios 1-6 of the benchmark, side by side in one run (see bench/__init__.py).

`Bench` is the run's servers (bench/launch.py) plus the scenarios over them; each scenario
measures through a `Measurer` (bench/measure.py), with the targets interleaved: on a noisy
machine the ratios between targets hold even where the absolute figures drift.
"""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .launch import BACKEND, Servers, python, runtime_libs
from .load import Paths, run_load, warm
from .measure import Log, Measurer, Target, guard_stats, tool_name
from .procs import ROOT, CpuMeter, Stack, http_get, http_post
from .servers import (
    BENCHMARK,
    DISTINCT_PREFIX,
    RUNNING_STATUS,
    gateway_job_path,
    vendor_job_path,
)
from .sizes import Size

__all__ = ["Bench", "library", "tool_name"]

# Connections filling the memory scenario's cache. Every fill request is a miss, and one
# gateway worker is CPU-bound on misses from the first connection on: more connections only
# add cost per request (proxy hop medians of the 2,351 s full run: 344 req/s at c=1, 305 at
# c=10, 253 at c=64; its fill at c=32 ran at 241 req/s). A few keep the worker busy.
FILL_CONNECTIONS = 4


class Bench(Servers):
    """All the servers of one run, and the scenarios over them."""

    def __init__(self, stack: Stack, size: Size, out: Path, log: Log) -> None:
        super().__init__(stack, size, out, log)
        self.measurer = Measurer(size, log, self.procs, self.notes)

    def proxy_hop(self) -> dict[str, Any]:
        """Scenario 1: direct vs through eval-gateway vs through nginx, cache off."""
        self.log("scenario 1: proxy hop, cache off")
        targets = [
            t
            for t in (
                self.target("upstream", "direct"),
                self.target("gateway", "eval-gateway"),
                self.target("gateway-nolog", "eval-gateway, access log off"),
                self.target("nginx", "nginx"),
            )
            if t is not None
        ]
        self.measurer.warm(targets)
        by_c = {
            str(c): self.measurer.interleaved(targets, c, duration=self.size.duration)
            for c in self.size.concurrencies
        }
        self.log(f"  anchor: {self.size.anchor_requests} requests at concurrency 10")
        anchor = self.measurer.interleaved(targets, 10, requests=self.size.anchor_requests)
        return {"by_concurrency": by_c, "anchor": anchor}

    def cache_hit(self) -> dict[str, Any]:
        """Scenario 2: a cached terminal job vs a bare starlette endpoint, same JSON."""
        self.log("scenario 2: cache hit vs bare starlette")
        targets = [
            t
            for t in (
                self.target("gateway-cache", "eval-gateway (hit)"),
                self.target("gateway-cache-nolog", "eval-gateway (hit), access log off"),
                self.target("bare", "bare starlette"),
            )
            if t is not None
        ]
        self.measurer.warm(targets)
        return {
            "by_concurrency": {
                str(c): self.measurer.interleaved(targets, c, duration=self.size.duration)
                for c in self.size.concurrencies
            }
        }

    def coalescing(self) -> dict[str, Any]:
        """Scenario 3: pollers of one running job -> upstream calls per TTL window."""
        self.log(f"scenario 3: {self.size.pollers} pollers of one running job")
        cases: dict[str, Any] = {}
        setups = [("1 replica", ["gateway-cache"])]
        if "replica-a" in self.procs:
            setups.append(("2 replicas + Redis", ["replica-a", "replica-b"]))
        for n, (label, names) in enumerate(setups, 1):
            job = f"bench-poll-{n}"
            self._new_running_job(job)
            replicas = [self.procs[name] for name in names]
            vendor_path = vendor_job_path(job)
            before = self._upstream_count(vendor_path)
            stats_before = [guard_stats(p.port, BACKEND) for p in replicas]
            each = self.size.pollers // len(replicas)
            path = Paths(path=gateway_job_path(BACKEND, job))
            meter = CpuMeter().start()
            with ThreadPoolExecutor(len(replicas)) as pool:
                futures = [
                    pool.submit(
                        run_load,
                        f"{label}/{p.name}",
                        p.port,
                        path,
                        connections=each,
                        duration=self.size.poll_seconds,
                    )
                    for p in replicas
                ]
                results = [f.result() for f in futures]
            background = meter.stop()
            calls = self._upstream_count(vendor_path) - before
            stats = [
                {k: after.get(k, 0) - b.get(k, 0) for k in after}
                for b, after in zip(
                    stats_before, (guard_stats(p.port, BACKEND) for p in replicas), strict=True
                )
            ]
            seconds = max(r.seconds for r in results)
            windows = seconds / self.size.running_ttl
            served = sum(r.requests for r in results)
            lat = sorted(results, key=lambda r: r.p99_ms)[-1]
            case = {
                "replicas": len(replicas),
                "pollers": each * len(replicas),
                "seconds": seconds,
                "running_ttl": self.size.running_ttl,
                "windows": round(windows, 2),
                "upstream_calls": calls,
                "calls_per_window": round(calls / windows, 2) if windows else None,
                "requests_served": served,
                "rps": round(sum(r.rps for r in results), 1),
                "p50_ms": max(r.p50_ms for r in results),
                "p90_ms": max(r.p90_ms for r in results),
                "p99_ms": lat.p99_ms,
                "errors": sum(r.errors for r in results),
                "background_cores": background,
                "guard_stats": stats,
            }
            self.log(
                f"  {label}: {calls} upstream calls in {seconds:.1f}s "
                f"({case['calls_per_window']} per {self.size.running_ttl:g}s window) for "
                f"{served} polls"
            )
            cases[label] = case
        return cases

    def _new_running_job(self, job: str) -> None:
        body = {
            "lifecycle": [{"status": RUNNING_STATUS, "seconds": None}],
            "data": {"benchmark_id": BENCHMARK, "job_id": job},
        }
        status, answer = http_post(
            self.procs["upstream"].port, "/_sim/jobs", json.dumps(body).encode()
        )
        if status != 201:
            raise RuntimeError(f"could not create the running job: {status} {answer!r}")

    def _upstream_count(self, vendor_path: str) -> int:
        status, body = http_get(self.procs["upstream"].port, "/_sim/requests", timeout=30)
        if status != 200:
            raise RuntimeError(f"/_sim/requests answered {status}")
        counts: dict[str, int] = json.loads(body)["requests"]
        return int(counts.get(f"GET {vendor_path}", 0))

    def workers(self) -> dict[str, Any]:
        """Scenario 6: 1 vs 2 uvicorn workers, cache off and cache hit."""
        self.log("scenario 6: 1 vs 2 workers")
        targets = [
            t
            for t in (
                self.target("gateway", "cache off, 1 worker"),
                self.target("gateway-2w", "cache off, 2 workers"),
                self.target("gateway-cache", "cache hit, 1 worker"),
                self.target("gateway-cache-2w", "cache hit, 2 workers"),
            )
            if t is not None
        ]
        self.measurer.warm(targets)
        for t in targets:  # each worker has its own cache: fill both
            warm(t.port, t.paths, requests=2 * self.size.warmup_requests, connections=64)
        return {
            "by_concurrency": {
                str(c): self.measurer.interleaved(targets, c, duration=self.size.duration)
                for c in self.size.worker_concurrencies
            }
        }

    def memory(self) -> dict[str, Any]:
        """Scenario 4: RSS idle, after N distinct cached jobs, after load on them."""
        n = self.size.cached_jobs
        self.log(f"scenario 4: memory with {n} distinct cached jobs")
        proc = self.procs["gateway-memory"]
        distinct = Paths(prefix=gateway_job_path(BACKEND, DISTINCT_PREFIX), count=n)
        began = time.perf_counter()
        meter = CpuMeter().start()
        fill = run_load(
            "fill", proc.port, distinct, connections=FILL_CONNECTIONS, requests=n, duration=900
        )
        fill.background_cores = meter.stop()
        fill_seconds = time.perf_counter() - began
        stats = guard_stats(proc.port, BACKEND)
        self.note_rss("gateway-memory", "cached")
        load = self.measurer.measure(
            Target("hits over distinct jobs", proc, distinct),
            connections=64,
            duration=self.size.duration,
        )
        self.note_rss("gateway-memory", "after load")
        self.log(
            f"  filled {fill.requests} in {fill_seconds:.1f}s; misses {stats.get('cache_misses')}, "
            f"RSS {self.rss['gateway-memory']}"
        )
        return {
            "jobs": n,
            "fill": fill.as_dict(),
            "fill_guard_stats": stats,
            "hits": load.as_dict(),
        }

    def profiles(self) -> list[dict[str, Any]]:
        """py-spy the gateway (cache off, then cache hit) under load at concurrency 10."""
        from .profile import PY_SPY, record

        seconds = self.size.profile_seconds
        if not seconds:
            return []
        if not Path(PY_SPY).exists():
            self.notes.append("py-spy is not installed: no profile in this run.")
            return []
        self.log("profiling the gateway with py-spy")
        out = []
        for name, label in (
            ("gateway", "eval-gateway, cache off"),
            ("gateway-cache", "eval-gateway, cache hit"),
        ):
            t = self.target(name)
            if t is None:
                continue
            summary = record(
                t.proc, t.paths, self.out / "profile", seconds=seconds, connections=10, log=self.log
            )
            summary["target"] = label
            out.append(summary)
        return out

    def finish(self) -> dict[str, Any]:
        for name in self.procs:
            if name != "gateway-memory":
                self.note_rss(name, "after load")
        libs = {
            name: sorted(runtime_libs(p))
            for name, p in self.procs.items()
            if name.startswith(("gateway", "replica", "bare", "upstream"))
        }
        return {"rss": self.rss, "pss": self.pss, "runtime": libs, "notes": self.notes}


def library(size: Size, log: Log) -> dict[str, Any]:
    """Scenario 5, in a process of its own (nothing else runs meanwhile)."""
    log(f"scenario 5: library get_job, {size.library_calls} calls per case")
    done = subprocess.run(
        [python(), "-m", "bench.library", "--calls", str(size.library_calls)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.library failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    for case in ("hit", "miss", "transport"):
        r = result[case]
        log(f"  {case:<9} p50 {r['p50_us']} us  p99 {r['p99_us']} us  {r['calls_per_s']} calls/s")
    return result
