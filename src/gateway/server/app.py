"""The starlette app factory of the proxy service."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from gateway.config import DEFAULT_CONFIG_PATH, GatewayConfig, default_config, load_config
from gateway.errors import GatewayError
from gateway.server.access_lines import flush_access_lines
from gateway.server.holder import EMBEDDED, GatewayHolder
from gateway.server.ledger_metrics import LedgerCollector
from gateway.server.metrics import Metrics, ResilienceCollector
from gateway.server.middleware import (
    AccessLogMiddleware,
    InternalErrorMiddleware,
    RequestIdMiddleware,
    RequestMetricsMiddleware,
    SizeLimitMiddleware,
)
from gateway.server.openapi import build_openapi
from gateway.server.problems import gateway_error_handler, http_exception_handler
from gateway.server.routes import routes
from gateway.telemetry import tracing_for
from gateway.ui import ui_routes

CONFIG_ENV = "EVAL_GATEWAY_CONFIG"  # how `eval-gateway serve` hands the file to its workers


def create_app(
    config: GatewayConfig | str | Path | None = None,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Starlette:
    """The service for `config`: a file (reloaded live), a GatewayConfig, or None (defaults).

    A bad file raises `ConfigError` here, before anything listens.
    """
    if isinstance(config, GatewayConfig):
        loaded, source, label = config, None, None
    elif config is None:
        loaded, source, label = default_config(), DEFAULT_CONFIG_PATH, EMBEDDED
    else:
        source = Path(config)
        loaded, label = load_config(source), str(source)
    metrics = Metrics()
    holder = GatewayHolder(
        loaded, source=source, source_label=label, metrics=metrics, transports=transports
    )
    metrics.registry.register(ResilienceCollector(lambda: holder.current.gateway))
    metrics.registry.register(LedgerCollector(lambda: holder.current.gateway))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with holder.running():
            if getattr(app.state, "freeze_after_start", False):
                # Opening the ledger at start imports SQLAlchemy and alembic (~55,000 objects,
                # after app_from_env's freeze): left young, every full collection walked them
                # all, +35 us of GC per proxied request (docs/benchmarks.md, second step).
                gc.freeze()
            try:
                yield
            finally:
                flush_access_lines()

    # Outermost first. The server span (telemetry, when on) wraps everything, so it times the
    # whole answer and reads the finished access record. The request id comes next: every
    # layer below logs with it, and every answer (a refusal, the last-resort 500) carries it;
    # it opens the access record and notes the status sent, which the next ones read. The
    # access log and request counter then see the final status, including the internal-error
    # 500 and the 499 of a client that left, which the last resort makes of what reaches it.
    # Size limits are innermost: a refused request is still named, logged and counted, and a
    # body growing too large raises from `receive`, below, into the routes' problem handler.
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(AccessLogMiddleware, holder=holder),
        Middleware(RequestMetricsMiddleware, metrics=metrics),
        Middleware(InternalErrorMiddleware, holder=holder),
        Middleware(SizeLimitMiddleware, holder=holder),
    ]
    tracing = tracing_for(loaded.telemetry, label or "<config>")
    if tracing is not None:
        middleware.insert(0, tracing.server_middleware())
    app = Starlette(
        routes=[*routes(), *ui_routes()],  # the status board under /ui
        middleware=middleware,
        exception_handlers={
            GatewayError: gateway_error_handler,
            HTTPException: http_exception_handler,
        },
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.state.metrics = metrics
    app.state.openapi = build_openapi()
    return app


def app_from_env() -> Starlette:
    """uvicorn factory for `eval-gateway serve` (each worker process builds its own app)."""
    app = create_app(os.environ.get(CONFIG_ENV) or None)
    # What is loaded by now (modules, schemas, config) lives as long as the process: freezing
    # it keeps the collector's full passes to request garbage (a shorter p99 under load).
    gc.freeze()
    app.state.freeze_after_start = True  # and again once the lifespan has opened the ledger
    return app
