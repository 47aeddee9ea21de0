"""Markdown building blocks of the report: number formats, a table, the load-run table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

MB = 1024 * 1024


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def mb(value: float) -> str:
    return f"{value / MB:.0f} MB"


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def run_rows(rows: dict[str, dict[str, Any]], base: str | None) -> list[list[object]]:
    out: list[list[object]] = []
    base_p50 = rows[base]["p50_ms"] if base and base in rows else None
    for name, r in rows.items():
        added = "" if base_p50 is None or name == base else f"{r['p50_ms'] - base_p50:+.2f}"
        out.append(
            [
                name,
                f"{r['rps']:,.0f}",
                ms(r["p50_ms"]),
                ms(r["p90_ms"]),
                ms(r["p99_ms"]),
                ms(r["p999_ms"]),
                added,
                f"{r['requests']:,}",
                r["errors"],
                "" if r.get("server_cpu_us") is None else f"{r['server_cpu_us']:.0f}",
                r.get("background_cores", 0),
            ]
        )
    return out


RUN_HEADER = [
    "target",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99.9 ms",
    "p50 added ms",
    "requests",
    "errors",
    "CPU µs / answer",
    "others' CPU (cores)",
]
