"""DataRobot GenAI: the adapter (adapter.py) and its simulator (sim/)."""

from gateway.vendors.registry import VendorSpec

SPEC = VendorSpec(
    name="datarobot-genai",
    adapters={None: "gateway.vendors.datarobot_genai.adapter:DataRobotAdapter"},
    simulator="gateway.vendors.datarobot_genai.sim.app:SIM",
)
