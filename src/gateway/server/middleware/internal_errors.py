"""The last resort: a bug anywhere below becomes an `internal-error` problem (500).

The traceback goes to the log with the request id; the caller gets only the id to report.
A bug after the answer started cannot change it: it is re-raised and the server drops the
connection. A client that left (ClientDisconnect) is no bug: status 499, nothing answered.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.server.holder import GatewayHolder
from gateway.server.middleware.http import HttpMiddleware
from gateway.server.middleware.record import access_of
from gateway.server.problems import PROBLEM_MEDIA_TYPE, internal_error_body

log = logging.getLogger("gateway.server")


class InternalErrorMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, holder: GatewayHolder) -> None:
        super().__init__(app)
        self.holder = holder

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            access = access_of(scope)
            access.outcome = "client-disconnected"  # nobody left to answer; not our bug
            access.status = access.status or 499
        except Exception:
            log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            access = access_of(scope)
            access.outcome = "internal-error"
            if access.status is not None:  # the answer has started (the request id noted it)
                raise  # too late for a problem body; the server drops the connection
            base = self.holder.current.config.problems.base_uri
            await send_internal_error(send, internal_error_body(access.request_id, base))


async def send_internal_error(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
