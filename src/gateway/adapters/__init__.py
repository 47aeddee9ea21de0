"""Vendor adapters: thin, declarative translators from vendor APIs to the canonical schema."""

from __future__ import annotations

from gateway.adapters.base import Adapter, BackendContext, VendorResponse
from gateway.adapters.tables import ErrorRule, StatusTable
from gateway.contract import ListedJobs, ListQuery, Operation
from gateway.vendors.registry import VendorPluginError, vendor_spec


def api_versions(vendor: str) -> tuple[str, ...]:
    """The API versions a vendor's backends may select (empty: the key is not allowed)."""
    return vendor_spec(vendor).api_versions


def adapter_class(vendor: str, api_version: str | None = None) -> type[Adapter]:
    """The adapter class for a registered vendor (gateway.vendors.registry) and API version
    (None: the vendor's default). UnknownVendor (a KeyError) for a name or version not there."""
    spec = vendor_spec(vendor)
    path = spec.adapter_path(api_version)
    cls = spec.load_adapter(api_version)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise VendorPluginError(
            f"vendor plug-in {vendor!r}: {path} is not a gateway.adapters.Adapter subclass",
            vendor=vendor,
        )
    return cls


__all__ = [
    "Adapter",
    "BackendContext",
    "ErrorRule",
    "ListQuery",
    "ListedJobs",
    "Operation",
    "StatusTable",
    "VendorResponse",
    "adapter_class",
    "api_versions",
]
