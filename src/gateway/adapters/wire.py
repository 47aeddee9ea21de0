"""Lenient readers for vendor JSON, shared by the adapters' pure translation functions.

Vendor payloads are untrusted: every reader returns None (or a default) for a value of the
wrong type instead of raising, so one odd field never loses a job.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def dig(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]... or None where a step is missing or not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def text(value: Any) -> str | None:
    """A non-empty string, or None. Numbers are accepted and turned into text."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return str(value)
    return None


def number(value: Any) -> float | None:
    """A finite number; numeric strings count (DigitalOcean sends uint64 as strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:  # not str.isdigit(): it accepts digits int() refuses, such as "¹"
            return int(value.strip())
        except ValueError:
            return None
    return None


def boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def timestamp(value: Any) -> datetime | None:
    """An ISO-8601 time as an aware datetime; naive times (NeMo) are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def fraction(value: Any, scale: float = 1.0) -> float | None:
    """A progress value divided by `scale` (100 for percentages), clamped to 0..1."""
    parsed = number(value)
    if parsed is None or scale <= 0:
        return None
    return min(1.0, max(0.0, parsed / scale))


def retry_after_seconds(
    headers: Mapping[str, str], now: float | None = None, cap: float = 3600.0
) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` (seconds or HTTP-date) or, with
    `ratelimit-remaining: 0`, DigitalOcean's `ratelimit-reset` (epoch seconds); capped."""
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    seconds: float | None = None
    if (ms := number(lowered.get("retry-after-ms"))) is not None:
        seconds = ms / 1000.0
    elif (raw := lowered.get("retry-after")) is not None:
        seconds = number(raw)
        if seconds is None:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                seconds = when.timestamp() - now
    elif (reset := number(lowered.get("ratelimit-reset"))) is not None and number(
        lowered.get("ratelimit-remaining")
    ) == 0:
        # DigitalOcean sends ratelimit-* on every answer; the reset is a wait only once the
        # quota is spent.
        seconds = reset - now
    if seconds is None:
        return None
    return min(cap, max(0.0, seconds))
