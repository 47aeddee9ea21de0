"""The canonical job."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, computed_field

from gateway.schemas.problem import Problem
from gateway.schemas.status import JobStatus


class Vendor(StrEnum):
    """The built-in vendors. Plug-ins add more (gateway.vendors.registry), so a job's
    `vendor` is a `VendorName`, any registered name, not only one of these."""

    LLAMA_STACK = "llama-stack"
    NEMO_EVALUATOR = "nemo-evaluator"
    OVERMIND = "overmind"
    DIGITALOCEAN_GENAI = "digitalocean-genai"
    DATAROBOT_GENAI = "datarobot-genai"


VENDORS: tuple[str, ...] = tuple(v.value for v in Vendor)  # the built-ins, in order
VendorName = Annotated[
    str,
    Field(
        description="A registered vendor: a built-in or an installed plug-in",
        examples=list(VENDORS),
    ),
]

MetricValue = bool | int | float | str | None


class Metric(BaseModel):
    """One named score: aggregated on a result, or a summary the vendor puts on a job."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: MetricValue = Field(description="Number, string or boolean; null if not computed")
    value_type: Literal["number", "percentage", "string", "boolean"] | None = None
    unit: str | None = None
    group: str | None = Field(default=None, description="Task, scorer or dataset it belongs to")
    stats: dict[str, float | int | None] | None = Field(
        default=None, description="Vendor statistics (count, mean, stderr...)"
    )
    detail: str | None = Field(default=None, description="Reasoning or error text from the vendor")


class Link(BaseModel):
    """A related resource: the vendor's own page, a result download, a status URL."""

    model_config = ConfigDict(frozen=True)

    rel: str
    href: str
    media_type: str | None = None


class Job(BaseModel):
    """An evaluation job, in the same shape whatever vendor runs it."""

    id: str = Field(description="The gateway job id (see gateway.ids); one URL-safe segment")
    backend: str
    vendor: VendorName
    api_version: str | None = None
    vendor_job_id: str
    name: str | None = None
    status: JobStatus
    vendor_status: str | None = Field(description="The vendor's own status word, verbatim")
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    progress: float | None = Field(default=None, ge=0.0, le=1.0)
    message: str | None = None
    error: Problem | None = Field(default=None, description="Set when the vendor reports a failure")
    metrics: list[Metric] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    stale: bool = Field(default=False, description="Served from cache after an upstream failure")
    raw: dict[str, Any] | None = Field(
        default=None, description="The vendor's payload; only when asked for"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def terminal(self) -> bool:
        """True once the job can no longer change."""
        return self.status.terminal
