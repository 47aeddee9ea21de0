"""The two non-gateway servers of the benchmark, each run as its own process.

    python -m bench.servers upstream --port N [--jobs 100000]
    python -m bench.servers bare --port N --body FILE

`upstream` is the Llama Stack simulator (the same app `eval-gateway simulate llama-stack`
serves, without its keep-alive quirk) seeded with the benchmark's jobs: it answers at once.
`bare` is the floor for a cached answer on this stack: a starlette route that returns the JSON
the gateway returns for the cached job, under the same uvicorn settings as the gateway.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

VENDOR = "llama-stack"
BENCHMARK = "mmlu"  # a registered Llama Stack benchmark of the simulator
DONE_JOB = "bench-done"  # a completed (terminal) job: what the cache-hit runs read
DISTINCT_PREFIX = "bench-"  # bench-0 ... bench-(N-1): completed jobs for the memory scenario
RUNNING_STATUS = "in_progress"  # Llama Stack's word for a running job


def vendor_job_path(job: str) -> str:
    """The vendor's own status path of a job (what a direct call requests)."""
    return f"/v1alpha/eval/benchmarks/{BENCHMARK}/jobs/{job}"


def gateway_job_path(backend: str, job: str) -> str:
    """The gateway's status path of the same job."""
    return f"/v1/jobs/{backend}~{BENCHMARK}~{job}"


def upstream_app(jobs: int) -> Starlette:
    from gateway.simulators import create_app, vendor_sim
    from gateway.simulators.engine import Stage

    app = create_app(VENDOR, quirks=False)
    state = app.state.sim
    sim = vendor_sim(VENDOR)
    done = [Stage("completed")]
    sim.new_job(state, done, {"benchmark_id": BENCHMARK, "job_id": DONE_JOB})
    for i in range(jobs):
        sim.new_job(state, done, {"benchmark_id": BENCHMARK, "job_id": f"{DISTINCT_PREFIX}{i}"})
    return app


def bare_app(body: Any) -> Starlette:
    async def job(request: Request) -> Response:
        return JSONResponse(body)

    return Starlette(routes=[Route("/v1/jobs/{job_id}", job, methods=["GET"])])


def serve(app: Starlette, port: int) -> None:
    # The gateway's own uvicorn settings (gateway.cli.serve): auto loop/http (uvloop and
    # httptools when installed), no access log, no proxy headers, no server header.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    sub = parser.add_subparsers(dest="which", required=True)
    up = sub.add_parser("upstream", help="the Llama Stack simulator with the benchmark's jobs")
    up.add_argument("--port", type=int, required=True)
    up.add_argument("--jobs", type=int, default=0, help="distinct completed jobs bench-<i>")
    bare = sub.add_parser("bare", help="a bare starlette route returning a fixed JSON body")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--body", type=Path, required=True, help="JSON file to answer with")
    args = parser.parse_args()
    if args.which == "upstream":
        serve(upstream_app(args.jobs), args.port)
    else:
        serve(bare_app(json.loads(args.body.read_text())), args.port)


if __name__ == "__main__":
    main()
