"""DigitalOcean GenAI simulator: the answer type (rate-limit headers, request ids), the
`{id, message, request_id}` error envelope and request helpers shared by its routes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway import jsonbound
from gateway.simulators.engine import SimState
from gateway.vendors.digitalocean_genai.sim.data import store_of

HOURLY_LIMIT = 5000
NOT_FOUND = "The resource you requested could not be found."
UNAUTHORIZED = "Unable to authenticate you."
RATE_LIMITED = "API rate limit exceeded."
BAD_BODY = "error parsing request body"


class DOResponse(Response):
    """A JSON answer that gets DigitalOcean's rate-limit headers and request id when sent
    (they need the simulator's clock and counters, which only the running app knows)."""

    media_type = "application/json"

    def __init__(
        self,
        payload: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        is_error: bool = False,
    ) -> None:
        self.payload = payload
        self.is_error = is_error
        super().__init__(None, status_code, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope.get("app")
        state = getattr(getattr(app, "state", None), "sim", None)
        payload = dict(self.payload)
        if isinstance(state, SimState):
            store = store_of(state)
            served = next(store.requests)
            now = state.clock.now()
            if store.window_start is None or now - store.window_start >= 3600:
                store.window_start = now  # the oldest request of the sliding hour
            request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"do-sim-request-{served}"))
            self.headers.setdefault("ratelimit-limit", str(HOURLY_LIMIT))
            self.headers.setdefault("ratelimit-remaining", str(max(0, HOURLY_LIMIT - served)))
            self.headers.setdefault("ratelimit-reset", str(round(store.window_start + 3600)))
            self.headers.setdefault("x-request-id", request_id)
            if self.is_error:
                payload.setdefault("request_id", request_id)
        else:
            self.headers.setdefault("ratelimit-reset", str(round(time.time() + 3600)))
        self.body = json.dumps(payload, separators=(",", ":")).encode()
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def error_id(status: int) -> str:
    """DigitalOcean's error `id`: the status in snake case (500 is `server_error`)."""
    if status == 500:
        return "server_error"
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error(status: int, message: str) -> Response:
    return DOResponse({"id": error_id(status), "message": message}, status, is_error=True)


def state_of(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


async def json_body(request: Request) -> dict[str, Any] | None:
    """The JSON object sent (empty body: {}), or None when it cannot be parsed."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = jsonbound.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def int_param(request: Request, name: str) -> int | Response | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return error(400, f'invalid value "{raw}" for query parameter {name}')


def strings(value: Any) -> list[str] | None:
    """A list of strings (None/absent: empty), or None when it is something else."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def case_versions(request: Request, key: str) -> list[dict[str, Any]] | Response:
    versions = store_of(state_of(request)).test_cases.get(request.path_params[key])
    return versions if versions else error(404, NOT_FOUND)
