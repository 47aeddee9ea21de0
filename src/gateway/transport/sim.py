"""Serve a simulator in-process: an httpx transport over ASGI, no socket."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from gateway.simulators.app import SimulatedDisconnect, SimulatedReset


class _VirtualStream:
    """Stands in for httpcore's network stream in `response.extensions["network_stream"]`:
    closing it makes the transport start a new virtual connection, as a real pool would."""

    def __init__(self, transport: SimTransport) -> None:
        self._transport = transport

    async def aclose(self) -> None:
        self._transport.new_connection()


class SimTransport(httpx.AsyncBaseTransport):
    """`httpx.ASGITransport` with connection semantics a simulator can tell apart.

    Requests share one virtual keep-alive connection (the app sees it as the ASGI `client`)
    until it breaks or the client closes it, so connection-level faults behave as on a socket.
    A simulated disconnect or reset reaches the client as the httpx error a real one gives.
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.connection = 0
        self._asgi = httpx.ASGITransport(app=self._on_connection)

    def new_connection(self) -> None:
        self.connection += 1

    async def _on_connection(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, "client": ("in-process", self.connection)}, receive, send)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._asgi.handle_async_request(request)
        except SimulatedDisconnect:
            self.new_connection()
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except SimulatedReset:
            self.new_connection()  # a reset connection is gone; the next request opens another
            raise
        response.extensions["network_stream"] = _VirtualStream(self)
        return response

    async def aclose(self) -> None:
        await self._asgi.aclose()
