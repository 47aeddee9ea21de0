"""The levers section of docs/benchmarks.md: what `bench.ab --json` kept, as medians per target
with a cache hit's share of the bare route."""

from __future__ import annotations

from pathlib import Path

from bench import levers


def test_a_kept_ab_run_renders_medians_and_the_hits_share_of_bare(tmp_path: Path) -> None:
    rows = {
        "bare": [(10_000.0, 0.5, 50.0), (12_000.0, 0.4, 60.0), (11_000.0, 0.6, 55.0)],
        "before hit": [(4_000.0, 2.0, 200.0), (5_000.0, 1.8, 190.0), (4_500.0, 1.9, 195.0)],
        "after hit": [(6_000.0, 1.1, 100.0), (5_500.0, 1.2, 110.0), (7_000.0, 1.0, 90.0)],
        "after miss": [(2_000.0, 4.0, 400.0), (2_100.0, 4.1, 410.0), (1_900.0, 4.2, 420.0)],
    }
    levers.save(
        tmp_path / levers.LEVERS_FILE,
        rows,
        trees=[["before", "/tmp/b"], ["after", "src"]],
        seconds=4,
        rounds=3,
        connections=10,
        title="Levers of issue 15",
    )
    page = "\n".join(levers.section(levers.load(tmp_path)))
    assert "## 7. Levers of issue 15" in page
    assert "| bare | 11,000 | 0.50 | 55 |  |" in page
    assert "| before hit | 4,500 | 1.90 | 195 | 41% |" in page
    assert "| after hit | 6,000 | 1.10 | 100 | 55% |" in page
    assert "| after miss | 2,000 | 4.10 | 410 |  |" in page  # a share only for hits


def test_without_a_kept_run_there_is_no_section(tmp_path: Path) -> None:
    assert levers.section(levers.load(tmp_path)) == []
