"""The report's PNG charts (matplotlib, Agg backend), one function per chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .goals import ANCHORS, TARGET_IDLE_MB, TARGET_RPS
from .tables import MB

COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _log_axis(ax: Any) -> None:
    """Log scale with plain tick labels (0.5, 2, 100), not 5x10^-1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def chart_runs(by_c: dict[str, dict[str, dict[str, Any]]], title: str, path: Path) -> None:
    """Per concurrency: p50/p90/p99 per target; last panel: req/s per target and concurrency."""
    plt = _plt()
    conc = list(by_c)
    targets = list(next(iter(by_c.values())))
    fig, axes = plt.subplots(1, len(conc) + 1, figsize=(4.2 * (len(conc) + 1), 3.6))
    width = 0.8 / len(targets)
    for ax, c in zip(axes[:-1], conc, strict=False):
        rows = by_c[c]
        for i, t in enumerate(targets):
            vals = [rows[t]["p50_ms"], rows[t]["p90_ms"], rows[t]["p99_ms"]]
            xs = [k + (i - (len(targets) - 1) / 2) * width for k in range(3)]
            ax.bar(xs, vals, width, label=t, color=COLORS[i % len(COLORS)])
        ax.set_xticks(range(3), ["p50", "p90", "p99"])
        _log_axis(ax)
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title(f"latency, concurrency {c}")
    ax = axes[-1]
    for i, t in enumerate(targets):
        xs = [k + (i - (len(targets) - 1) / 2) * width for k in range(len(conc))]
        ax.bar(xs, [by_c[c][t]["rps"] for c in conc], width, label=t, color=COLORS[i % len(COLORS)])
    ax.set_xticks(range(len(conc)), [f"c={c}" for c in conc])
    ax.set_ylabel("requests/s")
    ax.set_title("throughput")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def chart_anchor(anchor: dict[str, dict[str, Any]], path: Path) -> None:
    plt = _plt()
    names = list(anchor) + [f"{a[0]} (published)" for a in ANCHORS]
    p50 = [anchor[n]["p50_ms"] for n in anchor] + [a[1] for a in ANCHORS]
    p99 = [anchor[n]["p99_ms"] for n in anchor] + [a[2] for a in ANCHORS]
    rps = [anchor[n]["rps"] for n in anchor] + [a[3] for a in ANCHORS]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    xs = range(len(names))
    a1.bar([x - 0.2 for x in xs], p50, 0.4, label="p50", color=COLORS[0])
    a1.bar([x + 0.2 for x in xs], p99, 0.4, label="p99", color=COLORS[1])
    a1.set_xticks(list(xs), names, rotation=25, ha="right")
    _log_axis(a1)
    a1.set_ylabel("latency (ms, log scale)")
    a1.set_title("anchor setup: 8,000 requests at concurrency 10")
    a1.legend()
    colors = [COLORS[2] if i < len(anchor) else "#BBBBBB" for i in range(len(names))]
    a2.bar(list(xs), rps, 0.6, color=colors)
    a2.axhline(TARGET_RPS, color=COLORS[3], linestyle="--", linewidth=1)
    a2.text(len(names) - 0.5, TARGET_RPS, "target 2,000", color=COLORS[3], ha="right", va="bottom")
    a2.set_xticks(list(xs), names, rotation=25, ha="right")
    a2.set_ylabel("requests/s")
    a2.set_title("throughput (published anchors: other machines)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def chart_coalescing(cases: dict[str, dict[str, Any]], path: Path) -> None:
    plt = _plt()
    names = list(cases)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    xs = range(len(names))
    a1.bar(
        [x - 0.2 for x in xs],
        [cases[n]["requests_served"] for n in names],
        0.4,
        label="polls answered",
        color=COLORS[0],
    )
    a1.bar(
        [x + 0.2 for x in xs],
        [max(cases[n]["upstream_calls"], 0.5) for n in names],
        0.4,
        label="upstream calls",
        color=COLORS[1],
    )
    a1.set_yscale("log")
    a1.set_xticks(list(xs), names)
    a1.set_title("polls answered vs upstream calls (log scale)")
    a1.legend()
    a2.bar(list(xs), [cases[n]["calls_per_window"] or 0 for n in names], 0.5, color=COLORS[2])
    a2.axhline(1, color=COLORS[3], linestyle="--", linewidth=1)
    a2.set_xticks(list(xs), names)
    a2.set_ylabel("upstream calls per TTL window")
    a2.set_title("target: 1 per window")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def chart_memory(rss: dict[str, dict[str, int]], path: Path) -> None:
    plt = _plt()
    names = [n for n in rss if n not in ("redis", "nginx")]
    stages = ["idle", "cached", "after load"]
    fig, ax = plt.subplots(figsize=(11, 3.8))
    width = 0.8 / len(stages)
    for i, stage in enumerate(stages):
        xs = [k + (i - 1) * width for k in range(len(names))]
        ax.bar(xs, [rss[n].get(stage, 0) / MB for n in names], width, label=stage, color=COLORS[i])
    ax.axhline(TARGET_IDLE_MB, color=COLORS[3], linestyle="--", linewidth=1)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.set_ylabel("RSS (MB)")
    ax.set_title("resident memory by process (workers: whole process tree)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def chart_library(lib: dict[str, Any], path: Path) -> None:
    plt = _plt()
    cases = ["hit", "miss", "transport"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, p in enumerate(("p50_us", "p90_us", "p99_us")):
        xs = [k + (i - 1) * 0.27 for k in range(len(cases))]
        a1.bar(xs, [lib[c][p] for c in cases], 0.27, label=p.split("_")[0], color=COLORS[i])
    a1.set_yscale("log")
    a1.set_xticks(range(len(cases)), ["get_job hit", "get_job miss", "simulator call alone"])
    a1.set_ylabel("µs per call (log)")
    a1.legend()
    a1.set_title("in-process latency per call")
    a2.bar(range(len(cases)), [lib[c]["calls_per_s"] for c in cases], 0.5, color=COLORS[2])
    a2.set_xticks(range(len(cases)), ["hit", "miss", "simulator alone"])
    a2.set_ylabel("calls/s (one task, sequential)")
    a2.set_title("throughput")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def chart_profile(profiles: list[dict[str, Any]], path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, len(profiles), figsize=(7 * len(profiles), 4.2), squeeze=False)
    for ax, prof in zip(axes[0], profiles, strict=False):
        stages = [s for s in prof["stages"] if s[1] >= 0.5][::-1]
        ax.barh([s[0] for s in stages], [s[1] for s in stages], color=COLORS[0])
        ax.set_xlabel("% of busy samples")
        ax.set_title(f"{prof['target']} at c={prof['connections']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
