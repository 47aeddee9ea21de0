"""The report's sections, one per scenario: each returns its markdown lines and draws its
charts into `charts` (docs/benchmarks/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import charts as draw
from .goals import ANCHORS
from .tables import RUN_HEADER, mb, ms, run_rows, table


def proxy_hop(res: dict[str, Any], charts: Path) -> list[str]:
    """1. The proxy hop, cache off: a table per concurrency, the anchor setup, charts."""
    size = res["size"]
    md: list[str] = []
    hop = res.get("proxy_hop")
    if hop:
        md += [
            "## 1. Proxy hop, cache off",
            "",
            "The same job-status request (a completed Llama Stack job) straight to the "
            "instant upstream (the Llama Stack simulator served standalone by uvicorn), "
            "through `eval-gateway serve` with the cache off (default settings otherwise: "
            "access log on, one worker) and through nginx `proxy_pass` (one worker, upstream "
            "keep-alive). Each request names another completed job (the runs cycle through "
            "distinct job ids): with a single id, concurrent identical requests are coalesced "
            "into one upstream call even with the cache off, which is not a proxy hop. *p50 "
            "added* is over the direct call at the same concurrency; *CPU µs / answer* is the "
            "CPU the target's own processes spent per answer (from /proc).",
            "",
        ]
        for c, rows in hop["by_concurrency"].items():
            md += [f"**Concurrency {c}**", ""]
            md += table(RUN_HEADER, run_rows(rows, "direct"))
        draw.chart_runs(hop["by_concurrency"], "proxy hop, cache off", charts / "proxy-hop.png")
        md += ["![proxy hop](benchmarks/proxy-hop.png)", ""]
        anchor = hop["anchor"]
        md += [
            f"**The published anchor setup: {size['anchor_requests']:,} requests at "
            "concurrency 10**",
            "",
        ]
        md += table(RUN_HEADER, run_rows(anchor, "direct"))
        rss = res.get("rss", {})
        rows_a = []
        # The upstream's own memory is left out: it holds every benchmark job.
        for name, key in (("eval-gateway", "gateway"), ("direct", ""), ("nginx", "nginx")):
            if name in anchor:
                r = anchor[name]
                mem = rss.get(key, {}).get("after load") if key else None
                rows_a.append(
                    [
                        name + " (this machine)",
                        ms(r["p50_ms"]),
                        ms(r["p99_ms"]),
                        f"{r['rps']:,.0f}",
                        mb(mem) if mem else "",
                    ]
                )
        rows_a += [
            [f"{a[0]} (published)", str(a[1]), str(a[2]), f"{a[3]:,}", a[4]] for a in ANCHORS
        ]
        md += table(["", "p50 ms", "p99 ms", "req/s", "memory"], rows_a)
        draw.chart_anchor(anchor, charts / "anchor.png")
        md += ["![anchor](benchmarks/anchor.png)", ""]
    return md


def cache_hit(res: dict[str, Any], charts: Path) -> list[str]:
    """2. Cache hit against the bare starlette route."""
    md: list[str] = []
    hit = res.get("cache_hit")
    if hit:
        md += [
            "## 2. Cache hit",
            "",
            "eval-gateway answering a cached terminal job (cache on: fresh for "
            "`terminal_ttl`) vs a bare starlette route returning the same JSON (a "
            "`JSONResponse` of the body the gateway answered) under the same uvicorn "
            "settings: the limit for this stack.",
            "",
        ]
        for c, rows in hit["by_concurrency"].items():
            ratio = ""
            if "bare starlette" in rows and rows["bare starlette"]["rps"]:
                share = rows["eval-gateway (hit)"]["rps"] / rows["bare starlette"]["rps"]
                ratio = f" — gateway at {share:.0%} of bare starlette"
            md += [f"**Concurrency {c}**{ratio}", ""]
            md += table(RUN_HEADER, run_rows(rows, "bare starlette"))
        draw.chart_runs(
            hit["by_concurrency"], "cache hit vs bare starlette", charts / "cache-hit.png"
        )
        md += ["![cache hit](benchmarks/cache-hit.png)", ""]
    return md


def coalescing(res: dict[str, Any], charts: Path) -> list[str]:
    """3. Pollers of one running job: upstream calls per TTL window."""
    size = res["size"]
    md: list[str] = []
    co = res.get("coalescing")
    if co:
        md += [
            "## 3. Coalescing",
            "",
            f"{size['pollers']:,} closed-loop pollers (one connection each, no think time: "
            "the worst case) of one running job for "
            f"{size['poll_seconds']} s, `running_ttl` {size['running_ttl']:g} s. Upstream "
            "calls are counted by the simulator (`GET /_sim/requests`). With two replicas, "
            "half the pollers poll each and the replicas share Redis.",
            "",
        ]
        rows_c = []
        for label, c in co.items():
            gs = c.get("guard_stats", [])
            hits = sum(s.get("cache_hits", 0) for s in gs)
            joined = sum(s.get("coalesced_waits", 0) for s in gs)
            remote = sum(s.get("remote_coalesced_waits", 0) for s in gs)
            rows_c.append(
                [
                    label,
                    f"{c['pollers']:,}",
                    f"{c['requests_served']:,}",
                    c["upstream_calls"],
                    c["windows"],
                    c["calls_per_window"],
                    f"{hits:,} / {joined:,} / {remote:,}"
                    if any(gs)
                    else "n/a (/metrics unavailable)",
                    f"{c['rps']:,.0f}",
                    ms(c["p50_ms"]),
                    ms(c["p99_ms"]),
                    c["errors"],
                    c.get("background_cores", 0),
                ]
            )
        md += table(
            [
                "setup",
                "pollers",
                "polls answered",
                "upstream calls",
                "TTL windows",
                "calls per window",
                "hits / coalesced / via Redis",
                "req/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "others' CPU",
            ],
            rows_c,
        )
        draw.chart_coalescing(co, charts / "coalescing.png")
        md += ["![coalescing](benchmarks/coalescing.png)", ""]
    return md


def memory(res: dict[str, Any], charts: Path) -> list[str]:
    """4. RSS (PSS) per process and stage; the cache fill."""
    md: list[str] = []
    mem = res.get("memory")
    rss = res.get("rss", {})
    if mem or rss:
        md += [
            "## 4. Memory",
            "",
            "RSS from /proc, PSS in brackets (shared pages split between processes: the fair "
            "sum for the 2-worker trees, master + workers + resource tracker). *idle*: "
            "after start, before any load; *after load*: at the end of the run. "
            + (
                f"`gateway-memory` then read {mem['jobs']:,} distinct completed jobs once "
                f"each (all cached: `max_entries` raised to fit), then served "
                f"{mem['hits']['requests']:,} hits over them."
                if mem
                else ""
            ),
            "",
        ]
        pss = res.get("pss", {})

        def cell(name: str, stage: str) -> str:
            value = rss.get(name, {}).get(stage)
            if value is None:
                return ""
            shared = pss.get(name, {}).get(stage)
            return mb(value) + (f" ({mb(shared)})" if shared else "")

        rows_m = [
            [name, cell(name, "idle"), cell(name, "cached"), cell(name, "after load")]
            for name in rss
        ]
        md += table(
            [
                "process: RSS (PSS)",
                "idle",
                f"after {mem['jobs']:,} cached jobs" if mem else "cached",
                "after load",
            ],
            rows_m,
        )
        if mem:
            f = mem["fill"]
            gs = mem.get("fill_guard_stats", {})
            per_entry = (
                rss.get("gateway-memory", {}).get("cached", 0)
                - rss.get("gateway-memory", {}).get("idle", 0)
            ) / max(1, mem["jobs"])
            md += [
                f"Filling took {f['seconds']:.0f} s ({f['rps']:,.0f} req/s, all misses"
                + (
                    f": {gs.get('cache_misses', 0):,} misses, {gs.get('upstream_calls', 0):,} "
                    "upstream calls"
                    if gs
                    else ""
                )
                + f"); about {per_entry / 1024:.1f} KiB of RSS per cached job. "
                f"Hits over the {mem['jobs']:,} jobs: {mem['hits']['rps']:,.0f} req/s, p50 "
                f"{ms(mem['hits']['p50_ms'])} ms, p99 {ms(mem['hits']['p99_ms'])} ms.",
                "",
            ]
        draw.chart_memory(rss, charts / "memory.png")
        md += ["![memory](benchmarks/memory.png)", ""]
    return md


def library(res: dict[str, Any], charts: Path) -> list[str]:
    """5. The library in-process."""
    md: list[str] = []
    lib = res.get("library")
    if lib:
        md += [
            "## 5. Library",
            "",
            "`AsyncGateway.get_job` in-process against the in-process simulator "
            "(`sim://llama-stack`, no socket), one task calling in a loop (plain asyncio). "
            "*hit*: a completed job served from the cache; *miss*: the cache off, so every "
            "call runs the guard, the adapter, httpx and the simulator app; *simulator "
            "alone*: the same httpx call to the simulator without the gateway, so "
            "miss minus simulator alone is the gateway's own cost.",
            "",
        ]
        rows_l = [
            [
                name,
                f"{lib[k]['calls']:,}",
                f"{lib[k]['calls_per_s']:,.0f}",
                lib[k]["p50_us"],
                lib[k]["p90_us"],
                lib[k]["p99_us"],
            ]
            for name, k in (
                ("get_job, cache hit", "hit"),
                ("get_job, cache miss", "miss"),
                ("simulator alone (httpx)", "transport"),
            )
        ]
        md += table(["case", "calls", "calls/s", "p50 µs", "p90 µs", "p99 µs"], rows_l)
        draw.chart_library(lib, charts / "library.png")
        md += ["![library](benchmarks/library.png)", ""]
    return md


def workers(res: dict[str, Any], charts: Path) -> list[str]:
    """6. 1 vs 2 uvicorn workers."""
    md: list[str] = []
    wk = res.get("workers")
    if wk:
        md += [
            "## 6. Workers",
            "",
            "`eval-gateway serve --workers 1` vs `--workers 2`, cache off (the proxy hop) "
            "and cache hit (each worker keeps its own cache). The upstream and the load "
            "generator share the same 2 cores.",
            "",
        ]
        for c, rows in wk["by_concurrency"].items():
            md += [f"**Concurrency {c}**", ""]
            md += table(RUN_HEADER, run_rows(rows, None))
        draw.chart_runs(wk["by_concurrency"], "1 vs 2 uvicorn workers", charts / "workers.png")
        md += ["![workers](benchmarks/workers.png)", ""]
    return md


def profiles(res: dict[str, Any], charts: Path) -> list[str]:
    """Where the time goes: py-spy stages and top functions."""
    md: list[str] = []
    profiles = res.get("profiles")
    if profiles:
        md += [
            "## Where the time goes (py-spy)",
            "",
            "py-spy sampled the gateway under closed-loop load; each busy sample is charged "
            "to the innermost stage on its stack (idle time is not sampled). See "
            "bench/profile.py for the stages.",
            "",
        ]
        for prof in profiles:
            md += [
                f"**{prof['target']} at concurrency {prof['connections']}** "
                f"({prof['samples']:,} samples, {prof['rps_while_profiled']:,.0f} req/s "
                "while sampled)",
                "",
            ]
            md += table(["stage", "% of busy time"], prof["stages"])
            md += ["Top functions by own time:", ""]
            md += table(["function", "%"], prof["self"][:12])
        draw.chart_profile(profiles, charts / "profile.png")
        md += ["![profile](benchmarks/profile.png)", ""]
    return md
