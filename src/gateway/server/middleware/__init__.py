"""The server's own ASGI middleware, one concern a module; `server.app` stacks them (and says
in which order, and why).

- request_id: the request's id (log context, scope state, X-Request-ID) and its access record
- access_log: the `gateway.access` line, with the request's duration
- request_metrics: the `gateway_http_requests_total` counter
- internal_errors: the last-resort 500 problem for a bug below (499 for a client that left)
- size_limits: 413/414/431 problems for a body, URL or headers over the limits
- record: the access record every layer fills in (AccessInfo, access_of)
"""

from gateway.server.middleware.access_log import AccessLogMiddleware
from gateway.server.middleware.internal_errors import InternalErrorMiddleware
from gateway.server.middleware.record import AccessInfo, access_of, new_request_id
from gateway.server.middleware.request_id import REQUEST_ID_HEADER, RequestIdMiddleware
from gateway.server.middleware.request_metrics import RequestMetricsMiddleware
from gateway.server.middleware.size_limits import SizeLimitMiddleware

__all__ = [
    "REQUEST_ID_HEADER",
    "AccessInfo",
    "AccessLogMiddleware",
    "InternalErrorMiddleware",
    "RequestIdMiddleware",
    "RequestMetricsMiddleware",
    "SizeLimitMiddleware",
    "access_of",
    "new_request_id",
]
