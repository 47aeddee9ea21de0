"""DigitalOcean GenAI simulator data: metric catalog, datasets, test cases, seeded runs, and
how a run and its prompt results are rendered (shapes from vendor-apis/digitalocean-genai).

Values stay inside what gradient 3.12.2 can parse where the spec leaves a choice (no
METRIC_TYPE_MODEL_*, no TRACE_SPAN_TYPE_WORKFLOW), while keeping the spec's newer fields
(`metric_uuid`, `status` on metric results).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.simulators.engine import SimJob, SimState, Stage

QUEUED = "EVALUATION_RUN_QUEUED"
RUNNING_DATASET = "EVALUATION_RUN_RUNNING_DATASET"
EVALUATING = "EVALUATION_RUN_EVALUATING_RESULTS"
CANCELLING = "EVALUATION_RUN_CANCELLING"
CANCELLED = "EVALUATION_RUN_CANCELLED"
SUCCESSFUL = "EVALUATION_RUN_SUCCESSFUL"
PARTIAL = "EVALUATION_RUN_PARTIALLY_SUCCESSFUL"
FAILED = "EVALUATION_RUN_FAILED"
UNSPECIFIED = "EVALUATION_RUN_STATUS_UNSPECIFIED"
RUN_STATUSES = (
    UNSPECIFIED,
    QUEUED,
    RUNNING_DATASET,
    EVALUATING,
    CANCELLING,
    CANCELLED,
    SUCCESSFUL,
    PARTIAL,
    FAILED,
)
WITH_RESULTS = (SUCCESSFUL, PARTIAL)
JUDGE_TIMEOUT = "judge model timed out"

WORKSPACE = "3c1f2a10-b7d6-11ef-bf8f-4e013e2ddde4"
USER = {"created_by_user_id": "18224019", "created_by_user_email": "dev@example.com"}
AGENTS = {
    "1b418231-b7d6-11ef-bf8f-4e013e2ddde4": "support-bot",
    "2b418231-b7d6-11ef-bf8f-4e013e2ddde4": "support-bot-canary",
}
DEFAULT_AGENT = "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"

CORRECTNESS = "0f2e9a7c-5b1d-11ef-bf8f-4e013e2ddde4"
ADHERENCE = "1a3b5c7d-5b1d-11ef-bf8f-4e013e2ddde4"
TOXICITY = "2b4c6d8e-5b1d-11ef-bf8f-4e013e2ddde4"
TONE = "3c5d7e9f-5b1d-11ef-bf8f-4e013e2ddde4"
METRICS: dict[str, dict[str, Any]] = {
    CORRECTNESS: {
        "metric_uuid": CORRECTNESS,
        "metric_name": "Correctness (general hallucinations)",
        "description": "Measures how factually accurate the agent's response is without context.",
        "category": "METRIC_CATEGORY_CORRECTNESS",
        "metric_type": "METRIC_TYPE_GENERAL_QUALITY",
        "metric_value_type": "METRIC_VALUE_TYPE_PERCENTAGE",
        "range_min": 0,
        "range_max": 100,
        "inverted": False,
        "is_metric_goal": True,
        "metric_rank": 1,
        "evaluation_scope": "EVALUATION_SCOPE_AGENT",
        "source": "EVALUATION_METRIC_SOURCE_BUILTIN",
        "associated_presets": [],
    },
    ADHERENCE: {
        "metric_uuid": ADHERENCE,
        "metric_name": "Context adherence",
        "description": "Measures whether the agent stays within the retrieved context.",
        "category": "METRIC_CATEGORY_CONTEXT_QUALITY",
        "metric_type": "METRIC_TYPE_RAG_AND_TOOL",
        "metric_value_type": "METRIC_VALUE_TYPE_NUMBER",
        "range_min": 0,
        "range_max": 1,
        "inverted": False,
        "is_metric_goal": True,
        "metric_rank": 2,
        "evaluation_scope": "EVALUATION_SCOPE_AGENT",
        "source": "EVALUATION_METRIC_SOURCE_BUILTIN",
    },
    TONE: {
        "metric_uuid": TONE,
        "metric_name": "Tone",
        "description": "Classifies the emotional tone of the response.",
        "category": "METRIC_CATEGORY_USER_OUTCOMES",
        "metric_type": "METRIC_TYPE_GENERAL_QUALITY",
        "metric_value_type": "METRIC_VALUE_TYPE_STRING",
        "inverted": False,
        "is_metric_goal": False,
        "metric_rank": 4,
        "evaluation_scope": "EVALUATION_SCOPE_AGENT",
        "source": "EVALUATION_METRIC_SOURCE_BUILTIN",
    },
    TOXICITY: {
        "metric_uuid": TOXICITY,
        "metric_name": "Toxicity",
        "description": "Flags hateful, offensive, or harmful content.",
        "category": "METRIC_CATEGORY_SAFETY_AND_SECURITY",
        "metric_type": "METRIC_TYPE_GENERAL_QUALITY",
        "metric_value_type": "METRIC_VALUE_TYPE_PERCENTAGE",
        "range_min": 0,
        "range_max": 100,
        "inverted": True,
        "is_metric_goal": False,
        "metric_rank": 5,
        "evaluation_scope": "EVALUATION_SCOPE_AGENT",
        "source": "EVALUATION_METRIC_SOURCE_BUILTIN",
    },
}

# A dataset row: input, ground truth, the agent's answer, and what the judges score it
# (correctness %, context adherence 0..1, tone, toxicity %).
Row = tuple[str, str, str, float, float, str, float]
SCORE_COLUMNS = {CORRECTNESS: 3, ADHERENCE: 4, TONE: 5, TOXICITY: 6}


@dataclass(frozen=True)
class Dataset:
    name: str
    rows: list[Row]


SUPPORT_REGRESSION = "11efb7d6-cdb5-6388-bf8f-4e013e2ddde4"
REFUND_POLICY = "22efb7d6-cdb5-6388-bf8f-4e013e2ddde4"
EMPTY_SUITE = "33efb7d6-cdb5-6388-bf8f-4e013e2ddde4"
SUPPORT_FAQ = "5e6f7a8b-b7d6-11ef-bf8f-4e013e2ddde4"
DATASETS: dict[str, Dataset] = {
    SUPPORT_FAQ: Dataset("support-faq.csv", [
        ("How do I reset my password?", "Go to Settings > Security > Reset password.",
         "Open Settings > Security and choose Reset password.", 95.0, 0.97, "Neutral", 0.0),
        ("What is your refund window?", "30 days.",
         "Refunds are available within 60 days.", 20.0, 0.4, "Neutral", 0.0),
        ("Can I change my plan mid-cycle?", "Yes; the change is prorated.",
         "Yes, plan changes are prorated to the day.", 92.5, 0.9, "Friendly", 0.0),
        ("Do you offer phone support?", "Only on the Business plan.",
         "Phone support comes with the Business plan.", 97.0, 0.95, "Neutral", 0.0),
        ("How do I delete my account?", "Settings > Account > Delete account.",
         "Go to Settings > Account and pick Delete account.", 90.0, 0.88, "Neutral", 1.5),
    ]),
}  # fmt: skip


def dataset_of(case: dict[str, Any]) -> Dataset:
    return DATASETS.get(case["dataset_uuid"], DATASETS[SUPPORT_FAQ])


@dataclass
class DOStore:
    """What the simulator holds beside the runs (which live in `SimState.jobs`)."""

    test_cases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # all versions
    requests: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    window_start: float | None = None  # first request of the current rate-limit hour


def store_of(state: SimState) -> DOStore:
    store = state.extras.get("digitalocean-genai")
    if not isinstance(store, DOStore):
        store = state.extras["digitalocean-genai"] = DOStore()
    return store


def iso(epoch: float) -> str:
    # Rounded: a clock started at a whole second can read a hair below it.
    return datetime.fromtimestamp(round(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uuid(state: SimState, suffix: str = "b351-11ef-bf8f-4e013e2ddde4") -> str:
    """A deterministic, UUID-shaped id (the sequence makes recordings repeatable)."""
    return f"{state.next_seq():08x}-{suffix}"


def add_test_case(state: SimState, uuid: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = iso(state.clock.now())
    case = {
        "test_case_uuid": uuid,
        "name": fields.get("name") or "test case",
        "description": fields.get("description") or "",
        "version": 1,
        "dataset_uuid": fields.get("dataset_uuid") or SUPPORT_FAQ,
        "metric_uuids": list(fields.get("metrics") or [CORRECTNESS, ADHERENCE]),
        "star_metric": fields.get("star_metric")
        or {"metric_uuid": CORRECTNESS, "name": METRICS[CORRECTNESS]["metric_name"]},
        "workspace_uuid": fields.get("workspace_uuid") or WORKSPACE,
        "created_at": now,
        "updated_at": now,
    }
    store_of(state).test_cases[uuid] = [case]
    return case


def default_case(state: SimState) -> dict[str, Any]:
    """The first test case (created when there is none, e.g. in an unseeded simulator)."""
    cases = store_of(state).test_cases
    if not cases:
        add_test_case(state, SUPPORT_REGRESSION, {"name": "support-regression"})
    return next(iter(cases.values()))[-1]


def update_test_case(state: SimState, uuid: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A new version of the test case with `changes` applied."""
    versions = store_of(state).test_cases[uuid]
    case = {**versions[-1], **changes}
    case["version"] = versions[-1]["version"] + 1
    case["updated_at"] = iso(state.clock.now())
    versions.append(case)
    return case


