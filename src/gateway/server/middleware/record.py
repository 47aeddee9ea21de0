"""The access record of one request: what it did, filled in by every layer that learns a part.

It lives in `scope["state"]["access"]`, one object per request: the request-id middleware opens
it and notes the status sent; routes add the caller, backend, vendor, operation and upstream
time (server.plumbing); the access log, the request counter, the last-resort 500 and the
server span (gateway.telemetry.asgi) read it instead of each wrapping `send` again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields

from starlette.types import Scope


@dataclass
class AccessInfo:
    """What one request did; routes fill in the backend part as they learn it."""

    request_id: str
    caller: str | None = None
    backend: str | None = None
    vendor: str | None = None
    operation: str | None = None
    upstream_ms: float | None = None
    outcome: str | None = None
    stale: bool | None = None  # True: a cached answer served because the vendor failed
    status: int | None = None  # of the answer's start: None while nothing was sent


# The fields the access line shows when set (request_id and status have places of their own).
ACCESS_FIELDS = tuple(
    f.name for f in dataclass_fields(AccessInfo) if f.name not in ("request_id", "status")
)


def new_request_id() -> str:
    """32 random hex digits, like uuid4().hex at a tenth of the cost (no syscall); an id
    names a request in logs, it guards nothing (random reseeds itself in a forked worker)."""
    return f"{random.getrandbits(128):032x}"


def access_of(scope: Scope) -> AccessInfo:
    state = scope.setdefault("state", {})
    info = state.get("access")
    if not isinstance(info, AccessInfo):  # only without the middleware (direct ASGI tests)
        info = state["access"] = AccessInfo(request_id=new_request_id())
    return info
