"""The remote client: a running gateway with the library's API (`gateway.client`).

    from gateway.client import GatewayClient
    with GatewayClient("http://127.0.0.1:8080", api_key=key) as gw:
        job = gw.get_job("ls-sim~mmlu~0")

Same methods, return types and exceptions as `Gateway` / `AsyncGateway`; the client retries
the gateway's 429/503 answers (honouring Retry-After) and connection failures, and sends an
idempotency key with every submission so its retries never start a second job.
"""

from gateway.client.aio import AsyncGatewayClient, RemoteSubscription
from gateway.client.blocking import GatewayClient
from gateway.client.errors import (
    GatewayTimedOut,
    GatewayUnreachable,
    InvalidGatewayResponse,
    error_from_problem,
    problem_details,
)
from gateway.client.wire import RetryPolicy

__all__ = [
    "AsyncGatewayClient",
    "GatewayClient",
    "GatewayTimedOut",
    "GatewayUnreachable",
    "InvalidGatewayResponse",
    "RemoteSubscription",
    "RetryPolicy",
    "error_from_problem",
    "problem_details",
]
