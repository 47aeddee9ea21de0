"""Keep secrets out of anything we show: problems, logs, cassettes, repr()."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
SECRET_KEY_RE = re.compile(
    r"(api[-_]?key|token|secret|password|passwd|authorization|cookie|credential|private[-_]?key)",
    re.IGNORECASE,
)
# Bearer/Token credentials and vendor key formats that may appear inside free text.
_SECRET_TEXT_RE = re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}")
MAX_VENDOR_ERROR_CHARS = 2048


def scrub(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Copy of a JSON value with secret-looking keys and known secret values redacted."""
    known = tuple(s for s in secrets if s and len(s) >= 4)
    return _scrub(value, known)


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {
            str(k): (REDACTED if SECRET_KEY_RE.search(str(k)) else _scrub(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _SECRET_TEXT_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def bounded_vendor_error(
    value: Any, secrets: Iterable[str] = (), limit: int = MAX_VENDOR_ERROR_CHARS
) -> Any:
    """The vendor's error body, scrubbed, and cut to `limit` characters of JSON."""
    cleaned = scrub(value, secrets)
    encoded = json.dumps(cleaned, ensure_ascii=False, default=str)
    if len(encoded) <= limit:
        return cleaned
    return {"truncated": True, "text": encoded[:limit]}