def runs_of(state: SimState, test_case_uuid: str, version: int | None = None) -> list[SimJob]:
    return [
        job
        for job in state.jobs.values()
        if job.data.get("test_case_uuid") == test_case_uuid
        and (version is None or job.data.get("test_case_version") == version)
    ]


def render_test_case(state: SimState, case: dict[str, Any]) -> dict[str, Any]:
    dataset = dataset_of(case)
    runs = runs_of(state, case["test_case_uuid"])
    return {
        "test_case_uuid": case["test_case_uuid"],
        "name": case["name"],
        "description": case["description"],
        "version": case["version"],
        "dataset_uuid": case["dataset_uuid"],
        "dataset_name": dataset.name,
        "dataset": {
            "dataset_uuid": case["dataset_uuid"],
            "dataset_name": dataset.name,
            "dataset_type": "EVALUATION_DATASET_TYPE_NON_ADK",
            "file_size": str(180 * len(dataset.rows)),
            "has_ground_truth": True,
            "row_count": len(dataset.rows),
            "created_at": case["created_at"],
        },
        "metrics": [METRICS[m] for m in case["metric_uuids"] if m in METRICS],
        "star_metric": case["star_metric"],
        "total_runs": len(runs),
        "latest_version_number_of_runs": sum(
            1 for r in runs if r.data.get("test_case_version") == case["version"]
        ),
        "created_at": case["created_at"],
        "updated_at": case["updated_at"],
        **USER,
        "updated_by_user_id": USER["created_by_user_id"],
        "updated_by_user_email": USER["created_by_user_email"],
    }


