"""DigitalOcean GenAI simulator data: the metric catalog, datasets, test cases and seeded runs
of sim/seeds.yaml, and the store of test cases (shapes from vendor-apis/digitalocean-genai).

Values stay inside what gradient 3.12.2 can parse where the spec leaves a choice (no
METRIC_TYPE_MODEL_*, no TRACE_SPAN_TYPE_WORKFLOW), while keeping the spec's newer fields
(`metric_uuid`, `status` on metric results).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from gateway.simulators.engine import SimJob, SimState, Stage
from gateway.simulators.seeds import lifecycle, load_seeds
from gateway.vendors.digitalocean_genai.spec import PARTIAL, RUN_STATUSES, SUCCESSFUL

SEEDS: Final = load_seeds(__package__)
WITH_RESULTS = (SUCCESSFUL, PARTIAL)
JUDGE_TIMEOUT = "judge model timed out"

WORKSPACE = "3c1f2a10-b7d6-11ef-bf8f-4e013e2ddde4"
USER = {"created_by_user_id": "18224019", "created_by_user_email": "dev@example.com"}
AGENTS = {
    "1b418231-b7d6-11ef-bf8f-4e013e2ddde4": "support-bot",
    "2b418231-b7d6-11ef-bf8f-4e013e2ddde4": "support-bot-canary",
}
DEFAULT_AGENT = "1b418231-b7d6-11ef-bf8f-4e013e2ddde4"

# metric key in seeds.yaml -> metric uuid; the catalog by uuid, in its order.
METRIC_IDS: Final[dict[str, str]] = {k: m["metric_uuid"] for k, m in SEEDS["metrics"].items()}
METRICS: Final[dict[str, dict[str, Any]]] = {m["metric_uuid"]: m for m in SEEDS["metrics"].values()}
CORRECTNESS, ADHERENCE = METRIC_IDS["correctness"], METRIC_IDS["adherence"]
TONE, TOXICITY = METRIC_IDS["tone"], METRIC_IDS["toxicity"]


@dataclass(frozen=True)
class Row:
    """A dataset row: input, ground truth, the agent's answer, and the judges' score of it
    per metric uuid."""

    input: str
    ground_truth: str
    output: str
    scores: dict[str, float | str]


@dataclass(frozen=True)
class Dataset:
    name: str
    rows: list[Row]


def _dataset(entry: dict[str, Any]) -> Dataset:
    rows = [
        Row(
            row["input"],
            row["ground_truth"],
            row["output"],
            {METRIC_IDS[key]: score for key, score in row["scores"].items()},
        )
        for row in entry["rows"]
    ]
    return Dataset(entry["name"], rows)


DATASETS: Final = {d["dataset_uuid"]: _dataset(d) for d in SEEDS["datasets"].values()}
SUPPORT_FAQ: Final[str] = SEEDS["datasets"]["support_faq"]["dataset_uuid"]
_CASES: Final[dict[str, dict[str, Any]]] = SEEDS["test_cases"]
SUPPORT_REGRESSION: Final[str] = _CASES["support_regression"]["test_case_uuid"]
REFUND_POLICY: Final[str] = _CASES["refund_policy"]["test_case_uuid"]
EMPTY_SUITE: Final[str] = _CASES["empty_suite"]["test_case_uuid"]
# The seeded runs: status each shows -> its uuid (in the spec's order of statuses), and the
# one that moves.
_SHOWN: Final = {run["lifecycle"][-1]["status"]: run for run in SEEDS["runs"]}
SEEDED_RUNS: Final[dict[str, str]] = {s: _SHOWN[s]["evaluation_run_uuid"] for s in RUN_STATUSES}
MOVING_RUN: Final[str] = SEEDS["moving_run"]["evaluation_run_uuid"]
# What a run started through the API goes through.
CREATED_LIFECYCLE: Final = list(lifecycle(SEEDS["created_lifecycle"]))


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


def seed(state: SimState) -> None:
    """The test cases and runs of sim/seeds.yaml: each test case version's runs are made
    before its next version, and the moving run last."""
    state.extras["digitalocean-genai"] = DOStore()
    now = state.clock.now()
    for case in _CASES.values():
        fields = {k: v for k, v in case.items() if k not in ("test_case_uuid", "later_versions")}
        add_test_case(state, case["test_case_uuid"], copy.deepcopy(fields))
    for version in range(1, 1 + max(run["version"] for run in SEEDS["runs"])):
        for case in _CASES.values():
            later = case.get("later_versions", [])
            if 2 <= version <= len(later) + 1:
                changes = copy.deepcopy(later[version - 2])
                update_test_case(state, case["test_case_uuid"], changes)
        for run in SEEDS["runs"]:
            if run["version"] == version:
                _add_seeded(state, run, created_at=now - float(run["age"]))
    _add_seeded(state, SEEDS["moving_run"], created_at=None)


def _add_seeded(state: SimState, run: dict[str, Any], *, created_at: float | None) -> None:
    # A copy: the parsed seeds are shared by every simulator of the process.
    stages = list(lifecycle(run["lifecycle"]))
    data = copy.deepcopy(run["data"])
    add_run(state, stages, data, created_at=created_at, run_uuid=run["evaluation_run_uuid"])
