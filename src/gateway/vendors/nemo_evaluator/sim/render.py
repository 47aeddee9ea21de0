"""NeMo Evaluator simulator: the v1/v2 bodies rendered from a simulated job.

Shapes follow shared/vendor-apis/nemo-evaluator (API.md and examples/). Callers pass the status
word from `SimState.status_of(job)` and the time from `state.clock`, so lifecycles and the
undocumented_status fault show through.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from typing import Any

from gateway.simulators.engine import SimJob, Stage
from gateway.vendors.nemo_evaluator.sim.data import STATIC_RUNNING_FRACTION, iso

# -- rendering helpers -------------------------------------------------------------------------


def _stages(job: SimJob, now: float) -> list[Stage]:
    if job.override is not None and job.override_at is not None and now >= job.override_at:
        return job.override
    return job.lifecycle


def entered_at(job: SimJob, word: str, now: float) -> float:
    """When the job entered its current status (its creation for an unknown word)."""
    started = job.stage_started_at(now, word)
    return job.created_at if started is None else started


def run_fraction(job: SimJob, word: str, now: float) -> float:
    """How far a running job is: elapsed share of a timed stage, else the docs' 42.5 %."""
    stage = next((s for s in _stages(job, now) if s.status == word), None)
    if stage is None or stage.seconds is None:
        return STATIC_RUNNING_FRACTION
    return min(1.0, max(0.0, (now - entered_at(job, word, now)) / stage.seconds))


def task_name(job: SimJob) -> str:
    tasks = (
        job.data.get("config", {}).get("tasks")
        if isinstance(job.data.get("config"), dict)
        else None
    )
    return next(iter(tasks), "default") if isinstance(tasks, dict) and tasks else "default"


def samples(job: SimJob, word: str, now: float) -> tuple[int | None, float | None]:
    """(samples_processed, progress 0-100); progress only when limit_samples is set (docs)."""
    limit = job.data.get("limit_samples")
    if not isinstance(limit, int) or limit <= 0:
        return None, None
    done = round(limit * run_fraction(job, word, now))
    return done, done / limit * 100.0


# -- v1 ----------------------------------------------------------------------------------------

_V1_TASK_STATUS = {
    "running": "running",
    "cancelling": "running",
    "completed": "completed",
    "failed": "failed",
}
_V1_MESSAGES = {
    "running": "Job is running",
    "completed": "Job completed successfully",
    "cancelling": "Job is being cancelled",
    "cancelled": "Job was cancelled",
}


def v1_status_details(job: SimJob, word: str, now: float) -> dict[str, Any]:
    """EvaluationStatusDetails (also the body of GET /v1/evaluation/jobs/{id}/status)."""
    message = job.data["failure"] if word == "failed" else _V1_MESSAGES.get(word)
    task_status = {task_name(job): _V1_TASK_STATUS[word]} if word in _V1_TASK_STATUS else {}
    details: dict[str, Any] = {"message": message, "task_status": task_status, "progress": None}
    if word == "running":
        done, progress = samples(job, word, now)
        details.update(progress=progress, samples_processed=done)
    return details


def v1_job(job: SimJob, word: str, now: float) -> dict[str, Any]:
    """EvaluationJob, in the key order of the docs' example."""
    data = job.data
    done = word == "completed"
    return {
        "created_at": iso(job.created_at),
        "updated_at": iso(entered_at(job, word, now)),
        "id": job.id,
        "namespace": data["namespace"],
        "description": data["description"],
        "target": data["target"],
        "config": data["config"],
        "result": data.get("result_id") if done else None,
        # Where the caller asked for the output files, else the service's own place once done.
        "output_files_url": data.get("output_files_url")
        or (f"hf://datasets/evaluation-results/{job.id}" if done else None),
        "status_details": v1_status_details(job, word, now),
        "status": word,
        "project": data["project"],
        "custom_fields": data["custom_fields"],
        "ownership": data.get("ownership"),
    }


def v1_result(job: SimJob, now: float) -> dict[str, Any]:
    """EvaluationResult for a completed job."""
    at = iso(entered_at(job, "completed", now))
    results = job.data.get("results") or {}
    return {
        "created_at": at,
        "updated_at": at,
        "id": job.data.get("result_id"),
        "job": job.id,
        "namespace": job.data["namespace"],
        "files_url": f"hf://datasets/evaluation-results/{job.id}",
        **{key: results[key] for key in ("tasks", "groups") if key in results},
    }


# -- v2 ----------------------------------------------------------------------------------------


