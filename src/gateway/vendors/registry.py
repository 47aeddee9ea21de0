"""The one registry of vendors: built-ins and plug-ins alike, read from installed entry points.

A vendor is a `VendorSpec`: its name, its adapter class per API version (as "module:Class"
import paths) and its simulator. Each is published under the entry-point group
`eval_gateway.adapters` (name = the vendor's name, value = "package.module:SPEC"); the five
built-ins register so in pyproject.toml, and a company adds its own vendor by installing a
package that does the same (examples/acme-evals). The group is read once, on first use, and
only the specs are imported then: an adapter or simulator module loads when it is first asked
for. A plug-in that fails to load is kept as broken and named in every error that touches it,
never dropped silently.

This module imports neither the adapter framework nor the simulators (they ask it, by name),
so core can reach a vendor's simulator without importing `gateway.simulators`.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, cast

from gateway.config_checks import did_you_mean
from gateway.errors import InternalError, InvalidRequest
from gateway.schemas.job import Vendor

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

ENTRY_POINT_GROUP = "eval_gateway.adapters"
# The shared simulator engine, named by path: it imports this module, not the reverse.
SIMULATOR_ENGINE = "gateway.simulators:in_process"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CAUSE_CHARS = 300  # of a plug-in's import error, in messages


class UnknownVendor(InvalidRequest, KeyError):
    """No registered vendor (or no adapter for that API version) by that name.

    Also a KeyError: lookups by vendor name raised KeyError before there was a registry.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return self.detail


class VendorPluginError(InternalError):
    """A vendor plug-in is installed but unusable; the message names it and why."""


class SimulatorState(Protocol):
    """An in-process simulator's state as core and the server carry it across reloads
    (gateway.simulators.SimState); typed here so that they need not import the simulators."""

    api_key: str | None

    @property
    def jobs(self) -> Mapping[str, Any]: ...

    def arm(self, fault: Any) -> None: ...

    def clear_faults(self) -> None: ...


@dataclass(frozen=True)
class VendorSpec:
    """One vendor. `adapters`: API version -> "module:AdapterClass"; a vendor without
    versions has the single key None. `simulator`: "module:ATTR" naming its
    `gateway.simulators.VendorSim` (None: it has no simulator)."""

    name: str
    adapters: Mapping[str | None, str]
    default_api_version: str | None = None
    simulator: str | None = None
    api_versions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"vendor name {self.name!r} must match {_NAME.pattern}")
        if not self.adapters:
            raise ValueError(f"vendor {self.name!r} names no adapter")
        versions = tuple(v for v in self.adapters if v is not None)
        if versions and None in self.adapters:
            raise ValueError(f"vendor {self.name!r}: either API versions or the key None")
        if versions and self.default_api_version not in versions:
            raise ValueError(f"vendor {self.name!r}: default_api_version must be one of {versions}")
        if not versions and self.default_api_version is not None:
            raise ValueError(f"vendor {self.name!r} has no API versions to default to")
        for path in (*self.adapters.values(), self.simulator or "x:x"):
            if ":" not in path:
                raise ValueError(f"vendor {self.name!r}: {path!r} is not 'module:attribute'")
        object.__setattr__(self, "api_versions", versions)

    def adapter_path(self, api_version: str | None = None) -> str:
        """The import path of the adapter class for `api_version` (None: the default)."""
        key = api_version or self.default_api_version
        path = self.adapters.get(key)
        if path is None:
            known = ", ".join(self.api_versions) or "none"
            raise UnknownVendor(
                f"no adapter for vendor {self.name!r} api_version {api_version!r}"
                f" (its versions: {known})",
                vendor=self.name,
            )
        return path

    def load_adapter(self, api_version: str | None = None) -> object:
        return load_object(self.name, self.adapter_path(api_version))

    def load_simulator(self) -> object:
        if self.simulator is None:
            raise UnknownVendor(f"no simulator for vendor {self.name!r}", vendor=self.name)
        return load_object(self.name, self.simulator)


@dataclass(frozen=True)
class _Registry:
    specs: dict[str, VendorSpec]
    broken: dict[str, str]  # vendor name -> why its plug-in is unusable


def load_object(vendor: str, path: str) -> object:
    """Import "module:attr" for `vendor`; a failure names the vendor and the path."""
    try:
        return importlib.metadata.EntryPoint(name=vendor, value=path, group="").load()
    except Exception as exc:  # any import-time failure of a plug-in's module
        raise VendorPluginError(_failed(vendor, path, exc), vendor=vendor) from exc


