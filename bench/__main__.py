"""python -m bench: run the benchmark, re-render its report, or profile the proxy hop.

python -m bench run                 # full size: writes docs/benchmarks.md + docs/benchmarks/
python -m bench run --size tiny     # CI smoke run (<1 min): writes bench/out/tiny/
python -m bench report FILE.json    # re-render a report from a run's results
python -m bench profile             # py-spy the gateway under load: bench/out/profile/
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from .machine import describe
from .measure import tool_name
from .procs import Stack
from .scenarios import Bench, library
from .sizes import SIZES, Size

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit("bench: time limit reached; stopping every process")


def run(size: Size, docs: Path, work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(size.time_limit)  # the whole run is bounded; the Stack cleans up on exit
    began = time.perf_counter()
    results: dict[str, Any] = {
        "size": size.as_dict(),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": describe(ROOT),
        "load_tool": tool_name(),
    }
    previous = docs / "benchmarks" / "results.json"
    if previous.is_file():
        from .report import previous_summary

        earlier = json.loads(previous.read_text())
        if earlier.get("size", {}).get("name") == size.name:
            results["previous"] = previous_summary(earlier)
    partial = work / "results.partial.json"
    try:
        results["library"] = library(size, log)
        with Stack(work / "logs") as stack:
            bench = Bench(stack, size, work, log)
            bench.start()
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("proxy_hop", bench.proxy_hop),
                ("cache_hit", bench.cache_hit),
                ("coalescing", bench.coalescing),
                ("workers", bench.workers),
                ("memory", bench.memory),
                ("profiles", bench.profiles),
            ]
            for key, step in steps:
                results[key] = step()
                # Kept as it goes: a run stopped later still leaves what it measured.
                partial.write_text(json.dumps(results, indent=2))
            results.update(bench.finish())
    finally:
        signal.alarm(0)
    results["seconds"] = round(time.perf_counter() - began, 1)
    data = work / "results.json"
    data.write_text(json.dumps(results, indent=2))
    log(f"results: {data.relative_to(ROOT) if data.is_relative_to(ROOT) else data}")
    from .report import write_report

    page = write_report(results, docs)
    log(f"report: {page} ({results['seconds']} s)")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run scenarios 1-6 and write the report")
    p_run.add_argument("--size", choices=sorted(SIZES), default="full")
    p_run.add_argument(
        "--docs",
        type=Path,
        help="where benchmarks.md and its charts go (default: docs/ for full, "
        "bench/out/<size>/ otherwise)",
    )
    p_report = sub.add_parser("report", help="re-render the report from a results.json")
    p_report.add_argument("results", type=Path)
    p_report.add_argument("--docs", type=Path, default=ROOT / "docs")
    p_up = sub.add_parser("up", help="start every server of a run and wait (for poking at)")
    p_up.add_argument("--size", choices=sorted(SIZES), default="tiny")
    p_prof = sub.add_parser("profile", help="py-spy the gateway's proxy hop under load")
    p_prof.add_argument("--seconds", type=int, default=20)
    p_prof.add_argument("--cache", action="store_true", help="profile cache hits instead")
    args = parser.parse_args(argv)
    if args.command == "run":
        size = SIZES[args.size]
        work = OUT / size.name
        docs = args.docs or (ROOT / "docs" if size.name == "full" else work)
        run(size, docs, work)
    elif args.command == "up":
        size = SIZES[args.size]
        work = OUT / f"up-{size.name}"
        work.mkdir(parents=True, exist_ok=True)
        with Stack(work / "logs") as stack:
            bench = Bench(stack, size, work, log)
            bench.start()
            (work / "ports.json").write_text(
                json.dumps({name: p.port for name, p in bench.procs.items()})
            )
            log(f"up; ports in {work / 'ports.json'}; Ctrl-C or SIGTERM stops everything")
            signal.pause()
    elif args.command == "report":
        from .report import write_report

        print(write_report(json.loads(args.results.read_text()), args.docs))
    else:
        from .profile import profile

        profile(OUT / "profile", seconds=args.seconds, cache=args.cache, log=log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
