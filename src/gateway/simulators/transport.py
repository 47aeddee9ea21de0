"""Serve a simulator in-process: an httpx transport over ASGI, no socket."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from .app import SimulatedDisconnect


class SimTransport(httpx.AsyncBaseTransport):
    """`httpx.ASGITransport` that turns a simulated disconnect into a real transport error."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._asgi.handle_async_request(request)
        except SimulatedDisconnect:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None

    async def aclose(self) -> None:
        await self._asgi.aclose()
