"""Status board server time over 100,000 ledger rows: `python -m bench.ui_bench`.

Fills a SQLite ledger as bench.ledger_bench does, then times the board's pages end to end in
process (ASGI, no socket: the server's own time, templates included) and prints p50/p95.
Goal (issue 14): overview and jobs page p50 <= 50 ms. Not part of `python -m bench run`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from gateway.config import GatewayConfig, config_from_dict
from gateway.server.app import create_app

from .ledger_bench import BACKENDS, _insert

GOAL_P50_MS = 50.0
VENDOR_SIM = {
    "llama-stack": "sim://llama-stack",
    "nemo-evaluator": "sim://nemo-evaluator",
    "overmind": "sim://overmind",
    "digitalocean-genai": "sim://digitalocean-genai",
    "datarobot-genai": "sim://datarobot-genai",
}
PAGES = {
    "overview": "/ui",
    "jobs, newest first": "/ui/jobs",
    "jobs, failed on one backend": "/ui/jobs?status=failed&backend=nemo",
    "jobs, search by name": "/ui/jobs?name=gsm8k&sort=-updated",
    "jobs, 200 per page": "/ui/jobs?page_size=200",
    "jobs fragment (live poll)": "/ui/jobs?fragment=live",
}


def bench_config(url: str) -> GatewayConfig:
    return config_from_dict(
        {
            "backends": {
                name: {"vendor": vendor, "base_url": VENDOR_SIM[vendor]}
                for name, vendor in BACKENDS
            },
            "server": {"reload": {"watch": False}, "access_log": False},
            "ledger": {"url": url},
        }
    )


async def run(rows: int, calls: int) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        app = create_app(bench_config(f"sqlite+aiosqlite:///{Path(tmp) / 'ledger.sqlite3'}"))
        gw = app.state.holder.current.gateway
        seconds = await _insert(await gw.open_ledger(), rows)
        print(f"inserted {rows:,} rows in {seconds:.1f} s")
        results = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, path in PAGES.items():
                for _ in range(5):  # warm templates, pool and the database's caches
                    (await client.get(path)).raise_for_status()
                timings = []
                for _ in range(calls):
                    started = time.perf_counter()
                    answer = await client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
                p95 = statistics.quantiles(timings, n=100)[94]
                results.append((name, statistics.median(timings), p95))
        await gw.aclose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    results = asyncio.run(run(args.rows, args.calls))
    print(f"\nstatus board over {args.rows:,} ledger rows (SQLite), in-process server time")
    print(f"| {'page':<32} | p50 ms | p95 ms |")
    print(f"|{'-' * 34}|--------|--------|")
    for name, p50, p95 in results:
        print(f"| {name:<32} | {p50:6.1f} | {p95:6.1f} |")
    worst = max(p50 for _, p50, _ in results)
    met = worst <= GOAL_P50_MS
    print(f"goal p50 <= {GOAL_P50_MS:.0f} ms: {'met' if met else 'MISSED'} (worst p50 {worst:.1f})")
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
