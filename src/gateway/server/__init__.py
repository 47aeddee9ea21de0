"""The proxy HTTP service: `create_app(config)` -> a starlette app (see `eval-gateway serve`)."""

from gateway.server.app import create_app

__all__ = ["create_app"]
