"""One `gateway.access` line per request (INFO): method, path, route, status, duration, outcome
and what the access record learned (caller, backend, vendor, operation, upstream_ms, stale).

Off with `server.access_log: false` (read per request: a reload applies at once) or when the
logger is above INFO.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.server.access_lines import direct_access_handler
from gateway.server.holder import GatewayHolder
from gateway.server.logs import ACCESS_LOGGER
from gateway.server.middleware.http import HttpMiddleware
from gateway.server.middleware.record import ACCESS_FIELDS, AccessInfo, access_of

UNMATCHED_ROUTE = "<unmatched>"  # the route of a request no route matched (or refused before)
access_log = logging.getLogger(ACCESS_LOGGER)


def route_of(scope: Scope) -> str:
    """The route template that answered (bounded label and field values), or UNMATCHED_ROUTE."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE


class AccessLogMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, holder: GatewayHolder) -> None:
        super().__init__(app)
        self.holder = holder

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            if self.holder.current.config.server.access_log and access_log.isEnabledFor(
                logging.INFO
            ):
                write_access_line(scope, access_of(scope), time.perf_counter() - began)


def write_access_line(scope: Scope, access: AccessInfo, seconds: float) -> None:
    status = access.status or 500
    # Built by hand: dataclasses.asdict deep-copies and was a tenth of a cached answer.
    fields: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"][:512],
        "route": route_of(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "outcome": access.outcome or ("ok" if status < 400 else "error"),
    }
    for name in ACCESS_FIELDS:
        value = getattr(access, name)
        if value is not None:
            fields[name] = value
    args = (scope["method"], scope["path"][:200], status)
    direct = direct_access_handler(access_log)
    if direct is not None:  # as served (log_config): the same line, without a LogRecord
        direct.write_fields(f"{args[0]} {args[1]} {status}", access.request_id, fields)
        return
    # makeRecord + handle is Logger.info without its stack walk for the caller's file and
    # line (findCaller), which an access line never shows.
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
