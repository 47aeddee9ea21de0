"""NeMo Evaluator simulator data: status words, ids, timestamps and the seeded jobs.

The vocabularies, lifecycles, seeded jobs and default job fields are data, in seeds.yaml; the
bodies rendered from a job's data are in render.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime, timedelta
from typing import Any

from gateway.simulators.engine import SimJob, SimState, Stage
from gateway.simulators.seeds import lifecycle, load_seeds

_SEEDS: dict[str, Any] = load_seeds(__package__)
_APIS: dict[str, dict[str, Any]] = _SEEDS["apis"]

V1_STATUSES: tuple[str, ...] = tuple(_APIS["v1"]["statuses"])
V2_STATUSES: tuple[str, ...] = tuple(_APIS["v2"]["statuses"])
TERMINAL = {api: frozenset(spec["terminal"]) for api, spec in _APIS.items()}

_UNIX_EPOCH = datetime(1970, 1, 1)  # naive: NeMo sends UTC without a zone
_ID_NAMESPACE = uuid.UUID("6f1d3c1e-7a57-4f43-9a44-4e0d2c9b7a10")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"
# The docs' running example: 85 of 200 samples, 42.5 %.
STATIC_RUNNING_FRACTION = 0.425


def _base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _BASE58[rem] + out
    return out or _BASE58[0]


def v1_id(prefix: str, key: str) -> str:
    """A "semantically-prefixed base58-encoded uuid", e.g. eval-UVW123XYZ456...; deterministic."""
    return f"{prefix}-{_base58(uuid.uuid5(_ID_NAMESPACE, key).bytes)}"


def v2_id(key: str) -> str:
    """A v2 id like job-dq1pjj6vj5p64xaeqgvuk4 (22 lower-case base32 characters)."""
    number = int.from_bytes(uuid.uuid5(_ID_NAMESPACE, key).bytes, "big")
    chars = []
    for _ in range(22):
        number, rem = divmod(number, 32)
        chars.append(_BASE32[rem])
    return "job-" + "".join(chars)


def iso(at: float) -> str:
    """NeMo's timestamps: ISO-8601 in UTC without a zone, e.g. 2025-03-19T22:50:15.684382.

    Rounded to the millisecond so float noise in the simulated clock never shows.
    """
    moment = _UNIX_EPOCH + timedelta(milliseconds=round(at * 1000))
    return moment.isoformat(timespec="microseconds")


# -- job data ----------------------------------------------------------------------------------


def job_data(api: str, key: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The vendor fields a simulated job is rendered from (`extra` overrides any of them)."""
    job_id = v1_id("eval", key) if api == "v1" else v2_id(key)
    # Copies: a job's data is its own (the seeds are shared and must not change).
    data: dict[str, Any] = {"api": api, "id": job_id, **copy.deepcopy(_SEEDS["job"])}
    data["config"] = copy.deepcopy(_APIS[api]["config"])
    if api == "v1":
        data["result_id"] = v1_id("evaluation_result", key)
    else:
        data["name"] = f"eval-{key}"
    data.update(extra or {})
    return data


def add_job(state: SimState, stages: list[Stage], data: dict[str, Any], at: float) -> SimJob:
    return state.add_job(str(data["id"]), stages, data, created_at=at)


def seed(state: SimState) -> None:
    """The seeded jobs of seeds.yaml: one per documented status word of each API, plus one
    moving job per API."""
    now = state.clock.now()
    for job in _SEEDS["jobs"]:
        stages = list(lifecycle(job["lifecycle"]))
        add_job(state, stages, job_data(job["api"], job["key"]), now + job["created"])


def moving_lifecycle(api: str) -> list[Stage]:
    return list(lifecycle(_APIS[api]["moving"]))


def cancel_lifecycle() -> list[Stage]:
    return list(lifecycle(_SEEDS["cancel"]))
