"""DataRobot simulator data: seeded jobs (from sim/seeds.yaml) and status bodies.

Shapes follow shared/vendor-apis/datarobot-genai/ (API.md and examples/). Every job holds
`data["kind"]` ("genai" or "classic"); optional `data` keys: `description`, `statusType`,
`type` (classic), `message` (shown in the end states ERROR/ABORTED/EXPIRED), `location` (a
COMPLETED job answers 303 See Other there), `redirect_to` (answers 307 there), `bare_string`
(GenAI answers with the status word as a bare JSON string), `aggregation` (the metric
aggregation request that started it).
"""

from __future__ import annotations

import copy
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.simulators.engine import SimJob, SimState, Stage
from gateway.simulators.seeds import lifecycle, load_seeds
from gateway.vendors.datarobot_genai.jobs import STATUS_TABLE
from gateway.vendors.datarobot_genai.wire import CLASSIC, GENAI

SEEDS: Final = load_seeds(__package__)
# The statuses a job can show are the words the adapter's table knows (JobExecutionState).
STATUSES: Final = tuple(STATUS_TABLE.entries)
# End states that report code 1 (GENERIC_ERROR) with a reason, as in the contract's examples.
ERROR_CODE_STATUSES: Final = frozenset({"ERROR", "ABORTED", "EXPIRED"})
AGGREGATION_TYPES: Final = (
    "average",
    "percentYes",
    "classPercentCoverage",
    "ngramImportance",
    "guardConditionPercentYes",
)
USER_ID: Final = "5f0000000000000000000001"
TENANT_ID: Final = "5f0000000000000000000002"
GENAI_MESSAGES: Final = {
    "ERROR": "An unknown error occurred while computing the metric aggregation.",
    "ABORTED": "Job was aborted.",
    "EXPIRED": "Job expired before it could be executed.",
}

# The seeded jobs' ids and the resources they point at (all in sim/seeds.yaml).
GENAI_IDS: Final[dict[str, str]] = {s: j["id"] for s, j in SEEDS[GENAI]["by_status"].items()}
GENAI_MOVING_ID: Final[str] = SEEDS[GENAI]["moving"]["id"]
GENAI_REDIRECT_ID: Final[str] = SEEDS[GENAI]["redirect"]["id"]
CLASSIC_IDS: Final[dict[str, str]] = {s: j["id"] for s, j in SEEDS[CLASSIC]["by_status"].items()}
CLASSIC_MOVING_ID: Final[str] = SEEDS[CLASSIC]["moving"]["id"]
CHAT_PROMPT_PATH: Final[str] = SEEDS["chat_prompt_path"]
PROJECT_PATH: Final[str] = SEEDS["project_path"]
# The contract's example aggregation request, and the chat its example list shows.
EXAMPLE_AGGREGATION: Final[dict[str, Any]] = SEEDS["example_aggregation"]
EXAMPLE_CHAT_ID: Final[str] = SEEDS["example_chat_id"]


def iso(seconds: float) -> str:
    # Milliseconds are enough, and drop the float noise of a shifted clock (stable cassettes).
    stamp = datetime.fromtimestamp(round(seconds, 3), UTC)
    return stamp.isoformat(timespec="microseconds")[:-6] + "Z"


def genai_job_id(state: SimState) -> str:
    """A deterministic UUID for a new GenAI job (stable across runs for cassettes)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"datarobot-sim/genai/{state.next_seq()}"))


def classic_job_id(state: SimState) -> str:
    return f"65f0{state.next_seq():020x}"


def object_id(seed: str) -> str:
    """A deterministic 24-hex (ObjectId-like) id for `seed`."""
    return f"66{zlib.crc32(seed.encode()):08x}{zlib.crc32(seed[::-1].encode()):08x}000000"


def status_fields(state: SimState, job: SimJob) -> tuple[str, int, str]:
    """(status, code, message) of a job now; status via `state.status_of` (faults apply)."""
    status = state.status_of(job)
    failed = status in ERROR_CODE_STATUSES
    message = str(job.data.get("message") or GENAI_MESSAGES.get(status, "")) if failed else ""
    return status, 1 if failed else 0, message


def genai_body(status: str, code: int, message: str, job: SimJob) -> dict[str, Any]:
    # The official client requires all seven keys (blank strings allowed): always send them.
    return {
        "code": code,
        "created": iso(job.created_at),
        "description": str(job.data.get("description") or ""),
        "message": message,
        "status": status,
        "statusId": job.id,
        "statusType": str(job.data.get("statusType") or ""),
    }


def classic_body(status: str, code: int, message: str, job: SimJob) -> dict[str, Any]:
    return {
        "code": code,
        "created": iso(job.created_at),
        "description": job.data.get("description", ""),
        "message": message,
        "status": status,
        "statusId": job.id,
        "statusType": job.data.get("statusType"),
        "type": job.data.get("type"),
    }


def seed(state: SimState) -> None:
    """The jobs of sim/seeds.yaml: per kind, one per status, then the moving (and redirect) ones."""
    past = state.clock.now() - float(SEEDS["seeded_age"])
    for kind in (GENAI, CLASSIC):
        section = SEEDS[kind]
        for status, job in section["by_status"].items():
            _add_seeded(state, kind, job, [Stage(status)], past)
        moving = section["moving"]
        _add_seeded(state, kind, moving, list(lifecycle(moving["lifecycle"])), None)
        if "redirect" in section:
            _add_seeded(state, kind, section["redirect"], [Stage("COMPLETED")], past)


def _add_seeded(
    state: SimState,
    kind: str,
    job: dict[str, Any],
    stages: list[Stage],
    created_at: float | None,
) -> None:
    # A copy: the parsed seeds are shared by every simulator of the process.
    data = {"kind": kind, **copy.deepcopy(job["data"])}
    state.add_job(job["id"], stages, data, created_at=created_at)


def new_job(state: SimState, lifecycle: list[Stage], data: dict[str, Any]) -> SimJob:
    kind = data.setdefault("kind", GENAI)
    if kind not in (GENAI, CLASSIC):
        raise ValueError("data.kind must be 'genai' or 'classic'")
    job_id = genai_job_id(state) if kind == GENAI else classic_job_id(state)
    return state.add_job(job_id, lifecycle, data)


# -- helpers shared by the route modules ----------------------------------------------------------


def state_of(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def field_error(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    """One pydantic-v1 style entry of a FastAPI 422 `detail` list."""
    return {"loc": loc, "msg": msg, "type": kind}


def validation_error(errors: list[dict[str, Any]]) -> Response:
    return JSONResponse({"detail": errors}, status_code=422)
