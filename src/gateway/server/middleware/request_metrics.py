"""Counts every answer in `gateway_http_requests_total{route, backend, status}`.

The route is the template (or `<unmatched>`), never the path, so the label values stay few;
the backend is the access record's (empty for a request that named none).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.server.metrics import Metrics
from gateway.server.middleware.access_log import route_of
from gateway.server.middleware.http import HttpMiddleware
from gateway.server.middleware.record import access_of


class RequestMetricsMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            access = access_of(scope)
            self.metrics.count_request(route_of(scope), access.backend or "", access.status or 500)
