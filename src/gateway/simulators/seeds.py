"""Seeded simulator jobs as data: each vendor's `sim/seeds.yaml` beside its simulator.

A seeds file is plain YAML (comments say which documented status each job shows); the
simulator turns its entries into `SimJob`s. Lifecycles are written as lists of
`{status: WORD, seconds: N}` (no `seconds`: held forever), read by `lifecycle`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from gateway.simulators.engine import Stage


@cache
def _load(package: str, name: str) -> Any:
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def load_seeds(package: str, name: str = "seeds.yaml") -> Any:
    """The parsed seeds file `name` of the simulator package `package` (pass `__package__`).

    Parsed once per process; callers get the shared object, so they must not mutate it
    (copy what a job's `data` will change)."""
    return _load(package, name)


def lifecycle(stages: list[dict[str, Any]]) -> tuple[Stage, ...]:
    """A lifecycle from its data form: `[{status: queued, seconds: 2}, {status: done}]`."""
    return tuple(Stage(str(s["status"]), s.get("seconds")) for s in stages)
