"""Llama Stack simulator HTTP pieces: the server's error envelope, its pre-routing checks
(auth, client version), request validation, and FastAPI's answers to route misses.

Errors use the 0.6+ envelope `{"error":{"message"}}` (API.md §4); route misses get FastAPI's
own `{"detail": ...}` answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route

from gateway import jsonbound
from gateway.simulators.engine import Fault, SimState
from gateway.vendors.llama_stack.sim.data import SERVER_VERSION, validation_message

# What the server answers for any unmapped exception (API.md §4).
INTERNAL_ERROR = "Internal server error: An unexpected error occurred."
Handler = Callable[[Request, SimState], Awaitable[Response]]


class VendorError(Exception):
    """Raised by handlers; answered in the vendor's error envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def ok(body: Any) -> Response:
    return JSONResponse(body)  # None renders as `null`: the v0.5+ answer to DELETE/register


def route(path: str, handler: Handler, method: str) -> Route:
    """A vendor route: its handler's VendorError in the envelope, anything else a 500."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, request.app.state.sim)
        except VendorError as exc:
            return error(exc.status, exc.message)
        except Exception:
            return error(500, INTERNAL_ERROR)

    return Route(path, endpoint, methods=[method])


async def read_body(request: Request, model: type[BaseModel]) -> Any:
    """The request body validated as `model`, or the server's 400 (a dict repr, API.md §4)."""
    raw = await request.body()
    if not raw.strip():
        raise VendorError(400, validation_message(None))
    try:
        parsed = jsonbound.loads(raw)
    except ValueError as exc:
        position = getattr(exc, "pos", 0)
        raise VendorError(400, validation_message(None, json_error_at=position)) from None
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        raise VendorError(400, validation_message(exc)) from None


def route_miss(routes: Sequence[Route]) -> Callable[[Request], Awaitable[Response]]:
    """What FastAPI answers when none of `routes` fully matches: 405, a slash redirect, 404."""

    def matches(scope: dict[str, Any]) -> list[tuple[Match, Route]]:
        return [(r.matches(scope)[0], r) for r in routes]

    async def answer(request: Request) -> Response:
        scope = dict(request.scope)
        allowed = sorted(
            {m for match, r in matches(scope) if match is Match.PARTIAL for m in r.methods or ()}
        )
        if allowed:
            return JSONResponse(
                {"detail": "Method Not Allowed"},
                status_code=405,
                headers={"Allow": ", ".join(allowed)},
            )
        path: str = scope["path"]
        if path != "/":
            scope["path"] = path.rstrip("/") if path.endswith("/") else path + "/"
            if any(match is not Match.NONE for match, _ in matches(scope)):
                return RedirectResponse(str(URL(scope=scope)), status_code=307)
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    return answer


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.strip().split(".")[:2])


def check_auth(request: Request, state: SimState) -> Response | None:
    """The server's pre-routing checks: bearer auth (when configured), then client version."""
    if state.api_key is not None:
        header = request.headers.get("authorization")
        # The texts for a missing or refused token depend on the auth provider (API.md §1).
        if not header:
            return error(401, "Authentication required")
        if not header.startswith("Bearer "):
            return error(401, "Invalid Authorization header format")
        if header.removeprefix("Bearer ") != state.api_key:
            return error(401, "Invalid token")
    client = request.headers.get("x-llamastack-client-version")
    if client and _major_minor(client) != _major_minor(SERVER_VERSION):
        return error(
            426,
            f"Client version {client} is not compatible with server version"
            f" {SERVER_VERSION}. Please update your client.",
        )
    return None


def rate_limited(state: SimState, fault: Fault) -> Response:
    # The quota middleware sends no Retry-After (API.md §1), whatever the fault asks for.
    return error(429, "Quota exceeded")
