"""The `telemetry:` config section (read without importing OpenTelemetry)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TelemetrySettings(BaseModel):
    """OpenTelemetry traces: off unless enabled here and the `[otel]` extra is installed.

    The exporter follows the standard OTEL_* environment variables (OTEL_EXPORTER_OTLP_*,
    OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, OTEL_SERVICE_NAME...); OTEL_SDK_DISABLED=true
    turns tracing off whatever this says. Read when the service starts (not on a reload).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    service_name: str = Field(
        "eval-gateway", min_length=1, description="service.name, unless OTEL_SERVICE_NAME is set"
    )
