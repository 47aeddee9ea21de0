"""ACME Evals, an eval-gateway vendor plug-in: only the spec here, so loading it is cheap."""

from gateway.vendors.registry import VendorSpec

SPEC = VendorSpec(
    name="acme-evals",
    adapters={None: "acme_evals.adapter:AcmeAdapter"},
    simulator="acme_evals.sim:SIM",
)
