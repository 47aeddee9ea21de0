"""Overmind simulator rendering: a job and its iterations as the API shows them at a moment
of the sim clock (see sim/data.py for what `SimJob.data` holds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.simulators.engine import SimJob

# What a DRF ModelSerializer renders for fields a job never set (model defaults; unverified).
JOB_DEFAULTS: dict[str, Any] = {
    "agent": None,
    "analyzer_model": "",
    "backtest_results": None,
    "baseline_score": None,
    "best_agent_code": "",
    "best_score": None,
    "candidates_per_iteration": 0,
    "celery_task_id": "",
    "data_source": "",
    "improvement": None,
    "job_type": "inference",
    "num_iterations": 0,
    "project": None,
    "prompt_slug": "",
    "report_markdown": "",
    "result": None,
    "triggered_by": None,
}
# Read-only extras of the 2026-06-18 schema (O3); `seq` is left out, its type is unknown.
JOB_EXTRAS: dict[str, Any] = {
    "agent_display_name": "",
    "kind": "",
    "payload": None,
    "error": "",
    "parent": None,
    "client_session": None,
    "eval_run": None,
}
LIST_FIELDS = (
    "id",
    "created_at",
    "updated_at",
    "agent",
    "agent_display_name",
    "analyzer_model",
    "baseline_score",
    "best_score",
    "candidates_per_iteration",
    "improvement",
    "job_type",
    "num_iterations",
    "project",
    "prompt_slug",
    "status",
)


def iso(seconds: float) -> str:
    """DRF's datetime rendering (ISO 8601, `Z`), to the millisecond like the O1 examples."""
    moment = datetime.fromtimestamp(round(seconds, 3), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def visible_iterations(job: SimJob, now: float) -> list[dict[str, Any]]:
    """The iteration specs that exist at `now` (scripted work stops at a PATCHed status)."""
    stop = job.override_at if job.override_at is not None else float("inf")
    shown = []
    for spec in job.data.get("iterations", []):
        appears = job.created_at + float(spec["at"])
        if appears > now or (spec.get("scripted") and appears > stop):
            continue
        shown.append(spec)
    return shown


def render_iteration(job: SimJob, spec: dict[str, Any], now: float) -> dict[str, Any]:
    done_at = None if spec.get("done") is None else job.created_at + float(spec["done"])
    stop = job.override_at if job.override_at is not None and spec.get("scripted") else None
    finished = done_at is not None and done_at <= now and (stop is None or done_at <= stop)
    appeared = job.created_at + float(spec["at"])
    body: dict[str, Any] = {
        "id": spec["id"],
        "created_at": iso(appeared),
        "updated_at": iso(done_at if finished and done_at is not None else appeared),
        "iteration_name": spec["iteration_name"],
        "job": job.id,
        "agent_code": spec.get("agent_code", ""),
        # A running iteration has no scores yet; avg_score is not nullable in the schema.
        "avg_score": spec["avg_score"] if finished else 0.0,
        "description": spec.get("description", ""),
        "dimension_scores": spec.get("dimension_scores") if finished else None,
        "candidates": None,
        "order": spec["order"],
        "status": spec["verdict"] if finished else "running",
    }
    patched = spec.get("patched") or {}
    body.update(patched)
    if spec.get("patched_at") is not None:
        body["updated_at"] = iso(float(spec["patched_at"]))
    return body


def render_job(job: SimJob, status: str, now: float, *, full: bool = True) -> dict[str, Any]:
    """The job as `GET /api/jobs/{id}/` shows it (`full=False`: the list item shape)."""
    data = job.data
    fields = {**JOB_DEFAULTS, **JOB_EXTRAS}
    fields.update({k: v for k, v in data.items() if k in fields})
    iterations = visible_iterations(job, now)
    rendered = [render_iteration(job, spec, now) for spec in iterations]
    _fill_scores(fields, status, rendered)
    if status == "completed":
        fields.update(data.get("on_completed") or {})
    elif status == "failed":
        fields.update(data.get("on_failed") or {})
    fields.update(data.get("patched") or {})
    changes = [job.created_at, job.stage_started_at(now, status) or job.created_at]
    changes += [job.created_at + float(s["at"]) for s in iterations]
    changes += [
        job.created_at + float(s["done"])
        for s in iterations
        if s.get("done") is not None and job.created_at + float(s["done"]) <= now
    ]
    if data.get("patched_at") is not None:
        changes.append(float(data["patched_at"]))
    body = {
        "id": job.id,
        "created_at": iso(job.created_at),
        "updated_at": iso(max(changes)),
        **fields,
        "status": status,
        "iterations": rendered,
    }
    if not full:
        return {key: body[key] for key in LIST_FIELDS}
    return body


def _fill_scores(fields: dict[str, Any], status: str, iterations: list[dict[str, Any]]) -> None:
    """best_score/improvement follow the kept iterations; the baseline shows once running."""
    if status == "pending":
        fields["baseline_score"] = None
    kept = [it["avg_score"] for it in iterations if it["status"] == "keep"]
    baseline = fields.get("baseline_score")
    if kept and fields.get("best_score") is None:
        fields["best_score"] = max(kept)
        if isinstance(baseline, int | float) and fields.get("improvement") is None:
            fields["improvement"] = round(max(kept) - baseline, 4)
