"""The service's own request and response models (the canonical ones are gateway.schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..backends import BackendInfo
from ..paging import MAX_PAGE_SIZE, MAX_TOKEN_LENGTH
from ..schemas import JobStatus

HealthState = Literal["ok", "failing", "unknown"]


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JobQuery(_Query):
    include: Literal["raw"] | None = Field(
        default=None, description="`raw` adds the vendor's own payload to the answer"
    )


class ListJobsQuery(JobQuery):
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = Field(
        default=None, max_length=MAX_TOKEN_LENGTH, description="`next_page_token` of a page"
    )
    status: JobStatus | None = Field(default=None, description="Only jobs in this status")


class CancelRequest(BaseModel):
    """Body of a cancel request: optional, and an empty object today."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendHealth(BaseModel):
    """What the gateway has seen of a backend lately (from real calls, no probing)."""

    state: HealthState = Field(
        description="ok: answered last time; failing: the last call(s) failed upstream; "
        "unknown: not called since the config was loaded"
    )
    last_outcome: str | None = Field(
        default=None, description="`ok` or the problem slug of the last call"
    )
    last_ok_at: AwareDatetime | None = None
    last_failure_at: AwareDatetime | None = None
    consecutive_failures: int = 0


CircuitState = Literal["closed", "open", "half_open"]
CIRCUIT_DOC = "The backend's circuit breaker: open answers upstream-unavailable at once"


class BackendView(BackendInfo):
    health: BackendHealth
    circuit: CircuitState = Field(description=CIRCUIT_DOC)


class BackendList(BaseModel):
    backends: list[BackendView]
    aliases: dict[str, str] = Field(description="Alias -> the backend it points at today")


class Health(BaseModel):
    status: Literal["ok"]


class ConfigInfo(BaseModel):
    source: str = Field(description="The config file, or <embedded defaults>")
    generation: int = Field(description="1 at start, +1 on every applied reload")
    loaded_at: AwareDatetime
    auth_enabled: bool


class BackendReadiness(BaseModel):
    name: str
    vendor: str
    health: HealthState
    circuit: CircuitState = Field(description=CIRCUIT_DOC)


class Readiness(BaseModel):
    status: Literal["ready"]
    config: ConfigInfo
    backends: list[BackendReadiness]
    shared_state: Literal["off", "ok", "degraded"] = Field(
        description="Redis shared state: off (not configured), ok, or degraded (Redis failing;"
        " this replica answers from its own state, so readiness is not affected)"
    )
