"""NeMo Evaluator simulator data: status words, ids, timestamps and the seeded jobs.

The bodies rendered from a job's data are in nemo_evaluator_render.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from gateway.simulators.engine import SimJob, SimState, Stage

V1_STATUSES = (
    "created",
    "pending",
    "running",
    "cancelled",
    "cancelling",
    "failed",
    "completed",
    "ready",
    "unknown",
)
V2_STATUSES = (
    "created",
    "pending",
    "active",
    "cancelled",
    "cancelling",
    "error",
    "completed",
    "paused",
    "pausing",
    "resuming",
)
# Inferred in API.md §2 (NVIDIA does not say which values are terminal).
TERMINAL = {
    "v1": frozenset({"completed", "failed", "cancelled"}),
    "v2": frozenset({"completed", "error", "cancelled"}),
}
RUNNING_WORD = {"v1": "running", "v2": "active"}

_UNIX_EPOCH = datetime(1970, 1, 1)  # naive: NeMo sends UTC without a zone
_ID_NAMESPACE = uuid.UUID("6f1d3c1e-7a57-4f43-9a44-4e0d2c9b7a10")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"
DEFAULT_LIMIT_SAMPLES = 200
# The docs' running example: 85 of 200 samples, 42.5 %.
STATIC_RUNNING_FRACTION = 0.425
FAILURE_MESSAGE = "Error connecting to inference server"  # from the Evaluator troubleshooting docs


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


def default_config(api: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "type": "custom",
        "params": {"parallelism": 8, "limit_samples": DEFAULT_LIMIT_SAMPLES},
        "tasks": {"qa": {"type": "completion", "metrics": {"bleu": {"type": "bleu"}}}},
    }
    if api == "v1":
        config.update(name="test-benchmark", namespace="nvidia")
    return config


def default_target() -> dict[str, Any]:
    return {
        "type": "model",
        "model": {
            "api_endpoint": {
                "url": "http://nemo-nim-proxy:8000/v1/chat/completions",
                "model_id": "meta/llama-3.1-8b-instruct",
                "format": "nim",
            }
        },
    }


# Shaped like the docs' results example, plus a group carrying ScoreStats.
DEFAULT_RESULTS: dict[str, Any] = {
    "tasks": {
        "qa": {
            "metrics": {
                "bleu": {
                    "scores": {
                        "sentence": {
                            "value": 32.5,
                            "stats": {"count": 200, "sum": 6500.0, "mean": 32.5, "stderr": 1.3},
                        },
                        "corpus": {"value": 30.1},
                    }
                }
            }
        }
    },
    "groups": {
        "evaluation": {
            "metrics": {
                "bleu": {
                    "scores": {
                        "corpus": {
                            "value": 30.1,
                            "stats": {"count": 1, "min": 30.1, "max": 30.1, "nan_count": 0},
                        }
                    }
                }
            }
        }
    },
}


def job_data(api: str, key: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The vendor fields a simulated job is rendered from (`extra` overrides any of them)."""
    job_id = v1_id("eval", key) if api == "v1" else v2_id(key)
    data: dict[str, Any] = {
        "api": api,
        "id": job_id,
        "namespace": "default",
        "project": None,
        "description": None,
        "custom_fields": {},
        "config": default_config(api),
        "target": default_target(),
        "limit_samples": DEFAULT_LIMIT_SAMPLES,
        "failure": FAILURE_MESSAGE,
        "results": DEFAULT_RESULTS,
    }
    if api == "v1":
        data["result_id"] = v1_id("evaluation_result", key)
    else:
        data["name"] = f"eval-{key}"
    data.update(extra or {})
    return data


def add_job(state: SimState, lifecycle: list[Stage], data: dict[str, Any], at: float) -> SimJob:
    return state.add_job(str(data["id"]), lifecycle, data, created_at=at)


def seed(state: SimState) -> None:
    """One job per documented status word of each API, plus one moving job per API."""
    now = state.clock.now()
    for api, words in (("v1", V1_STATUSES), ("v2", V2_STATUSES)):
        for index, word in enumerate(words):
            key = f"{api}-{word}"
            add_job(state, [Stage(word)], job_data(api, key), now - 3600 + 60 * index)
        add_job(state, moving_lifecycle(api), job_data(api, f"{api}-lifecycle"), now)


def moving_lifecycle(api: str) -> list[Stage]:
    return [
        Stage("created", 1.0),
        Stage("pending", 1.0),
        Stage(RUNNING_WORD[api], 5.0),
        Stage("completed"),
    ]


def cancel_lifecycle() -> list[Stage]:
    return [Stage("cancelling", 1.0), Stage("cancelled")]
