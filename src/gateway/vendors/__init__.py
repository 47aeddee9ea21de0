"""The vendors, one package each (adapter modules and `sim/`, its simulator).

Each package's `__init__` holds only its `VendorSpec`, registered under the entry-point group
`eval_gateway.adapters` like any plug-in; `gateway.vendors.registry` reads them.
"""
