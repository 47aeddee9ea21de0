"""Names each request: its id in the log context, the scope state and the X-Request-ID header.

A caller's own X-Request-ID is taken when it is plain and short, else a fresh id is made. The
same `send` wrapper notes the answer's status in the access record (record.py): the one
wrapper of the stack, as each wrapper is an await per message on the hot path.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from gateway.server.logs import REQUEST_ID
from gateway.server.middleware.http import HttpMiddleware
from gateway.server.middleware.record import AccessInfo, new_request_id

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed and logged, so only plain, short ones are taken (no log injection).
_GOOD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")


def incoming_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _GOOD_ID.fullmatch(given) else new_request_id()
    return new_request_id()


class RequestIdMiddleware(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = incoming_request_id(scope)
        access = AccessInfo(request_id=request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["access"] = access

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                access.status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
