"""Overmind simulator data: seeded jobs and how a job renders at a moment of the sim clock.

A `SimJob.data` holds the job's vendor fields flat (as `JobFields` of the contract), plus:
`iterations` (iteration specs, below), `on_completed` / `on_failed` (fields that appear when the
job reaches that status), `patched` (fields written by PATCH, shown last) and `patched_at`.

An iteration spec: `id`, `iteration_name`, `order`, `at` (seconds after the job's creation it
appears, with the drifted status `running`), `done` (when it gets its `verdict` keep|discard and
its scores; None: never), `avg_score`, `dimension_scores`, `description`, `agent_code`,
`scripted` (True: part of the job's simulated work, so a PATCHed status stops it).
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway.simulators.engine import SimState, Stage

_NAMESPACE = uuid.UUID("6f1c2a9e-3b7d-4e28-a1f5-0c9d8e7b6a50")

# Deterministic ids of the seeded jobs, one per documented status, plus a moving one.
SEEDED: dict[str, str] = {
    "pending": "7b1e0c2a-4f3d-4e5a-9c6b-000000000001",
    "running": "7b1e0c2a-4f3d-4e5a-9c6b-000000000002",
    "waiting_user": "7b1e0c2a-4f3d-4e5a-9c6b-000000000003",
    "completed": "7b1e0c2a-4f3d-4e5a-9c6b-000000000004",
    "failed": "7b1e0c2a-4f3d-4e5a-9c6b-000000000005",
    "cancelled": "7b1e0c2a-4f3d-4e5a-9c6b-000000000006",
    "lifecycle": "7b1e0c2a-4f3d-4e5a-9c6b-000000000007",
}
JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled", "waiting_user")
# O1's enum plus the values seen in the 2026-06-12/-18 generated clients (O3): the simulator
# plays the newer backend.
JOB_TYPES = (
    "inference",
    "uploaded_outputs_setup",
    "judge_scoring",
    "prompt_tuning",
    "model_backtesting",
    "connector_sync",
    "langfuse_import",
    "optimize",
    "optimize_command",
)
ITERATION_STATUSES = ("keep", "discard", "running")

AGENT = "a1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PROJECT = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"


def new_id(state: SimState, kind: str) -> str:
    """A fresh, deterministic UUID (the same sequence for every fresh state)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}-{state.next_seq()}"))


def iteration_spec(
    iteration_id: str,
    order: int,
    at: float,
    done: float | None,
    verdict: str,
    avg_score: float,
    dimensions: dict[str, float] | None,
    description: str,
    *,
    scripted: bool = True,
) -> dict[str, Any]:
    return {
        "id": iteration_id,
        "iteration_name": f"iteration_{order}",
        "order": order,
        "at": at,
        "done": done,
        "verdict": verdict,
        "avg_score": avg_score,
        "dimension_scores": dimensions,
        "description": description,
        "agent_code": "",
        "scripted": scripted,
    }


def tuning_iterations(job_id: str, start: float, span: float, count: int) -> list[dict[str, Any]]:
    """`count` prompt-tuning iterations spread over `span` seconds from `start`: every
    second one regresses and is discarded, the others improve and are kept."""
    step = span / (count + 1)
    specs = []
    for k in range(1, count + 1):
        kept = k % 2 == 1
        score = round(0.64 + 0.05 * k - (0.08 if not kept else 0.0), 2)
        specs.append(
            iteration_spec(
                str(uuid.uuid5(_NAMESPACE, f"{job_id}-iteration-{k}")),
                k,
                start + step * (k - 1),
                start + step * k,
                "keep" if kept else "discard",
                score,
                {"accuracy": score, "format": round(min(1.0, score + 0.05), 2)},
                "Tightened the instructions." if kept else "Added few-shot examples; regressed.",
            )
        )
    return specs


def seed(state: SimState) -> None:
    """One job per documented status (incl. waiting_user) and one that moves along."""
    now = state.clock.now()
    base = {
        "agent": AGENT,
        "project": PROJECT,
        "agent_display_name": "support-triage",
        "job_type": "prompt_tuning",
        "prompt_slug": "support-triage-system",
        "analyzer_model": "claude-sonnet-4",
        "num_iterations": 3,
        "candidates_per_iteration": 3,
        "data_source": "traces",
        "triggered_by": 42,
    }
    state.add_job(SEEDED["pending"], [Stage("pending")], {**base}, created_at=now - 60)
    running = tuning_iterations(SEEDED["running"], 60, 180, 3)
    running[-1]["done"] = None  # still being scored: the drifted iteration status `running`
    state.add_job(
        SEEDED["running"],
        [Stage("running")],
        {**base, "baseline_score": 0.64, "iterations": running},
        created_at=now - 600,
    )
    state.add_job(
        SEEDED["waiting_user"],
        [Stage("waiting_user")],
        {
            **base,
            "job_type": "optimize",
            "baseline_score": 0.64,
            "iterations": tuning_iterations(SEEDED["waiting_user"], 60, 120, 1),
            # O4's optimize loop reads result.phase and result.user_prompt while it waits.
            "result": {"phase": "awaiting_approval", "user_prompt": "Apply the proposed patch?"},
        },
        created_at=now - 1200,
    )
    state.add_job(
        SEEDED["completed"],
        [Stage("completed")],
        {
            **base,
            "baseline_score": 0.64,
            "celery_task_id": "5b0f0c7e-2c1a-4d55-9a57-3f1e2d0c4b6a",
            "iterations": tuning_iterations(SEEDED["completed"], 60, 240, 3),
            "on_completed": _final_fields("iteration_3"),
        },
        created_at=now - 3600,
    )
    state.add_job(
        SEEDED["failed"],
        [Stage("failed")],
        {
            **base,
            "job_type": "judge_scoring",
            "on_failed": {
                "error": "dataset has no eval rows",
                "report_markdown": "Run failed: dataset has no eval rows",
            },
        },
        created_at=now - 7200,
    )
    state.add_job(
        SEEDED["cancelled"],
        [Stage("cancelled")],
        {**base, "job_type": "model_backtesting"},
        created_at=now - 5400,
    )
    state.add_job(
        SEEDED["lifecycle"],
        moving_lifecycle(),
        {
            **base,
            "baseline_score": 0.64,
            "iterations": tuning_iterations(SEEDED["lifecycle"], 2.0, 5.0, 3),
            "on_completed": _final_fields("iteration_3"),
        },
        created_at=now,
    )


def moving_lifecycle() -> list[Stage]:
    """pending 2 s -> running 5 s -> completed."""
    return [Stage("pending", 2.0), Stage("running", 5.0), Stage("completed")]


def finished_work(iterations: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields a submitted job gains when it completes: its best kept iteration's report."""
    kept = [spec for spec in iterations if spec.get("verdict") == "keep"]
    if not kept:
        return {"report_markdown": "# Optimisation report\n\nNo iteration beat the baseline."}
    best = max(kept, key=lambda spec: float(spec["avg_score"]))
    return _final_fields(str(best["iteration_name"]))


def _final_fields(best_iteration: str) -> dict[str, Any]:
    return {
        "best_agent_code": 'SYSTEM_PROMPT = "You are a support triage agent..."',
        "report_markdown": f"# Optimisation report\n\nBest iteration: {best_iteration}.",
        "result": {"best_iteration": best_iteration},
    }
