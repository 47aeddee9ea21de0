"""DataRobot simulator data: seeded jobs, status bodies and metric-aggregation rows.

Shapes follow shared/vendor-apis/datarobot-genai/ (API.md and examples/). Every job holds
`data["kind"]` ("genai" or "classic"); optional `data` keys: `description`, `statusType`,
`type` (classic), `message` (shown in the end states ERROR/ABORTED/EXPIRED), `location` (a
COMPLETED job answers 303 See Other there), `redirect_to` (answers 307 there), `bare_string`
(GenAI answers with the status word as a bare JSON string), `aggregation` (the metric
aggregation request that started it).
"""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.simulators.engine import SimJob, SimState, Stage

GENAI: Final = "genai"
CLASSIC: Final = "classic"
STATUSES: Final = ("INITIALIZED", "RUNNING", "COMPLETED", "ERROR", "ABORTED", "EXPIRED")
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

# Seeded GenAI jobs, one per JobExecutionState (the INITIALIZED one is the docs example's id).
GENAI_IDS: Final = {
    "INITIALIZED": "e900225c-0629-4e96-be6e-86a17a309645",
    "RUNNING": "0b6f9d7e-1c2a-4d3b-8e4f-5a6b7c8d9e01",
    "COMPLETED": "6f1c2a9e-3b7d-4e25-9a61-2c8f0d4b7e13",
    "ERROR": "0b6f9d7e-1c2a-4d3b-8e4f-5a6b7c8d9e03",
    "ABORTED": "0b6f9d7e-1c2a-4d3b-8e4f-5a6b7c8d9e04",
    "EXPIRED": "0b6f9d7e-1c2a-4d3b-8e4f-5a6b7c8d9e05",
}
GENAI_MOVING_ID: Final = "0b6f9d7e-1c2a-4d3b-8e4f-5a6b7c8d9e10"  # 2 s queued, 5 s running, done
GENAI_REDIRECT_ID: Final = "0b6f9d7e-1c2a-4d3b-8e4f-5a6b7c8d9e11"  # completed chat prompt: 303
CHAT_PROMPT_PATH: Final = "/api/v2/genai/chatPrompts/66b0c1d2e3f4a5b6c7d8e9f7/"
# Seeded classic statuses; the COMPLETED one answers 303 to the project it created.
CLASSIC_IDS: Final = {status: f"5f2b9a0c8e1d4a00123456{i:02d}" for i, status in enumerate(STATUSES)}
CLASSIC_IDS["RUNNING"] = "5f2b9a0c8e1d4a0012345678"  # the contract example's id
CLASSIC_MOVING_ID: Final = "5f2b9a0c8e1d4a0012345690"
PROJECT_PATH: Final = "/api/v2/projects/5f2b9a0c8e1d4a0012345678/"
GENAI_MESSAGES: Final = {
    "ERROR": "An unknown error occurred while computing the metric aggregation.",
    "ABORTED": "Job was aborted.",
    "EXPIRED": "Job expired before it could be executed.",
}
# The contract's example aggregation request, and the row its example list shows.
EXAMPLE_AGGREGATION: Final = {
    "chatName": "nightly-eval",
    "llmBlueprintIds": ["66b0c1d2e3f4a5b6c7d8e9f0"],
    "evaluationDatasetConfigurationId": "66b0c1d2e3f4a5b6c7d8e9f1",
    "insightsConfiguration": [
        {
            "insightName": "Faithfulness",
            "insightType": "Quality metric",
            "aggregationTypes": ["average"],
        }
    ],
}
EXAMPLE_CHAT_ID: Final = "66b0c1d2e3f4a5b6c7d8e9f3"


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
    past = state.clock.now() - 600.0
    for status, job_id in GENAI_IDS.items():
        data: dict[str, Any] = {"kind": GENAI}
        if status in ("COMPLETED", "ERROR"):  # metric aggregations: done, and failed
            data["aggregation"] = dict(EXAMPLE_AGGREGATION)
            data["chatId"] = EXAMPLE_CHAT_ID if status == "COMPLETED" else object_id(job_id)
        state.add_job(job_id, [Stage(status)], data, created_at=past)
    state.add_job(
        GENAI_MOVING_ID,
        [Stage("INITIALIZED", 2), Stage("RUNNING", 5), Stage("COMPLETED")],
        {
            "kind": GENAI,
            "aggregation": {**EXAMPLE_AGGREGATION, "chatName": "moving-eval"},
            "chatId": object_id(GENAI_MOVING_ID),
        },
    )
    state.add_job(
        GENAI_REDIRECT_ID,
        [Stage("COMPLETED")],
        {"kind": GENAI, "location": CHAT_PROMPT_PATH},
        created_at=past,
    )
    classic: dict[str, dict[str, Any]] = {
        "INITIALIZED": {"type": "Dataset", "description": "Creating dataset from file"},
        "RUNNING": {"description": ""},
        "COMPLETED": {"description": "Creating project", "location": PROJECT_PATH},
        "ERROR": {"message": "Dataset could not be processed: file is empty.", "type": "Dataset"},
        "ABORTED": {"type": "LearningSession", "message": "Task was aborted."},
        "EXPIRED": {"type": "ManagedImageBuild", "message": "Task expired."},
    }
    for status, job_id in CLASSIC_IDS.items():
        state.add_job(job_id, [Stage(status)], {"kind": CLASSIC, **classic[status]}, past)
    state.add_job(
        CLASSIC_MOVING_ID,
        [Stage("INITIALIZED", 2), Stage("RUNNING", 5), Stage("COMPLETED")],
        {
            "kind": CLASSIC,
            "type": "Dataset",
            "location": "/api/v2/datasets/66aa00000000000000000001/",
        },
    )


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
