"""Vendor adapters: thin, declarative translators from vendor APIs to the canonical schema."""

from __future__ import annotations

import importlib

from gateway.adapters.base import Adapter, BackendContext, VendorResponse
from gateway.adapters.tables import ErrorRule, StatusTable
from gateway.contract import ListedJobs, ListQuery, Operation

# (vendor name, api_version) -> (module under gateway.vendors, adapter class name)
_ADAPTERS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("llama-stack", None): ("llama_stack.adapter", "LlamaStackAdapter"),
    ("nemo-evaluator", "v1"): ("nemo_evaluator.v1", "NemoV1Adapter"),
    ("nemo-evaluator", "v2"): ("nemo_evaluator.v2", "NemoV2Adapter"),
    ("overmind", None): ("overmind.adapter", "OvermindAdapter"),
    ("digitalocean-genai", None): ("digitalocean_genai.adapter", "DigitalOceanAdapter"),
    ("datarobot-genai", None): ("datarobot_genai.adapter", "DataRobotAdapter"),
}
# The API version a backend gets when its config names none.
DEFAULT_API_VERSIONS: dict[str, str] = {"nemo-evaluator": "v1"}


def api_versions(vendor: str) -> tuple[str, ...]:
    """The API versions a vendor's backends may select (empty: the key is not allowed)."""
    return tuple(v for (name, v) in _ADAPTERS if name == vendor and v is not None)


def adapter_class(vendor: str, api_version: str | None = None) -> type[Adapter]:
    """The adapter class for a vendor name (as used in the config file) and API version."""
    key = (vendor, api_version or DEFAULT_API_VERSIONS.get(vendor))
    if key not in _ADAPTERS:
        known = ", ".join(sorted({name for name, _ in _ADAPTERS}))
        raise KeyError(f"no adapter for vendor {vendor!r} api_version {api_version!r} ({known})")
    module_name, class_name = _ADAPTERS[key]
    module = importlib.import_module(f"gateway.vendors.{module_name}")
    cls: type[Adapter] = getattr(module, class_name)
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