def _failed(vendor: str, path: str, exc: BaseException) -> str:
    cause = f"{type(exc).__name__}: {exc}"[:_CAUSE_CHARS]
    return f"vendor plug-in {vendor!r} ({path}) failed to load: {cause}"


def _builtin_path(vendor: Vendor) -> str:
    return f"gateway.vendors.{vendor.value.replace('-', '_')}:SPEC"


@cache
def _registry() -> _Registry:
    specs: dict[str, VendorSpec] = {}
    broken: dict[str, str] = {}
    seen: dict[str, str] = {}
    entries = [
        (ep.name, ep.value)
        for ep in importlib.metadata.entry_points().select(group=ENTRY_POINT_GROUP)
    ]
    # A source tree run without installed metadata still has its built-ins.
    entries += [(v.value, _builtin_path(v)) for v in Vendor if v.value not in dict(entries)]
    for name, path in entries:
        if name in seen:
            if seen[name] != path:  # the same entry twice (two metadata dirs) is harmless
                broken[name] = f"vendor {name!r} is registered twice: {seen[name]} and {path}"
                specs.pop(name, None)
            continue
        seen[name] = path
        try:
            spec = load_object(name, path)
        except VendorPluginError as exc:
            broken[name] = exc.detail
            continue
        if not isinstance(spec, VendorSpec):
            broken[name] = f"vendor plug-in {name!r} ({path}) is a {type(spec).__name__}, "
            broken[name] += "not a gateway.vendors.registry.VendorSpec"
        elif spec.name != name:
            broken[name] = f"vendor plug-in {name!r} ({path}) describes vendor {spec.name!r}"
        else:
            specs[name] = spec
    return _Registry(specs, broken)


def reload() -> None:
    """Read the entry points again on next use (after installing a plug-in in-process)."""
    _registry.cache_clear()


def vendor_names() -> tuple[str, ...]:
    """Every usable vendor: the built-ins in their order, then plug-ins by name."""
    specs = _registry().specs
    builtins = [v.value for v in Vendor if v.value in specs]
    return (*builtins, *sorted(set(specs) - set(builtins)))


def broken_plugins() -> dict[str, str]:
    """Installed vendor plug-ins that cannot be used: name -> why."""
    return dict(_registry().broken)


def unknown_vendor_hint(name: str) -> str:
    """What to say after "unknown vendor": a did-you-mean, the choices, broken plug-ins."""
    known = vendor_names()
    text = f"{did_you_mean(name, known)}; one of: {', '.join(known)}"
    broken = _registry().broken
    return text + (f" (plug-ins that failed to load: {', '.join(broken)})" if broken else "")


def vendor_spec(name: str) -> VendorSpec:
    """The spec of a registered vendor; UnknownVendor or VendorPluginError otherwise."""
    registry = _registry()
    spec = registry.specs.get(name)
    if spec is not None:
        return spec
    if name in registry.broken:
        raise VendorPluginError(registry.broken[name], vendor=name)
    raise UnknownVendor(f"unknown vendor {name[:100]!r}{unknown_vendor_hint(name[:100])}")


def registered_vendor(name: str) -> str:
    """`name` if it is a usable vendor, else a ValueError saying why (a pydantic validator)."""
    try:
        vendor_spec(name)
    except UnknownVendor:
        raise ValueError(f"unknown vendor{unknown_vendor_hint(name[:100])}") from None
    except VendorPluginError as exc:
        raise ValueError(exc.detail) from None
    return name


def sim_base_url(vendor: str) -> str:
    """The in-process base URL of a simulator (a reserved .invalid host: never on a network)."""
    return f"http://{vendor}.sim.invalid"


InProcess = tuple["Starlette", "httpx.AsyncBaseTransport"]


def open_simulator(
    vendor: str,
    state: SimulatorState | None = None,
    *,
    api_key: str | None = None,
    seed: bool = True,
    process_wide_ids: bool = False,
) -> InProcess:
    """A vendor's simulator app and the httpx transport that serves it in-process, built by
    the shared engine (gateway.simulators.in_process); `state`: jobs to carry on."""
    vendor_spec(vendor)  # an unknown or broken vendor fails here, by name
    engine = cast(Callable[..., InProcess], load_object(vendor, SIMULATOR_ENGINE))
    return engine(
        vendor, state=state, api_key=api_key, seed=seed, process_wide_ids=process_wide_ids
    )
