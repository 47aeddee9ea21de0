"""Overmind: the adapter (adapter.py) and its simulator (sim/). Registered by its spec."""

from gateway.vendors.registry import VendorSpec

SPEC = VendorSpec(
    name="overmind",
    adapters={None: "gateway.vendors.overmind.adapter:OvermindAdapter"},
    simulator="gateway.vendors.overmind.sim.app:SIM",
)
