"""NVIDIA NeMo Evaluator simulator: one app serving the v1 and v2 (preview) job APIs.

The two versions keep separate job sets (v1 ids `eval-<base58>`, v2 ids `job-<base32>`), as a
job created through one API is not visible through the other. Seeded (seeds.yaml): one job per
documented status word of each version (static), plus one moving job per version
(created 1 s -> pending 1 s -> running/active 5 s -> completed). The job routes both versions
share are in jobs, each version's own in v1 and v2.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from gateway.simulators.app import VendorSim
from gateway.simulators.engine import SimJob, SimState, Stage
from gateway.vendors.nemo_evaluator.sim import data
from gateway.vendors.nemo_evaluator.sim.http import check_auth, error, fallback_route, rate_limited
from gateway.vendors.nemo_evaluator.sim.v1 import ROUTES as V1_ROUTES
from gateway.vendors.nemo_evaluator.sim.v2 import ROUTES as V2_ROUTES

VENDOR = "nemo-evaluator"


def new_job(state: SimState, lifecycle: list[Stage], extra: dict[str, Any]) -> SimJob:
    """Control API: a job with `lifecycle`; `extra["api"]` picks "v1" (default) or "v2"."""
    api = extra.get("api", "v1")
    if api not in ("v1", "v2"):
        raise ValueError("data.api must be 'v1' or 'v2'")
    job_data = data.job_data(api, f"{api}-sim-{state.next_seq()}", extra)
    return data.add_job(state, lifecycle, job_data, state.clock.now())


_VENDOR_ROUTES: list[BaseRoute] = [*V1_ROUTES, *V2_ROUTES]

SIM = VendorSim(
    vendor=VENDOR,
    routes=[*_VENDOR_ROUTES, fallback_route(_VENDOR_ROUTES)],
    seed=data.seed,
    error=error,
    rate_limited=rate_limited,
    check_auth=check_auth,
    new_job=new_job,
)
