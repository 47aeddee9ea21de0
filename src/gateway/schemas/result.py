"""The canonical result of a finished job."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gateway.schemas.job import Link, Metric, VendorName
from gateway.schemas.status import JobStatus


class ResultRow(BaseModel):
    """One evaluated example: its input, the candidate's output and its scores."""

    index: int
    id: str | None = None
    input: Any | None = None
    output: Any | None = None
    expected: Any | None = None
    scores: list[Metric] = Field(default_factory=list)
    data: dict[str, Any] = Field(
        default_factory=dict, description="Anything else the vendor has for this row"
    )


class Result(BaseModel):
    """What a finished job produced, in the same shape whatever vendor ran it."""

    job_id: str
    backend: str
    vendor: VendorName
    status: JobStatus = Field(description="The job's status when the result was read")
    metrics: list[Metric] = Field(default_factory=list, description="Aggregated metrics")
    rows: list[ResultRow] = Field(default_factory=list, description="Per-row scores/generations")
    artifacts: list[Link] = Field(default_factory=list, description="Downloads and result links")
    next_page_token: str | None = Field(
        default=None,
        description="Pass back as `page_token` for the next page of rows; null on the last"
        " page. The metrics and artifacts are on every page",
    )
    raw: dict[str, Any] | None = Field(
        default=None, description="The vendor's payload; only when asked for"
    )
