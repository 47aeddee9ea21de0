"""The report's closing notes: plain statements computed from a run's figures."""

from __future__ import annotations

from typing import Any

from .tables import MB


def cpu_us(rows: dict[str, Any], name: str) -> float | None:
    value = rows.get(name, {}).get("server_cpu_us")
    return float(value) if value is not None else None


def reading(res: dict[str, Any]) -> list[str]:
    """Plain statements computed from the figures (so they hold for whatever run wrote them)."""
    out: list[str] = []
    hop = res.get("proxy_hop", {}).get("by_concurrency", {})
    cpus = {c: cpu_us(rows, "eval-gateway") for c, rows in hop.items()}
    nginx = [v for v in (cpu_us(rows, "nginx") for rows in hop.values()) if v]
    direct = [v for v in (cpu_us(rows, "direct") for rows in hop.values()) if v]
    if all(v is not None for v in cpus.values()) and cpus:
        first, last = next(iter(cpus)), list(cpus)[-1]
        lo, hi = cpus[first] or 0.0, cpus[last] or 0.0
        out.append(
            f"A proxied request costs the gateway {lo:,.0f} µs of CPU at concurrency {first} "
            f"and {hi:,.0f} µs at concurrency {last} (nginx: {min(nginx):,.0f}-{max(nginx):,.0f} "
            f"µs; the upstream itself: {min(direct):,.0f}-{max(direct):,.0f} µs). One worker "
            f"is one core at most, so the cache-off ceiling of one worker is about "
            f"{1e6 / lo:,.0f} req/s before the upstream and the load generator take their share "
            "of the 2 cores; 2,000 req/s from one worker needs a proxied request under 500 µs "
            "(one core / 2,000), and the upstream then takes about a third of the other core."
            if lo and nginx and direct
            else f"A proxied request costs the gateway {lo:,.0f}-{hi:,.0f} µs of CPU."
        )
    hit = res.get("cache_hit", {}).get("by_concurrency", {})
    if hit:
        rows = hit.get("10") or next(iter(hit.values()))
        g, b = cpu_us(rows, "eval-gateway (hit)"), cpu_us(rows, "bare starlette")
        n = cpu_us(rows, "eval-gateway (hit), access log off")
        if g and b:
            out.append(
                f"A cache hit costs {g:,.0f} µs of CPU against {b:,.0f} µs for the bare "
                f"starlette route returning the same JSON"
                + (f" ({n:,.0f} µs with the access log off)" if n else "")
                + f": reaching 70% of the bare route's req/s needs a hit under about "
                f"{b / 0.7:,.0f} µs."
            )
    wk = res.get("workers", {}).get("by_concurrency", {})
    for c, rows in wk.items():
        pairs = [
            ("cache off", "cache off, 1 worker", "cache off, 2 workers"),
            ("cache hit", "cache hit, 1 worker", "cache hit, 2 workers"),
        ]
        bits = [
            f"{label} x{rows[two]['rps'] / rows[one]['rps']:.2f}"
            for label, one, two in pairs
            if one in rows and two in rows and rows[one]["rps"]
        ]
        if bits:
            out.append(f"Two workers at concurrency {c}: " + ", ".join(bits) + " req/s.")
    rss = res.get("rss", {}).get("gateway-memory", {})
    mem = res.get("memory")
    if mem and "cached" in rss and "idle" in rss:
        per = (rss["cached"] - rss["idle"]) / max(1, mem["jobs"])
        out.append(
            f"Each cached job costs about {per / 1024:.1f} KiB of RSS: the default "
            f"`max_entries` of 10,000 per backend is about {per * 10_000 / MB:.0f} MB, "
            f"{mem['jobs']:,} jobs about {per * mem['jobs'] / MB:.0f} MB."
        )
    return out
