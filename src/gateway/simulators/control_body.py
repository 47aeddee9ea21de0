"""Bodies of the simulators' /_sim/ control API: JSON objects with known fields only."""

from __future__ import annotations

import difflib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway import jsonbound

# The control API's bodies: a field outside these is a typo that would silently do nothing.
JOB_FIELDS = ("lifecycle", "data")
STAGE_FIELDS = ("status", "seconds")
FAULT_FIELDS = ("kind", "count", "path", "status", "seconds", "retry_after")
CLOCK_FIELDS = ("freeze", "advance")


async def control_json(request: Request, allowed: tuple[str, ...]) -> dict[str, Any] | Response:
    """The control body as an object (empty: {}), or the 400 that says what is wrong."""
    raw = await request.body()
    try:
        body = jsonbound.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return _bad(f"the body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return _bad(f"the body must be a JSON object with: {', '.join(allowed)}")
    return unknown_fields(body, allowed, "field") or body


def unknown_fields(value: Any, allowed: tuple[str, ...], what: str) -> Response | None:
    if not isinstance(value, dict):
        return None  # the handler's own check names the shape
    unknown = [key for key in value if key not in allowed]
    if not unknown:
        return None
    close = difflib.get_close_matches(str(unknown[0]), allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    names = ", ".join(repr(k) for k in unknown)
    return _bad(f"unknown {what} {names}{hint}; allowed: {', '.join(allowed)}")


def _bad(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)
