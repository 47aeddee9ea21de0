"""OpenTelemetry traces, the optional `[otel]` extra: a server span per request, a span per
gateway operation and a client span per vendor attempt, W3C traceparent in and out.

Off, it costs nothing: this module never imports opentelemetry (gateway.telemetry.otel does,
and is imported only when `telemetry.enabled` is set). The hot path pays one `is None` check
per call and one context-variable read per vendor request (`with_trace_headers`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from gateway.errors import ConfigError
from gateway.telemetry.propagation import TRACE_HEADERS, with_trace_headers
from gateway.telemetry.settings import TelemetrySettings

if TYPE_CHECKING:
    from gateway.telemetry.otel import Tracing

__all__ = ["TRACE_HEADERS", "TelemetrySettings", "tracing_for", "with_trace_headers"]


def sdk_disabled() -> bool:
    """OTEL_SDK_DISABLED=true, the standard switch that turns every signal off."""
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def tracing_for(settings: TelemetrySettings, source: str = "<config>") -> Tracing | None:
    """The tracer for a config (None: tracing is off). Enabled without the `[otel]` extra
    installed is a config error that says what to install."""
    if not settings.enabled or sdk_disabled():
        return None
    try:
        from gateway.telemetry.otel import Tracing
    except ImportError:
        raise ConfigError(
            source,
            [
                (
                    "telemetry.enabled",
                    "needs the OpenTelemetry extra: pip install 'eval-gateway[otel]'",
                )
            ],
        ) from None
    return Tracing.for_settings(settings)
