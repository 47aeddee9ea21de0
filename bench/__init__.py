"""eval-gateway's benchmark harness: `python -m bench run [--size tiny|full]`.

Scenarios (one run, targets interleaved so ratios hold on a noisy machine):

1. proxy hop, cache off: direct to an instant upstream vs through eval-gateway vs through nginx;
2. cache hit: a cached terminal job vs a bare starlette endpoint returning the same JSON;
3. coalescing: N concurrent pollers of one running job, 1 replica and 2 sharing Redis;
4. memory: RSS idle, after N distinct cached jobs, after load;
5. library: in-process AsyncGateway.get_job on cache hit and miss;
6. workers: 1 vs 2 uvicorn workers.

See docs/benchmarks.md for what a full run wrote.
"""