def add_run(
    state: SimState,
    lifecycle: list[Stage],
    data: dict[str, Any],
    *,
    created_at: float | None = None,
    run_uuid: str | None = None,
) -> SimJob:
    """A run of a test case (the first seeded one when `data` names none)."""
    cases = store_of(state).test_cases
    case_uuid = data.get("test_case_uuid")
    if case_uuid not in cases:
        case_uuid = default_case(state)["test_case_uuid"]
    case = cases[case_uuid][-1]
    agent = data.get("agent_uuid") or (None if data.get("agent_deployment_name") else DEFAULT_AGENT)
    run = {
        **data,
        "test_case_uuid": case_uuid,
        "test_case_version": case["version"],
        "run_name": data.get("run_name") or f"run-{state.clock.now():.0f}",
        "agent_uuid": agent,
    }
    uuid = run_uuid or str(data.get("evaluation_run_uuid") or new_uuid(state))
    return state.add_job(uuid, lifecycle, run, created_at=created_at)


def case_version(state: SimState, job: SimJob) -> dict[str, Any]:
    versions = store_of(state).test_cases.get(job.data.get("test_case_uuid", ""), [])
    for case in versions:
        if case["version"] == job.data.get("test_case_version"):
            return case
    return versions[-1] if versions else default_case(state)


def _run_uuid(prefix: str) -> str:
    return f"{prefix}-b351-11ef-bf8f-4e013e2ddde4"


