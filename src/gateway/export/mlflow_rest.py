"""The few MLflow tracking-server REST calls the exporter needs (MLflow's REST API 2.0).

Spoken over httpx rather than through the `mlflow` client library: a handful of calls, async
(the ledger's terminal hook runs on the gateway's loop), bounded in time (the client library
retries an unreachable server for minutes), and no dependency that pins ours. Every failure is
a typed GatewayError naming the tracking server, never a traceback.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from gateway.errors import (
    GatewayError,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.redact import bounded_vendor_error

API = "/api/2.0/mlflow"
SERVER = "the MLflow tracking server"


def _auth_headers() -> dict[str, str]:
    """MLflow's own credential variables (the client library reads the same)."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {}


def _auth() -> httpx.BasicAuth | None:
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password and not os.environ.get("MLFLOW_TRACKING_TOKEN"):
        return httpx.BasicAuth(user, password)
    return None


class MlflowRest:
    """One tracking server at `tracking_uri` (http(s), no credentials in it)."""

    def __init__(
        self,
        tracking_uri: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        secrets = [
            os.environ.get(name, "")
            for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD")
        ]
        self._secrets = tuple(s for s in secrets if s)
        self._client = httpx.AsyncClient(
            base_url=self.tracking_uri + API,
            headers=_auth_headers(),
            auth=_auth(),
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:  # the client's headers may hold a token: never show them
        return f"MlflowRest({self.tracking_uri!r})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One REST call; the JSON answer, or the typed problem."""
        where = f"{SERVER} at {self.tracking_uri}"
        try:
            if method == "GET":
                response = await self._client.get(path, params=body)
            else:
                response = await self._client.request(method, path, json=body or {})
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"{where} did not answer in time", retryable=True) from None
        except (httpx.TransportError, OSError):
            raise UpstreamUnavailable(f"could not reach {where}", retryable=True) from None
        try:
            answer = response.json() if response.content.strip() else {}
        except ValueError:
            answer = None
        if response.status_code >= 400:
            raise self._problem(response.status_code, answer, where)
        if not isinstance(answer, dict):
            raise UpstreamInvalidResponse(f"{where} answered with a body that is not JSON")
        return answer

    def _problem(self, status: int, answer: Any, where: str) -> GatewayError:
        code = answer.get("error_code") if isinstance(answer, dict) else None
        message = answer.get("message") if isinstance(answer, dict) else None
        detail = f"{where} answered {status}" + (f" {code}" if code else "")
        fields: dict[str, Any] = {
            "vendor_status_code": status,
            "vendor_error": bounded_vendor_error(
                {"error_code": code, "message": message} if code else answer, self._secrets
            ),
        }
        if status in (401, 403):
            return UpstreamAuthFailed(
                detail + ": set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD",
                **fields,
            )
        if status >= 500 or status == 429:
            return UpstreamUnavailable(detail, retryable=True, **fields)
        return UpstreamError(detail, retryable=False, **fields)

    @staticmethod
    def error_code(exc: GatewayError) -> str | None:
        """MLflow's error_code of a refused call (e.g. RESOURCE_DOES_NOT_EXIST)."""
        error = exc.vendor_error
        return error.get("error_code") if isinstance(error, dict) else None
