"""The job ledger's canonical records: what the gateway remembers of every job it has seen.

These are the shapes of `GET /v1/jobs`, `GET /v1/jobs/{id}/history`, `gw.jobs()` and
`gw.history()`; the storage behind them is gateway.ledger.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from gateway.schemas.job import Link, Metric, VendorName
from gateway.schemas.problem import Problem
from gateway.schemas.status import JobStatus

Observer = Literal["submit", "read", "watch", "refresher", "sync"]
LedgerSort = Literal["created", "-created", "updated", "-updated"]


class ResultSnapshot(BaseModel):
    """A terminal job's aggregated metrics, kept by the ledger; per-row scores stay at the
    vendor, reached through `rows_link`."""

    metrics: list[Metric] = Field(default_factory=list)
    rows_link: str | None = Field(
        default=None, description="Gateway path of the per-row results (paged at the vendor)"
    )
    artifacts: list[Link] = Field(default_factory=list)
    taken_at: AwareDatetime


class JobRecord(BaseModel):
    """The ledger's record of one job: the last known state and who started it."""

    id: str = Field(description="The gateway job id")
    backend: str
    vendor: VendorName
    api_version: str | None = None
    vendor_ids: list[str] = Field(description="The vendor's own identifiers, in id order")
    name: str | None = None
    caller: str | None = Field(default=None, description="Name of the API key that submitted it")
    idempotency_key: str | None = None
    submission: dict[str, Any] | None = Field(
        default=None, description="The canonical submission, when the gateway submitted it"
    )
    status: JobStatus
    vendor_status: str | None = None
    terminal: bool
    progress: float | None = Field(default=None, ge=0.0, le=1.0)
    created_at: AwareDatetime | None = Field(default=None, description="As the vendor says")
    first_seen_at: AwareDatetime
    last_seen_at: AwareDatetime = Field(description="Last time a vendor answer confirmed it")
    updated_at: AwareDatetime = Field(description="Last observed status change")
    outcome_unknown: bool = Field(
        default=False,
        description="Submitted, but the vendor's answer was never seen (a crash or a timeout "
        "between the two); the next read or the refresher settles it",
    )
    at_vendor: bool = Field(
        default=True, description="False once the vendor no longer knows the job (purged)"
    )
    last_problem: Problem | None = None
    result: ResultSnapshot | None = None


class StatusChange(BaseModel):
    """One observed change of a job's status: a row of its timeline."""

    job_id: str
    status: JobStatus
    vendor_status: str | None = None
    progress: float | None = Field(default=None, ge=0.0, le=1.0)
    observed_at: AwareDatetime
    observed_by: Observer


class JobHistory(BaseModel):
    """A job's status timeline, oldest first."""

    job_id: str
    changes: list[StatusChange]


class LedgerPage(BaseModel):
    """One page of ledger records; pass `next_page_token` back for the next one."""

    items: list[JobRecord]
    next_page_token: str | None = Field(default=None, description="Opaque; absent on the last page")
    counts: dict[str, int] = Field(
        default_factory=dict,
        description="Jobs per canonical status over the whole filter (status filter aside)",
    )
