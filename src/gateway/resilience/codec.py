"""Cache entries and problems as bytes, for state shared through Redis.

Only the canonical types are shared (jobs, results, list pages); anything else stays in the
replica's memory. An entry that cannot be read back (another version wrote it) is a miss.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from gateway.contract import ListedJobs
from gateway.errors import GatewayError
from gateway.resilience.cache import CacheEntry
from gateway.schemas import Job, Problem, Result

FORMAT = 1
_MODELS: dict[str, type[BaseModel]] = {"job": Job, "result": Result}


def encode_entry(entry: CacheEntry[Any]) -> bytes | None:
    """The entry as JSON bytes, or None when its value is not a shareable type."""
    value = entry.value
    payload: Any
    if isinstance(value, Job):
        kind, payload = "job", value.model_dump(mode="json")
    elif isinstance(value, Result):
        kind, payload = "result", value.model_dump(mode="json")
    elif isinstance(value, ListedJobs):
        kind = "listed"
        payload = {
            "jobs": [job.model_dump(mode="json") for job in value.jobs],
            "next_cursor": value.next_cursor,
            "total": value.total,
        }
    else:
        return None
    document = {
        "format": FORMAT,
        "kind": kind,
        "value": payload,
        "fetched_at": entry.fetched_at,
        "fresh_until": entry.fresh_until,
        "keep_until": entry.keep_until,
        "immutable": entry.immutable,
        "token": entry.token,
    }
    try:
        return json.dumps(document, separators=(",", ":")).encode()
    except (TypeError, ValueError):
        return None  # e.g. a cursor holding something JSON cannot carry: keep it local


def decode_entry(raw: bytes | str | None) -> CacheEntry[Any] | None:
    if raw is None:
        return None
    try:
        document = json.loads(raw)
        if document.get("format") != FORMAT:
            return None
        kind, payload = document["kind"], document["value"]
        value: Any
        if kind in _MODELS:
            value = _MODELS[kind].model_validate(payload)
        elif kind == "listed":
            value = ListedJobs(
                jobs=[Job.model_validate(job) for job in payload["jobs"]],
                next_cursor=payload.get("next_cursor"),
                total=payload.get("total"),
            )
        else:
            return None
        return CacheEntry(
            value=value,
            fetched_at=float(document["fetched_at"]),
            fresh_until=float(document["fresh_until"]),
            keep_until=float(document["keep_until"]),
            immutable=bool(document["immutable"]),
            token=str(document["token"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError):
        return None


def encode_error(exc: GatewayError, flight: str) -> bytes:
    """A failed shared fetch, so replicas waiting on it answer the same problem."""
    return json.dumps(
        {"flight": flight, "problem": exc.problem().to_json_dict()}, separators=(",", ":")
    ).encode()


def decode_error(raw: bytes | str | None, flight: str) -> GatewayError | None:
    """The problem of the shared fetch `flight`, if that is the one recorded."""
    if raw is None:
        return None
    try:
        document = json.loads(raw)
        if document.get("flight") != flight:
            return None
        return GatewayError.from_problem(Problem.model_validate(document["problem"]))
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError):
        return None


def decode_time(raw: Any) -> float | None:
    """A timestamp written with repr(float), or None if absent or unreadable."""
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None
