"""Vendor adapters: thin, declarative translators between a vendor's API and the canonical schema."""

from __future__ import annotations

import importlib

from .base import Adapter, BackendContext, ListedJobs, ListQuery, VendorResponse
from .tables import ErrorRule, Operation, StatusTable

# vendor name -> (module under gateway.adapters, adapter class name)
_ADAPTERS = {
    "llama-stack": ("llama_stack", "LlamaStackAdapter"),
    "nemo-evaluator": ("nemo_evaluator", "NemoEvaluatorAdapter"),
    "overmind": ("overmind", "OvermindAdapter"),
    "digitalocean-genai": ("digitalocean_genai", "DigitalOceanAdapter"),
    "datarobot-genai": ("datarobot_genai", "DataRobotAdapter"),
}


def adapter_class(vendor: str) -> type[Adapter]:
    """The adapter class for a vendor name (as used in the config file)."""
    if vendor not in _ADAPTERS:
        raise KeyError(f"no adapter for vendor {vendor!r}; one of {', '.join(_ADAPTERS)}")
    module_name, class_name = _ADAPTERS[vendor]
    module = importlib.import_module(f"{__name__}.{module_name}")
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
]