# One seeded run per documented status (static lifecycles that started in the past), plus
# one that moves: status -> (run uuid, lifecycle, seconds ago it was queued).
SEEDED_RUNS: dict[str, str] = {
    UNSPECIFIED: _run_uuid("a0000000"),
    QUEUED: _run_uuid("a1000000"),
    RUNNING_DATASET: _run_uuid("a2000000"),
    EVALUATING: _run_uuid("a3000000"),
    CANCELLING: _run_uuid("a4000000"),
    CANCELLED: _run_uuid("a5000000"),
    SUCCESSFUL: _run_uuid("9758a232"),
    PARTIAL: _run_uuid("a7000000"),
    FAILED: _run_uuid("a8000000"),
}
MOVING_RUN = _run_uuid("ab000000")
MOVING_LIFECYCLE = [
    Stage(QUEUED, 2),
    Stage(RUNNING_DATASET, 3),
    Stage(EVALUATING, 2),
    Stage(SUCCESSFUL),
]
_STATIC: dict[str, tuple[list[Stage], float]] = {
    UNSPECIFIED: ([Stage(UNSPECIFIED)], 60),
    QUEUED: ([Stage(QUEUED)], 30),
    RUNNING_DATASET: ([Stage(QUEUED, 7), Stage(RUNNING_DATASET)], 120),
    EVALUATING: ([Stage(QUEUED, 5), Stage(RUNNING_DATASET, 200), Stage(EVALUATING)], 600),
    CANCELLING: ([Stage(QUEUED, 5), Stage(RUNNING_DATASET, 60), Stage(CANCELLING)], 300),
    CANCELLED: ([Stage(QUEUED, 7), Stage(RUNNING_DATASET, 65), Stage(CANCELLED)], 7200),
    SUCCESSFUL: (
        [Stage(QUEUED, 7), Stage(RUNNING_DATASET, 180), Stage(EVALUATING, 84), Stage(SUCCESSFUL)],
        86400,
    ),
    PARTIAL: (
        [Stage(QUEUED, 7), Stage(RUNNING_DATASET, 200), Stage(EVALUATING, 88), Stage(PARTIAL)],
        3600,
    ),
    FAILED: ([Stage(QUEUED, 7), Stage(RUNNING_DATASET, 34), Stage(FAILED)], 43200),
}
# Which test case (and version of it) each seeded run belongs to.
_SEED_PLACES: dict[str, tuple[str, int]] = {
    SUCCESSFUL: (SUPPORT_REGRESSION, 1),
    FAILED: (SUPPORT_REGRESSION, 1),
    QUEUED: (SUPPORT_REGRESSION, 2),
    RUNNING_DATASET: (SUPPORT_REGRESSION, 2),
    EVALUATING: (SUPPORT_REGRESSION, 2),
    PARTIAL: (SUPPORT_REGRESSION, 2),
    CANCELLING: (REFUND_POLICY, 1),
    CANCELLED: (REFUND_POLICY, 1),
    UNSPECIFIED: (REFUND_POLICY, 1),
}


def seed(state: SimState) -> None:
    """Three test cases (one without runs), a run per status and one moving run."""
    state.extras["digitalocean-genai"] = DOStore()
    now = state.clock.now()
    regression_fields = {
        "name": "support-regression",
        "description": "Regression suite for the support agent",
        "metrics": [CORRECTNESS, ADHERENCE, TONE, TOXICITY],
        "star_metric": {
            "metric_uuid": CORRECTNESS,
            "name": METRICS[CORRECTNESS]["metric_name"],
            "success_threshold_pct": 75,
        },
    }
    add_test_case(state, SUPPORT_REGRESSION, regression_fields)
    add_test_case(
        state,
        REFUND_POLICY,
        {"name": "refund-policy", "description": "Refund answers", "metrics": [CORRECTNESS]},
    )
    add_test_case(state, EMPTY_SUITE, {"name": "empty-suite", "description": "Not run yet"})
    for version in (1, 2):
        if version == 2:
            update_test_case(state, SUPPORT_REGRESSION, {"description": "Regression suite, v2"})
        for status, (case_uuid, case_version) in _SEED_PLACES.items():
            if case_version != version:
                continue
            lifecycle, age = _STATIC[status]
            data: dict[str, Any] = {
                "test_case_uuid": case_uuid,
                "run_name": f"seeded-{status.removeprefix('EVALUATION_RUN_').lower()}",
            }
            if status == PARTIAL:
                data["failed_metric_uuid"] = TOXICITY
            add_run(state, lifecycle, data, created_at=now - age, run_uuid=SEEDED_RUNS[status])
    add_run(
        state,
        MOVING_LIFECYCLE,
        {"test_case_uuid": SUPPORT_REGRESSION, "run_name": "nightly-regression"},
        run_uuid=MOVING_RUN,
    )
