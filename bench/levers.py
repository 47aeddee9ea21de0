"""Levers before and after: what `python -m bench.ab --json` measured, as a report section.

`bench.ab` serves several source trees side by side in one run (one tree per commit of a
change); `--json docs/benchmarks/levers.json` keeps its figures, and `python -m bench run` or
`python -m bench report` renders them in docs/benchmarks.md beside the full run.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .tables import table

LEVERS_FILE = "levers.json"


def save(
    path: Path,
    rows: dict[str, list[tuple[float, float, float]]],
    *,
    trees: list[list[str]],
    seconds: float,
    rounds: int,
    connections: int,
    title: str,
) -> None:
    """Write one A/B run: each target's rounds (req/s, p50 ms, CPU µs per answer)."""
    data = {
        "title": title,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": seconds,
        "rounds": rounds,
        "connections": connections,
        "trees": [name for name, _ in trees],
        "targets": [
            {"label": label, "rounds": [list(r) for r in runs]} for label, runs in rows.items()
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def load(charts: Path) -> dict[str, Any] | None:
    path = charts / LEVERS_FILE
    return json.loads(path.read_text()) if path.exists() else None


def section(levers: dict[str, Any] | None) -> list[str]:
    """7. Each lever's before and after, measured in one run."""
    if not levers:
        return []
    medians = {
        t["label"]: (
            statistics.median(r[0] for r in t["rounds"]),
            statistics.median(r[1] for r in t["rounds"]),
            statistics.median(r[2] for r in t["rounds"]),
        )
        for t in levers["targets"]
    }
    bare = medians.get("bare", (0.0, 0.0, 0.0))[0]
    rows = []
    for label, (rps, p50, cpu) in medians.items():
        share = f"{rps / bare:.0%}" if bare and label.endswith("hit") else ""
        rows.append([label, f"{rps:,.0f}", f"{p50:.2f}", f"{cpu:.0f}", share])
    return [
        f"## 7. {levers['title']}",
        "",
        f"`python -m bench.ab`, run {levers['started']}: every tree below (the source at one "
        "commit, each adding one lever to the one above) served side by side with the "
        "instant upstream (*direct*) and a bare starlette route returning the same body "
        f"(*bare*); wrk at c={levers['connections']}, {levers['rounds']} rounds of "
        f"{levers['seconds']:g} s interleaved round by round, medians. *miss*: cache off, "
        "every request a distinct completed job; *hit*: one cached job. CPU is the gateway's "
        "own processes' (the upstream's for *direct*), per answer.",
        "",
        *table(["target", "req/s", "p50 ms", "CPU µs / answer", "of bare"], rows),
    ]
