"""What an AsyncGateway opens from its config: the config itself, one resilience guard per
backend, the job ledger's handle; and what callers may see of its backends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.config import GatewayConfig, config_from_dict, default_config, load_config
from gateway.core.backends import Backend, BackendInfo
from gateway.ledger_jobs import LedgerHandle
from gateway.resilience import BackendGuard, ResilienceHub

if TYPE_CHECKING:
    from gateway.ledger import Ledger

# A config, its mapping form, a YAML file, or None for the embedded defaults.
ConfigSource = GatewayConfig | Mapping[str, Any] | str | Path | None


def as_config(config: ConfigSource) -> GatewayConfig:
    if config is None:
        return default_config()
    if isinstance(config, GatewayConfig):
        return config
    if isinstance(config, str | Path):
        return load_config(config)
    return config_from_dict(dict(config))


def open_guards(resilience: ResilienceHub, config: GatewayConfig) -> dict[str, BackendGuard]:
    """Each backend's guard: its retries, breaker, cache and deadline (gateway.resilience)."""
    return {
        name: resilience.guard(
            name,
            retry=cfg.retry,
            breaker=cfg.breaker,
            cache=cfg.cache,
            deadline=cfg.timeouts.total,
        )
        for name, cfg in config.backends.items()
    }


def ledger_handle_for(
    config: GatewayConfig, ledger: Ledger | LedgerHandle | None
) -> LedgerHandle | None:
    """The given ledger (its giver closes it), or one opened from `config.ledger` on first use
    (None: `ledger.enabled` is false)."""
    if isinstance(ledger, LedgerHandle):
        return ledger
    if ledger is not None:
        return LedgerHandle(config.ledger, ledger=ledger, export=config.export)
    if not config.ledger.enabled:
        return None
    return LedgerHandle(config.ledger, export=config.export)


def backend_infos(config: GatewayConfig, backends: Iterable[Backend]) -> list[BackendInfo]:
    """What callers may see of each backend, with the aliases pointing at it."""
    aliases: dict[str, list[str]] = {}
    for alias, target in config.aliases.items():
        aliases.setdefault(target, []).append(alias)
    return [
        BackendInfo(
            name=b.name,
            vendor=b.config.vendor,
            api_version=b.adapter.context.api_version,
            simulated=b.config.simulated,
            aliases=sorted(aliases.get(b.name, [])),
        )
        for b in backends
    ]
