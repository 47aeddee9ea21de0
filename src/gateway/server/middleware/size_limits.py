"""Requests over the limits are refused as problems: URL (414), headers (431), body (413).

The URL and header limits are http_limits' (which `eval-gateway serve`'s protocol already
applies while parsing; this is for any other ASGI server); the body limit is
`server.max_body_bytes`, read per request: a declared Content-Length over it is refused before
routing, and a body that grows past it while read raises BodyTooLarge from `receive`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError
from gateway.server.holder import GatewayHolder
from gateway.server.http_limits import head_refusal
from gateway.server.middleware.http import HttpMiddleware
from gateway.server.problems import BodyTooLarge, error_response


class SizeLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, holder: GatewayHolder) -> None:
        super().__init__(app)
        self.holder = holder

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.holder.current.config.server.max_body_bytes
        refusal: GatewayError | None = head_refusal(scope)
        if refusal is None and declared_length(scope) > limit:
            refusal = body_too_large(limit)
        if refusal is not None:
            await error_response(Request(scope), refusal)(scope, receive, send)
        else:
            await self.app(scope, limited(receive, limit), send)


def body_too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the request body is larger than {limit} bytes")


def declared_length(scope: Scope) -> int:
    """The Content-Length header as a number (0 when absent or not one)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def limited(receive: Receive, limit: int) -> Receive:
    """`receive` that refuses a body growing past `limit` (when no Content-Length said so)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise body_too_large(limit)
        return message

    return wrapped
