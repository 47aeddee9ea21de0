"""Plain ASGI middleware: request id, size limits, access log, metrics and the last-resort 500.

It is the outermost layer of our own: everything below (routing, handlers, the core) runs with
the request id set, and a bug anywhere below still turns into an `internal-error` problem with
the request id (logged with its traceback, never shown to the caller).
"""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.server.holder import GatewayHolder
from gateway.server.http_limits import head_refusal
from gateway.server.logs import REQUEST_ID
from gateway.server.metrics import Metrics
from gateway.server.problems import (
    PROBLEM_MEDIA_TYPE,
    BodyTooLarge,
    error_response,
    internal_error_body,
)

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed and logged, so only plain, short ones are taken (no log injection).
_GOOD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
UNMATCHED_ROUTE = "<unmatched>"
log = logging.getLogger("gateway.server")
access_log = logging.getLogger("gateway.access")


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
    status: int | None = None


_ACCESS_FIELDS = tuple(
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


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, holder: GatewayHolder, metrics: Metrics) -> None:
        self.app = app
        self.holder = holder
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _GOOD_ID.fullmatch(incoming) else new_request_id()
        access = AccessInfo(request_id=request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["access"] = access
        token = REQUEST_ID.set(request_id)
        started = False
        began = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                access.status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        limit = self.holder.current.config.server.max_body_bytes
        try:
            refusal = head_refusal(scope)
            if refusal is None and _declared_length(headers) > limit:
                refusal = BodyTooLarge(f"the request body is larger than {limit} bytes")
            if refusal is not None:
                await error_response(Request(scope), refusal)(scope, receive, send_with_id)
            else:
                await self.app(scope, _limited(receive, limit), send_with_id)
        except ClientDisconnect:
            access.outcome = "client-disconnected"  # nobody left to answer; not our bug
            access.status = access.status or 499
        except Exception:
            log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            access.outcome = "internal-error"
            if started:
                raise  # too late for a problem body; the server drops the connection
            await _send_internal_error(send_with_id, request_id, self._problem_base())
        finally:
            self._finish(scope, access, time.perf_counter() - began)
            REQUEST_ID.reset(token)

    def _problem_base(self) -> str:
        return self.holder.current.config.problems.base_uri

    def _finish(self, scope: Scope, access: AccessInfo, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
        status = access.status or 500
        self.metrics.count_request(route, access.backend or "", status)
        if not self.holder.current.config.server.access_log or not access_log.isEnabledFor(
            logging.INFO
        ):
            return
        # Built by hand: dataclasses.asdict deep-copies and was a tenth of a cached answer.
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"][:512],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "outcome": access.outcome or ("ok" if status < 400 else "error"),
        }
        for name in _ACCESS_FIELDS:
            value = getattr(access, name)
            if value is not None:
                fields[name] = value
        # makeRecord + handle is Logger.info without its stack walk for the caller's file and
        # line (findCaller), which an access line never shows.
        args = (scope["method"], scope["path"][:200], status)
        record = access_log.makeRecord(
            access_log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %d",
            args,
            None,
            extra={"fields": fields},
        )
        access_log.handle(record)


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


def _limited(receive: Receive, limit: int) -> Receive:
    """`receive` that refuses a body growing past `limit` (when no Content-Length said so)."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"the request body is larger than {limit} bytes")
        return message

    return wrapped


async def _send_internal_error(send: Send, request_id: str, base: str) -> None:
    body = internal_error_body(request_id, base)
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
