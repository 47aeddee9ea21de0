"""Llama Stack: the adapter (adapter.py) and its simulator (sim/). Registered by its spec."""

from gateway.vendors.registry import VendorSpec

SPEC = VendorSpec(
    name="llama-stack",
    adapters={None: "gateway.vendors.llama_stack.adapter:LlamaStackAdapter"},
    simulator="gateway.vendors.llama_stack.sim.app:SIM",
)
