"""Vendor simulators: one starlette app per vendor, faithful to ../shared/vendor-apis.

Run in-process (`client_for`, or a backend whose base_url is `sim://<vendor>`) or standalone
on loopback (`eval-gateway simulate`). Every simulator has the `/_sim/` control API.
"""

from __future__ import annotations

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
from gateway.vendors.registry import (
    SimulatorState,
    UnknownVendor,
    VendorPluginError,
    sim_base_url,
    unknown_vendor_hint,
    vendor_spec,
)

SIM_SCHEME = "sim://"
# SimState is what core and the server carry as a SimulatorState (checked here by mypy).
_CARRIED_AS: type[SimulatorState] = SimState


def vendor_sim(vendor: str) -> VendorSim:
    """The simulator a registered vendor's spec names (UnknownVendor, a KeyError, if none)."""
    try:
        spec = vendor_spec(vendor)
    except UnknownVendor:
        hint = unknown_vendor_hint(vendor[:100])
        raise UnknownVendor(f"no simulator for vendor {vendor[:100]!r}{hint}") from None
    sim = spec.load_simulator()
    if not isinstance(sim, VendorSim):
        raise VendorPluginError(
            f"vendor plug-in {vendor!r}: {spec.simulator} is not a gateway.simulators.VendorSim",
            vendor=vendor,
        )
    return sim


def create_app(
    vendor: str,
    *,
    state: SimState | None = None,
    api_key: str | None = None,
    seed: bool = True,
    quirks: bool = False,
    process_wide_ids: bool = False,
) -> Starlette:
    """A fresh simulator app for `vendor` (seeded with one job per documented status).

    `quirks`: also arm the faults the real server shows on its own (e.g. Llama Stack's
    keep-alive reset after an error answer); `eval-gateway simulate` turns them on.
    `process_wide_ids`: a new state draws job ids from the process-wide sequence (a
    gateway backend's simulator, rebuilt on reload, never reuses an id).
    """
    if state is None:
        state = SimState(api_key=api_key, process_wide_ids=process_wide_ids)
    elif not isinstance(state, SimState):
        raise TypeError(f"state must be a gateway.simulators.SimState, not {type(state)}")
    elif api_key is not None:
        state.api_key = api_key
    return build_app(vendor_sim(vendor), state, seed=seed, quirks=quirks)


def in_process(
    vendor: str,
    *,
    state: SimState | None = None,
    api_key: str | None = None,
    seed: bool = True,
    process_wide_ids: bool = False,
) -> tuple[Starlette, SimTransport]:
    """A simulator app and its in-process transport (gateway.vendors.registry.open_simulator,
    for a `sim://` backend)."""
    app = create_app(
        vendor, state=state, api_key=api_key, seed=seed, process_wide_ids=process_wide_ids
    )
    return app, SimTransport(app)


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
    "in_process",
    "sim_base_url",
    "vendor_sim",
]
