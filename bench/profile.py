"""Profile the gateway under load with py-spy, and say where its CPU goes.

Each sample's stack is walked from the leaf up and charged to the first stage it meets (the
access log, the upstream HTTP client, pydantic serialization, ...), so the stage shares add
up to 100% of the gateway's busy time. Idle time (waiting in the event loop) is not sampled.

    python -m bench profile [--seconds 20] [--cache]    # stand-alone: bench/out/profile/
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .load import Paths, run_load
from .procs import Proc

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
RATE = 250  # samples per second


@dataclass(frozen=True)
class Stage:
    label: str
    files: tuple[str, ...] = ()  # frame file prefixes
    functions: tuple[str, ...] = ()  # substrings of the frame's function name
    fallback: bool = False  # only when no other stage is on the stack (asyncio helpers)

    def matches(self, function: str, file: str) -> bool:
        if self.files and file.startswith(self.files):
            return True
        return any(f in function for f in self.functions)


# Checked in this order for each frame, from the leaf up; the first hit takes the sample.
# Shared libraries (anyio, contextlib, json, re, uuid) are no stage of their own: their
# time goes to whichever stage called them.
STAGES: tuple[Stage, ...] = (
    Stage("serialize the answer (pydantic model_dump_json)", functions=("model_dump_json",)),
    Stage("copy the job without raw (pydantic model_copy)", functions=("model_copy",)),
    Stage(
        "access log (JSON formatter + handler)",
        ("logging/", "gateway/server/logs.py"),
        ("write_access_line",),  # gateway/server/middleware/access_log.py
    ),
    Stage("Prometheus metrics", ("prometheus_client/",), ("metrics_of",)),
    Stage(
        "decode + validate the vendor answer (json, to_job, pydantic)",
        ("gateway/adapters/",),
        ("Adapter.decode", "to_job"),
    ),
    Stage(
        "upstream HTTP client (aiohttp or httpx)",
        ("gateway/transport/", "aiohttp/", "yarl/", "multidict/", "httpx/", "httpcore/", "h11/"),
    ),
    Stage(
        "resilience guard (cache, single-flight, breaker, retry, tenacity)",
        ("gateway/resilience/", "tenacity/"),
    ),
    Stage("core (AsyncGateway, ids, anyio deadline)", ("gateway/core/", "gateway/ids.py")),
    Stage("server middleware (request id, limits, metrics)", ("gateway/server/middleware/",)),
    Stage("routes, auth, config holder (gateway/server)", ("gateway/server/",)),
    Stage("gateway, other", ("gateway/",)),
    Stage("starlette (routing, Request, Response)", ("starlette/",)),
    Stage("uvicorn + httptools (HTTP server protocol)", ("uvicorn/", "httptools/")),
    Stage("event loop (asyncio / uvloop)", ("asyncio/", "uvloop/"), fallback=True),
)
OTHER = "other"
# Leaves of threads that wait, not work: aiosqlite's worker thread (the ledger's SQLite
# connection) blocks in SimpleQueue.get, which py-spy does not see as idle (it was 16% of the
# "busy" samples of a cache hit with the ledger on, though /proc showed it used no CPU).
BLOCKED_LEAVES = ("_connection_worker_thread (aiosqlite/",)
# The process's entry chain (CLI, uvicorn's server start): at the root of every stack.
ROOT_FILES = (
    "uvicorn/main.py",
    "uvicorn/server.py",
    "uvicorn/_compat.py",
    "gateway/cli.py",
    "typer/",
    "click/",
    "eval-gateway",
)


def _split(frame: str) -> tuple[str, str]:
    """'func (path/file.py:12)' -> ('func', 'path/file.py')."""
    if frame.endswith(")") and " (" in frame:
        function, where = frame[:-1].rsplit(" (", 1)
        return function, where.rsplit(":", 1)[0]
    return frame, ""


def summarize(raw: Path) -> dict[str, Any]:
    """Shares of busy samples: by stage, by function (self), by package (self)."""
    stages: Counter[str] = Counter()
    self_fn: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        if stack.rsplit(";", 1)[-1].startswith(BLOCKED_LEAVES):
            continue  # a thread blocked in C that py-spy still samples as busy
        n = int(count)
        total += n
        frames = stack.split(";")
        leaf_fn, leaf_file = _split(frames[-1])
        self_fn[f"{leaf_fn} ({leaf_file})"] += n
        packages[_package(leaf_file)] += n
        stages[_stage_of(frames)] += n

    def shares(counter: Counter[str], top: int) -> list[tuple[str, float]]:
        return (
            [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)] if total else []
        )

    return {
        "samples": total,
        "stages": shares(stages, len(STAGES) + 1),
        "self": shares(self_fn, 20),
        "packages": shares(packages, 15),
    }


def _stage_of(frames: list[str]) -> str:
    fallback = OTHER
    for frame in reversed(frames):
        function, file = _split(frame)
        if file.startswith(ROOT_FILES):
            continue
        for stage in STAGES:
            if stage.matches(function, file):
                if not stage.fallback:
                    return stage.label
                if fallback == OTHER:
                    fallback = stage.label
    return fallback


def _package(file: str) -> str:
    parts = file.split("/")
    if parts[0] == "gateway" and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0] if parts and parts[0] else "?"


def record(
    proc: Proc,
    paths: Paths,
    out: Path,
    *,
    seconds: int,
    connections: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """py-spy `proc` while `connections` closed-loop clients load it for `seconds`."""
    if not Path(PY_SPY).exists():
        raise RuntimeError("py-spy is not installed (pip install -e '.[bench]')")
    raw = out / f"{proc.name}-c{connections}.txt"
    out.mkdir(parents=True, exist_ok=True)
    argv = [
        PY_SPY,
        "record",
        "--pid",
        str(proc.pid),
        "--subprocesses",
        "--rate",
        str(RATE),
        "--duration",
        str(seconds),
        "--format",
        "raw",
        "--output",
        str(raw),
    ]
    with ThreadPoolExecutor(1) as pool:
        # Load first, then attach: py-spy samples only while the load runs.
        loading = pool.submit(
            run_load, proc.name, proc.port, paths, connections=connections, duration=seconds + 2
        )
        time.sleep(0.5)
        spy = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        result = loading.result()
    if spy.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {spy.stderr[-2000:]}")
    summary = summarize(raw)
    summary["target"] = proc.name
    summary["connections"] = connections
    summary["rps_while_profiled"] = result.rps
    summary["raw"] = raw.name
    log(f"  profiled {proc.name} at c={connections}: {summary['samples']} samples -> {raw}")
    return summary


def profile(out: Path, *, seconds: int, cache: bool, log: Callable[[str], None]) -> None:
    """Stand-alone: start upstream + one gateway, profile it at concurrency 10, print."""
    from .launch import BACKEND, gateway_argv, gateway_config
    from .procs import Stack, free_port
    from .servers import DISTINCT_PREFIX, DONE_JOB, gateway_job_path

    out.mkdir(parents=True, exist_ok=True)
    with Stack(out / "logs") as stack:
        up_port = free_port()
        stack.start(
            "upstream",
            [
                sys.executable,
                "-m",
                "bench.servers",
                "upstream",
                "--port",
                str(up_port),
                "--jobs",
                "1000",
            ],
            port=up_port,
            ready_path="/_sim/requests",
        )
        config = out / "gateway.yaml"
        import json

        config.write_text(json.dumps(gateway_config(up_port, cache=cache)))
        port = free_port()
        gw = stack.start(
            "gateway-cache" if cache else "gateway",
            gateway_argv(config, port, 1),
            port=port,
            ready_path="/healthz",
        )
        # Cache hits read one cached job; cache-off calls cycle through distinct jobs (one id
        # would be coalesced into fewer upstream calls).
        paths = (
            Paths(path=gateway_job_path(BACKEND, DONE_JOB))
            if cache
            else Paths(prefix=gateway_job_path(BACKEND, DISTINCT_PREFIX), count=1000)
        )
        run_load("warm-up", port, paths, connections=10, requests=500)
        summary = record(gw, paths, out, seconds=seconds, connections=10, log=log)
    print(json.dumps(summary, indent=2))
