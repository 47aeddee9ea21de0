"""DigitalOcean GenAI: the adapter (adapter.py) and its simulator (sim/)."""

from gateway.vendors.registry import VendorSpec

SPEC = VendorSpec(
    name="digitalocean-genai",
    adapters={None: "gateway.vendors.digitalocean_genai.adapter:DigitalOceanAdapter"},
    simulator="gateway.vendors.digitalocean_genai.sim.app:SIM",
)
