"""Job reads with the ledger on vs off, in-process (python -m bench.ledger_overhead).

One AsyncGateway on the in-process NeMo v2 simulator: cache-hit reads (the running job's 2 s
window) and cache-miss reads (`fresh=True`: every read is a vendor call through the guard),
with `ledger.enabled` false and true (SQLite in a temp dir). Rounds alternate off/on to share
the machine's noise; the figure is the median per-read time over the rounds. Goal: on <= 10%
slower (observing is a dict look-up for an unchanged job; a change is queued, written later).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway import AsyncGateway

BACKEND = "nemo"


def config(ledger_dir: Path, enabled: bool) -> dict[str, Any]:
    return {
        "backends": {
            BACKEND: {
                "vendor": "nemo-evaluator",
                "api_version": "v2",
                "base_url": "sim://nemo-evaluator",
            }
        },
        "ledger": {
            "enabled": enabled,
            "url": f"sqlite+aiosqlite:///{ledger_dir / 'ledger.sqlite3'}",
        },
    }


async def paired(
    gateways: dict[str, AsyncGateway], job_ids: list[str], reads: int, fresh: bool, flip: bool
) -> dict[str, float]:
    """Seconds per read for each gateway, reads interleaved one by one (off, on, off, on...;
    `flip` starts with the other), so both see the same machine noise and cache timing."""
    order = list(gateways.items())[::-1] if flip else list(gateways.items())
    spent = dict.fromkeys(gateways, 0.0)
    clock = time.perf_counter
    for n in range(reads):
        job_id = job_ids[n % len(job_ids)]
        for mode, gw in order:
            began = clock()
            await gw.fetch_job(job_id, fresh=fresh)
            spent[mode] += clock() - began
    return {mode: total / reads for mode, total in spent.items()}


async def run(reads: int, rounds: int) -> dict[str, dict[str, float]]:
    samples: dict[str, dict[str, list[float]]] = {
        kind: {"off": [], "on": []} for kind in ("hit", "miss")
    }
    with tempfile.TemporaryDirectory() as tmp:
        gateways = {
            "off": AsyncGateway(config(Path(tmp), False)),
            "on": AsyncGateway(config(Path(tmp), True)),
        }
        # The simulator's seeded jobs have the same ids in both gateways.
        job_ids = [j.id for j in (await gateways["on"].list_jobs(BACKEND)).items]
        await (await gateways["on"].open_ledger()).flush()  # opened and warm before timing
        await paired(gateways, job_ids, 200, fresh=True, flip=False)  # warm-up
        for n in range(rounds):
            for kind, fresh in (("miss", True), ("hit", False)):
                for mode, value in (
                    await paired(gateways, job_ids, reads, fresh, n % 2 == 1)
                ).items():
                    samples[kind][mode].append(value)
        for gw in gateways.values():
            await gw.aclose()
    return {
        kind: {mode: statistics.median(values) * 1e6 for mode, values in by_mode.items()}
        for kind, by_mode in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000, help="reads per round and mode")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    figures = asyncio.run(run(args.reads, args.rounds))
    print("read       ledger off    ledger on    on vs off")
    for kind, by_mode in figures.items():
        off, on = by_mode["off"], by_mode["on"]
        print(f"cache {kind:<4}  {off:8.1f} us  {on:8.1f} us  {100 * (on / off - 1):+6.1f}%")


if __name__ == "__main__":
    main()
