"""NVIDIA NeMo Evaluator, API v1 and v2 (v1.py, v2.py) and its simulator (sim/)."""

from gateway.vendors.registry import VendorSpec

SPEC = VendorSpec(
    name="nemo-evaluator",
    adapters={
        "v1": "gateway.vendors.nemo_evaluator.v1:NemoV1Adapter",
        "v2": "gateway.vendors.nemo_evaluator.v2:NemoV2Adapter",
    },
    default_api_version="v1",  # what a backend gets when its config names no api_version
    simulator="gateway.vendors.nemo_evaluator.sim.app:SIM",
)