def v2_status_details(job: SimJob, word: str, now: float) -> dict[str, Any]:
    """Free-form; the docs read `progress` and `samples_processed` from it when present."""
    if word != "active":
        return {}
    done, progress = samples(job, word, now)
    return {} if done is None else {"progress": progress, "samples_processed": done}


def v2_error_details(job: SimJob, word: str) -> dict[str, Any] | None:
    # Free-form in the SDK; the key name is ours (not documented).
    return {"message": job.data["failure"]} if word == "error" else None


def v2_job(job: SimJob, word: str, now: float) -> dict[str, Any]:
    """EvaluatorV2Job, in the key order of the docs' example (plus `name`, required by the SDK)."""
    data = job.data
    return {
        "id": job.id,
        "name": data["name"],
        "namespace": data["namespace"],
        "project": data["project"],
        "description": data["description"],
        "spec": {"config": data["config"], "target": data["target"]},
        "status": word,
        "status_details": v2_status_details(job, word, now),
        "error_details": v2_error_details(job, word),
        "ownership": data.get("ownership"),
        "custom_fields": data["custom_fields"],
        "created_at": iso(job.created_at),
        "updated_at": iso(entered_at(job, word, now)),
    }


def v2_status(job: SimJob, word: str, now: float) -> dict[str, Any]:
    """PlatformJobStatusResponse: one evaluation step with one task once the job was scheduled."""
    details = v2_status_details(job, word, now)
    errors = v2_error_details(job, word) or {}
    steps = []
    if word not in ("created", "pending"):
        task = {
            "id": f"{job.id}-task-0",
            "status": word,
            "status_details": details,
            "error_details": errors,
            "error_stack": "",
        }
        steps.append(
            {
                "name": "evaluation",
                "status": word,
                "status_details": details,
                "error_details": errors,
                "tasks": [task],
            }
        )
    return {
        "job_id": job.id,
        "status": word,
        "status_details": details,
        "error_details": errors,
        "steps": steps,
    }


def v2_log_lines(job: SimJob, now: float) -> list[dict[str, Any]]:
    """PlatformJobLog entries: one per status the job has entered so far."""
    lines = []
    for stage in _stages(job, now):
        started = job.stage_started_at(now, stage.status)
        if started is None:
            break
        lines.append(
            {
                "job_id": job.id,
                "job_step": "evaluation",
                "job_task": f"{job.id}-task-0",
                "message": f"Job status changed to {stage.status}",
                "timestamp": iso(started),
            }
        )
        if stage.seconds is None:
            break
    return lines


RESULT_NAMES = ("artifacts", "evaluation-results")


def v2_stored_result(job: SimJob, name: str, now: float) -> dict[str, Any]:
    """PlatformJobResult. The artifact_url format is not documented; ours is a data-store URL."""
    at = iso(entered_at(job, "completed", now))
    return {
        "artifact_storage_type": "nds",
        "artifact_url": f"hf://datasets/{job.data['namespace']}/{job.id}/{name}",
        "job_id": job.id,
        "namespace": job.data["namespace"],
        "result_name": name,
        "created_at": at,
        "updated_at": at,
        "project": job.data["project"],
    }


def v2_evaluation_results(job: SimJob) -> dict[str, Any]:
    """EvaluationResultV2: `{tasks?, groups?}`, v1's nesting without id/job metadata."""
    results = job.data.get("results") or {}
    return {key: results[key] for key in ("tasks", "groups") if key in results}


# -- archives (small, byte-for-byte deterministic) ---------------------------------------------

_EPOCH = (2025, 1, 1, 0, 0, 0)


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, _EPOCH), content)
    return buffer.getvalue()


def tar_gz_bytes(files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, content in files.items():
            encoded = content.encode()
            info = tarfile.TarInfo(name)
            info.size = len(encoded)
            archive.addfile(info, io.BytesIO(encoded))
    return gzip.compress(raw.getvalue(), mtime=0)


def v1_logs_zip(job: SimJob, word: str) -> bytes:
    return zip_bytes({f"logs/{job.id}.log": f"{job.id}: status {word}\n"})


def v1_results_zip(job: SimJob, now: float) -> bytes:
    return zip_bytes(
        {
            "config.json": json.dumps(job.data["config"], indent=2),
            "results/results.json": json.dumps(v1_result(job, now), indent=2),
        }
    )


def v2_artifacts_tar(job: SimJob) -> bytes:
    return tar_gz_bytes({"results.json": json.dumps(v2_evaluation_results(job), indent=2)})
