"""The `export:` config section: where finished jobs' results are sent (gateway.export)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MlflowExportSettings(_Strict):
    """One MLflow run per job, on an MLflow tracking server (REST API, no client library).

    Credentials come from MLflow's own variables, never from this file: MLFLOW_TRACKING_TOKEN
    (bearer) or MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (basic).
    """

    tracking_uri: str = Field(description="http(s)://host[:port][/prefix] of the server")
    experiment: str = Field(min_length=1, max_length=500, description="Created if missing")
    # Export each job automatically once the ledger records it terminal.
    on_terminal: bool = False
    timeout_seconds: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _check_uri(self) -> MlflowExportSettings:
        if not re.match(r"^https?://[^/\s]+", self.tracking_uri):
            raise ValueError("tracking_uri must be http(s)://host[:port][/path]")
        if re.match(r"^https?://[^/@]+@", self.tracking_uri):
            raise ValueError(
                "tracking_uri must not carry credentials; set MLFLOW_TRACKING_TOKEN or "
                "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
            )
        return self


class ExportSettings(_Strict):
    mlflow: MlflowExportSettings | None = None
