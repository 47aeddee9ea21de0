"""Overmind simulator data: the seeded jobs (from seeds.yaml) and scripted iterations.

A `SimJob.data` holds the job's vendor fields flat (as `JobFields` of the contract), plus:
`iterations` (iteration specs, below), `on_completed` / `on_failed` (fields that appear when the
job reaches that status), `patched` (fields written by PATCH, shown last) and `patched_at`.

An iteration spec: `id`, `iteration_name`, `order`, `at` (seconds after the job's creation it
appears, with the drifted status `running`), `done` (when it gets its `verdict` keep|discard and
its scores; None: never), `avg_score`, `dimension_scores`, `description`, `agent_code`,
`scripted` (True: part of the job's simulated work, so a PATCHed status stops it).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from typing import Any, Final

from gateway.simulators.engine import SimState, Stage
from gateway.simulators.seeds import lifecycle, load_seeds
from gateway.vendors.overmind.submit import KNOWN_JOB_TYPES

_NAMESPACE = uuid.UUID("6f1c2a9e-3b7d-4e28-a1f5-0c9d8e7b6a50")
SEEDS: Final[Mapping[str, Any]] = load_seeds(__package__)

# Deterministic ids of the seeded jobs, one per documented status, plus a moving one.
SEEDED: Final[dict[str, str]] = {name: str(job["id"]) for name, job in SEEDS["jobs"].items()}
JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled", "waiting_user")
# O1's enum plus the values seen in the 2026-06-12/-18 generated clients (O3): the simulator
# plays the newer backend.
JOB_TYPES: Final = KNOWN_JOB_TYPES
ITERATION_STATUSES = ("keep", "discard", "running")

AGENT: Final = str(SEEDS["base"]["agent"])
PROJECT: Final = str(SEEDS["base"]["project"])


def new_id(state: SimState, kind: str) -> str:
    """A fresh, deterministic UUID (the same sequence for every fresh state)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}-{state.next_seq()}"))


def iteration_spec(
    iteration_id: str,
    name: str,
    order: int,
    at: float,
    done: float | None,
    verdict: str,
    avg_score: float,
    dimensions: Any,
    description: str,
    agent_code: str = "",
    *,
    scripted: bool = True,
) -> dict[str, Any]:
    return {
        "id": iteration_id,
        "iteration_name": name,
        "order": order,
        "at": at,
        "done": done,
        "verdict": verdict,
        "avg_score": avg_score,
        "dimension_scores": dimensions,
        "description": description,
        "agent_code": agent_code,
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
                f"iteration_{k}",
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
    """The jobs of seeds.yaml: one per documented status (incl. waiting_user) and one that
    moves along."""
    now = state.clock.now()
    for job in SEEDS["jobs"].values():
        job_id = str(job["id"])
        stages = list(lifecycle(job["lifecycle"]))
        # A copy: the job's iterations and fields change under PATCH and POST.
        data = copy.deepcopy({**SEEDS["base"], **job.get("fields", {})})
        if "iterations" in data:
            data["iterations"] = _seeded_iterations(job_id, data["iterations"])
        if any(stage.status == "completed" for stage in stages):
            data["on_completed"] = finished_work(data.get("iterations", []))
        state.add_job(job_id, stages, data, created_at=now - float(job["created"]))


def _seeded_iterations(job_id: str, script: Mapping[str, Any]) -> list[dict[str, Any]]:
    specs = tuning_iterations(job_id, script["start"], script["span"], int(script["count"]))
    if script.get("last_scoring"):
        specs[-1]["done"] = None  # still being scored: the drifted iteration status `running`
    return specs


def moving_lifecycle() -> list[Stage]:
    """pending 2 s -> running 5 s -> completed (seeds.yaml `moving_lifecycle`)."""
    return list(lifecycle(SEEDS["moving_lifecycle"]))


def finished_work(iterations: list[dict[str, Any]]) -> dict[str, Any]:
    """The fields a job gains when it completes: its best kept iteration's report."""
    kept = [spec for spec in iterations if spec.get("verdict") == "keep"]
    if not kept:
        return {"report_markdown": "# Optimisation report\n\nNo iteration beat the baseline."}
    best = str(max(kept, key=lambda spec: float(spec["avg_score"]))["iteration_name"])
    return {
        "best_agent_code": 'SYSTEM_PROMPT = "You are a support triage agent..."',
        "report_markdown": f"# Optimisation report\n\nBest iteration: {best}.",
        "result": {"best_iteration": best},
    }
