"""Before/after in one run: gateways from several source trees (or configs) side by side.

    python -m bench.ab --tree before=/tmp/before/src --tree after=src [--seconds 5] [--rounds 3]
        [--json docs/benchmarks/levers.json]   # keep the figures for docs/benchmarks.md (7.)

Each tree is served twice (cache off, over distinct completed jobs; cache on, one cached
terminal job), with the ledger on (a fresh SQLite file) unless `--no-ledger`; `--ledger-ab`
adds the current tree with the ledger off, `--workers 2` a two-worker row. The instant upstream
(bench.servers upstream) and a bare starlette route returning the cached body are the floors.
Every target runs `--rounds` times for `--seconds` at `--connections`, interleaved round by
round, and the median round is printed with the CPU the target's processes spent per answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import levers
from .launch import BACKEND, gateway_config, servers_argv
from .load import Paths, run_load, warm
from .procs import Proc, Stack, free_port, http_get, stack, tree_cpu_seconds
from .servers import DISTINCT_PREFIX, DONE_JOB, gateway_job_path, vendor_job_path

JOBS = 2000


def _gateway(
    st: Stack, name: str, src: str, cfg: dict[str, Any], out: Path, workers: int = 1
) -> Proc:
    path = out / f"{name}.yaml"
    path.write_text(json.dumps(cfg))
    port = free_port()
    argv = [sys.executable, "-c", "from gateway.cli import main; main()", "serve"]
    argv += ["--config", str(path), "--port", str(port), "--workers", str(workers)]
    env = {"PYTHONPATH": str(Path(src).resolve())}
    if "granian" in name:  # measured only: granian (a Rust HTTP server) in PYTHONPATH extras
        extra = os.environ.get("BENCH_AB_GRANIAN_PATH", "")
        env = {"PYTHONPATH": f"{Path(src).resolve()}:{extra}", "EVAL_GATEWAY_CONFIG": str(path)}
        argv = [sys.executable, "-m", "granian", "--interface", "asgi", "--factory"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        argv += ["--loop", "uvloop", "--no-ws", "--log-level", "warning"]
        argv += [os.environ.get("BENCH_AB_GRANIAN_APP", "granian_app:app")]
    return st.start(name, argv, port=port, ready_path="/healthz", env=env, wait=False)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab")
    parser.add_argument("--tree", action="append", required=True, help="NAME=SRC_DIR")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--no-ledger", action="store_true")
    parser.add_argument("--ledger-ab", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", choices=["miss", "hit"], default=None)
    parser.add_argument("--set", action="append", default=[], help="NAME:server.KEY=JSON")
    parser.add_argument(
        "--json", type=Path, default=None, help="keep the figures (docs/benchmarks/levers.json)"
    )
    parser.add_argument("--title", default="Levers, before and after")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    with stack(out) as st:
        up_port = free_port()
        upstream = st.start(
            "upstream",
            servers_argv("upstream", "--port", str(up_port), "--jobs", str(JOBS)),
            port=up_port,
            ready_path="/_sim/requests",
        )
        trees = [t.split("=", 1) for t in args.tree]
        variants: list[tuple[str, str, bool]] = [(n, s, not args.no_ledger) for n, s in trees]
        if args.ledger_ab:
            variants.append((f"{trees[-1][0]}, ledger off", trees[-1][1], False))
        procs: list[tuple[str, Proc, Paths]] = []
        for name, src, ledger in variants:
            for cache in (False, True):
                kind = "hit" if cache else "miss"
                if args.only and args.only != kind:
                    continue
                # NAME@N: this tree with N workers (else --workers)
                workers = int(name.split("@")[1]) if "@" in name else args.workers
                cfg = gateway_config(up_port, cache=cache, workers=workers)
                cfg["ledger"] = (
                    {"enabled": True, "url": f"sqlite+aiosqlite:///{out}/{name}-{kind}.db"}
                    if ledger
                    else {"enabled": False}
                )
                for item in args.set:
                    who, _, assignment = item.partition(":")
                    key, _, value = assignment.partition("=")
                    if who == name:
                        section, _, field = key.partition(".")
                        cfg.setdefault(section, {})[field] = json.loads(value)
                label = f"{name} {kind}"
                proc = _gateway(
                    st,
                    label.replace(" ", "_").replace(",", "").replace("@", "w"),
                    src,
                    cfg,
                    out,
                    workers,
                )
                paths = (
                    Paths(path=gateway_job_path(BACKEND, DONE_JOB))
                    if cache
                    else Paths(prefix=gateway_job_path(BACKEND, DISTINCT_PREFIX), count=JOBS)
                )
                procs.append((label, proc, paths))
        for _, proc, _ in procs:
            st.wait_ready(proc)
        targets = [("direct", upstream, Paths(prefix=vendor_job_path(DISTINCT_PREFIX), count=JOBS))]
        hit = next((p for label, p, _ in procs if label.endswith("hit")), None)
        if hit is not None:
            _, body = http_get(hit.port, gateway_job_path(BACKEND, DONE_JOB))
            (out / "body.json").write_bytes(body)
            bare_port = free_port()
            bare = st.start(
                "bare",
                servers_argv("bare", "--port", str(bare_port), "--body", str(out / "body.json")),
                port=bare_port,
                ready_path="/v1/jobs/ready",
            )
            targets.append(("bare", bare, Paths(path=gateway_job_path(BACKEND, DONE_JOB))))
        targets += procs
        for _, proc, paths in targets:
            warm(proc.port, paths, requests=JOBS + 200, connections=8)
        time.sleep(1)
        rows: dict[str, list[tuple[float, float, float]]] = {t[0]: [] for t in targets}
        for _ in range(args.rounds):
            for label, proc, paths in targets:
                cpu0, up0 = tree_cpu_seconds(proc), tree_cpu_seconds(upstream)
                r = run_load(
                    label, proc.port, paths, connections=args.connections, duration=args.seconds
                )
                cpu = (tree_cpu_seconds(proc) - cpu0) / max(r.requests, 1) * 1e6
                up = (tree_cpu_seconds(upstream) - up0) / max(r.requests, 1) * 1e6
                rows[label].append((r.rps, r.p50_ms, cpu if proc is not upstream else up))
                if r.errors:
                    print(f"  {label}: {r.errors} errors", file=sys.stderr)
        print(f"| target (c={args.connections}) | req/s | p50 ms | CPU us/answer | rounds req/s |")
        print("| --- | --: | --: | --: | --- |")
        for label, runs in rows.items():
            med = statistics.median(r[0] for r in runs)
            p50 = statistics.median(r[1] for r in runs)
            cpu = statistics.median(r[2] for r in runs)
            each = ", ".join(f"{r[0]:,.0f}" for r in runs)
            print(f"| {label} | {med:,.0f} | {p50:.2f} | {cpu:.0f} | {each} |")
        if args.json is not None:
            levers.save(
                args.json,
                rows,
                trees=trees,
                seconds=args.seconds,
                rounds=args.rounds,
                connections=args.connections,
                title=args.title,
            )
        for label, proc, _ in procs:
            _, text = http_get(proc.port, "/metrics")
            conns = [
                ln
                for ln in text.decode().splitlines()
                if "upstream_connections" in ln and not ln.startswith("#")
            ]
            if conns:
                print(f"{label}: {'; '.join(conns)}")


if __name__ == "__main__":
    main()
