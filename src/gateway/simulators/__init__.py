"""Vendor simulators: one starlette app per vendor, faithful to ../shared/vendor-apis.

Run in-process (`client_for`, or a backend whose base_url is `sim://<vendor>`) or standalone
on loopback (`eval-gateway simulate`). Every simulator has the `/_sim/` control API.
"""

from __future__ import annotations

import importlib

import httpx
from starlette.applications import Starlette

from gateway.simulators.app import (
    CONTROL_PREFIX,
    SimulatedDisconnect,
    SimulatedReset,
    VendorSim,
    build_app,
)
from gateway.simulators.engine import (
    FAULT_KINDS,
    UNDOCUMENTED_STATUS,
    Fault,
    SimClock,
    SimJob,
    SimState,
    Stage,
)
from gateway.transport.sim import SimTransport

# vendor name -> package under gateway.vendors whose sim.app defines `SIM: VendorSim`
_MODULES = {
    "llama-stack": "llama_stack",
    "nemo-evaluator": "nemo_evaluator",
    "overmind": "overmind",
    "digitalocean-genai": "digitalocean_genai",
    "datarobot-genai": "datarobot_genai",
}
SIM_SCHEME = "sim://"


def vendor_sim(vendor: str) -> VendorSim:
    if vendor not in _MODULES:
        raise KeyError(f"no simulator for vendor {vendor!r}; one of {', '.join(_MODULES)}")
    module = importlib.import_module(f"gateway.vendors.{_MODULES[vendor]}.sim.app")
    sim: VendorSim = module.SIM
    return sim


def create_app(
    vendor: str,
    *,
    state: SimState | None = None,
    api_key: str | None = None,
    seed: bool = True,
    quirks: bool = False,
) -> Starlette:
    """A fresh simulator app for `vendor` (seeded with one job per documented status).

    `quirks`: also arm the faults the real server shows on its own (e.g. Llama Stack's
    keep-alive reset after an error answer); `eval-gateway simulate` turns them on.
    """
    if state is None:
        state = SimState(api_key=api_key)
    elif api_key is not None:
        state.api_key = api_key
    return build_app(vendor_sim(vendor), state, seed=seed, quirks=quirks)


def sim_base_url(vendor: str) -> str:
    """The in-process base URL of a simulator (a reserved .invalid host: never on a network)."""
    return f"http://{vendor}.sim.invalid"


def client_for(
    vendor: str,
    app: Starlette | None = None,
    *,
    api_key: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An httpx client wired to a simulator in-process (no socket)."""
    app = app or create_app(vendor, api_key=api_key)
    return httpx.AsyncClient(
        transport=SimTransport(app), base_url=sim_base_url(vendor), headers=headers
    )


__all__ = [
    "CONTROL_PREFIX",
    "FAULT_KINDS",
    "SIM_SCHEME",
    "UNDOCUMENTED_STATUS",
    "Fault",
    "SimClock",
    "SimJob",
    "SimState",
    "SimTransport",
    "SimulatedDisconnect",
    "SimulatedReset",
    "Stage",
    "VendorSim",
    "build_app",
    "client_for",
    "create_app",
    "sim_base_url",
    "vendor_sim",
]
