"""The service's own request and response models (the canonical ones are gateway.schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.core.backends import BackendInfo
from gateway.paging import MAX_PAGE_SIZE, MAX_TOKEN_LENGTH
from gateway.schemas import JobStatus

HealthState = Literal["ok", "failing", "unknown"]


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JobQuery(_Query):
    include: Literal["raw"] | None = Field(
        default=None, description="`raw` adds the vendor's own payload to the answer"
    )


MAX_WAIT_SECONDS = 60.0  # longest long-poll: a held request also holds its config generation
DEFAULT_HEARTBEAT = 15.0
MAX_EVENT_ID_CHARS = 64


class GetJobQuery(JobQuery):
    wait: float | None = Field(
        default=None,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Long-poll: answer as soon as the job's status (or progress) changes or it"
        " is terminal, else after this many seconds with the job as it stands",
    )


class EventsQuery(_Query):
    heartbeat: float = Field(
        default=DEFAULT_HEARTBEAT,
        ge=1,
        le=60,
        description="Seconds between heartbeat comments while nothing changes",
    )
    last_event_id: str | None = Field(
        default=None,
        max_length=MAX_EVENT_ID_CHARS,
        description="Resume after this event (for clients that cannot send `Last-Event-ID`;"
        " the header wins)",
    )


class SubmitQuery(_Query):
    """A submission takes no query parameters (the request is the body)."""


class BackendsQuery(_Query):
    """GET /v1/backends takes no query parameters (anything given is a typo)."""


class ListJobsQuery(JobQuery):
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    page_token: str | None = Field(
        default=None, max_length=MAX_TOKEN_LENGTH, description="`next_page_token` of a page"
    )
    status: JobStatus | None = Field(default=None, description="Only jobs in this status")


class GetResultQuery(JobQuery):
    page_size: int = Field(
        default=50,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Rows per page (a page token keeps the size of the page it came from)",
    )
    page_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN_LENGTH,
        description="`next_page_token` of the result page before",
    )


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


class LedgerReadiness(BaseModel):
    """The job ledger as this replica sees it (counts since the process started)."""

    state: Literal["off", "ok", "degraded"] = Field(
        description="off (ledger.enabled false), ok, or degraded (its database failing: reads"
        " are still served, observed changes wait in a bounded queue, submissions are refused"
        " unless ledger.require_for_submit is false)"
    )
    queued: int = Field(description="Observed changes waiting to be written")
    written: int = 0
    failed_writes: int = Field(default=0, description="Write attempts that failed (retried)")
    dropped: int = Field(default=0, description="Changes dropped because the queue was full")
    last_error: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "degraded"] = Field(
        description="degraded: serving, but the job ledger is failing (see `ledger`)"
    )
    config: ConfigInfo
    backends: list[BackendReadiness]
    shared_state: Literal["off", "ok", "degraded"] = Field(
        description="Redis shared state: off (not configured), ok, or degraded (Redis failing;"
        " this replica answers from its own state, so readiness is not affected)"
    )
    ledger: LedgerReadiness
