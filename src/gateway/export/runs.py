"""What a job contributes to its MLflow run (pure): metrics, params and tags.

- numeric canonical metrics are MLflow metrics (`group/name` when the metric has a group);
  the others (strings, booleans, non-finite numbers) are tags `metric.<key>`;
- backend, vendor, api_version, benchmark (the submission's `evaluation`, or the benchmark a
  Llama Stack job id names) and model are params and tags; the canonical and vendor status,
  the problem type of a failed job are tags.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.adapters import adapter_class
from gateway.ids import parse_job_id
from gateway.schemas import Job, JobStatus, Metric, Problem, Result
from gateway.schemas.ledger import JobRecord
from gateway.vendors.registry import VendorPluginError

JOB_ID_TAG = "gateway.job_id"
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /]")
PARAM_MAX = 500  # MLflow's smallest param value limit across versions
TAG_MAX = 5000


@dataclass(frozen=True)
class RunData:
    """What one job contributes to its MLflow run, whatever it was read from."""

    job_id: str
    backend: str
    vendor: str
    status: JobStatus
    api_version: str | None = None
    name: str | None = None
    vendor_status: str | None = None
    benchmark: str | None = None
    model: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    problem: Problem | None = None
    metrics: list[Metric] = field(default_factory=list)


def _submission_facts(submission: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(benchmark, model) of a canonical submission, when the gateway submitted the job."""
    if not submission:
        return None, None
    benchmark = submission.get("evaluation")
    targets = submission.get("targets") or []
    first = targets[0] if targets and isinstance(targets[0], dict) else {}
    model = first.get("model") or first.get("agent")
    return (
        benchmark if isinstance(benchmark, str) else None,
        model if isinstance(model, str) else None,
    )


def benchmark_in_id(vendor: str, api_version: str | None, vendor_ids: Sequence[str]) -> str | None:
    """The benchmark a job id names, for vendors whose ids carry one (Llama Stack's)."""
    try:
        names = adapter_class(vendor, api_version).id_parts
    except (KeyError, ValueError, VendorPluginError):  # a vendor no longer installed
        return None
    if "benchmark_id" in names and len(vendor_ids) == len(names):
        return vendor_ids[names.index("benchmark_id")]
    return None


def from_record(record: JobRecord) -> RunData:
    """A ledger record (the automatic export of a job that became terminal)."""
    benchmark, model = _submission_facts(record.submission)
    benchmark = benchmark or benchmark_in_id(record.vendor, record.api_version, record.vendor_ids)
    return RunData(
        job_id=record.id,
        backend=record.backend,
        vendor=record.vendor,
        status=record.status,
        api_version=record.api_version,
        name=record.name,
        vendor_status=record.vendor_status,
        benchmark=benchmark,
        model=model,
        created_at=record.created_at,
        finished_at=record.updated_at,
        problem=record.last_problem if record.status in _FAILED else None,
        metrics=list(record.result.metrics) if record.result else [],
    )


def from_job(
    job: Job, result: Result | None = None, submission: dict[str, Any] | None = None
) -> RunData:
    """A job read from the vendor now, with its result when it has one."""
    benchmark, model = _submission_facts(submission)
    if benchmark is None:
        benchmark = benchmark_in_id(job.vendor, job.api_version, parse_job_id(job.id).parts)
    return RunData(
        job_id=job.id,
        backend=job.backend,
        vendor=job.vendor,
        status=job.status,
        api_version=job.api_version,
        name=job.name,
        vendor_status=job.vendor_status,
        benchmark=benchmark,
        model=model,
        created_at=job.created_at,
        finished_at=job.finished_at or job.updated_at,
        problem=job.error,
        metrics=list(result.metrics) if result is not None else list(job.metrics),
    )


_FAILED = frozenset({JobStatus.FAILED, JobStatus.EXPIRED})


def metric_key(metric: Metric) -> str:
    key = f"{metric.group}/{metric.name}" if metric.group else metric.name
    return _BAD_KEY_CHARS.sub("_", key)[:250] or "_"


def ms(at: datetime | None) -> int:
    return int(at.timestamp() * 1000) if at is not None else int(time.time() * 1000)


@dataclass(frozen=True)
class RunContent:
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]


def run_content(data: RunData) -> RunContent:
    """The metrics, params and tags of a job's run (pure)."""
    metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    for metric in data.metrics:
        key = metric_key(metric)
        value = metric.value
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            metrics[key] = float(value)
        elif value is not None:
            tags[f"metric.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    facts = {
        "backend": data.backend,
        "vendor": data.vendor,
        "api_version": data.api_version,
        "benchmark": data.benchmark,
        "model": data.model,
    }
    params = {k: v[:PARAM_MAX] for k, v in facts.items() if v}
    tags.update({k: v for k, v in params.items()})
    tags.update(
        {
            JOB_ID_TAG: data.job_id,
            "gateway.status": data.status.value,
            "mlflow.runName": (data.name or data.job_id),
        }
    )
    if data.vendor_status:
        tags["gateway.vendor_status"] = data.vendor_status
    if data.problem is not None:
        tags["gateway.problem.type"] = data.problem.slug
    return RunContent(metrics, params, {k: v[:TAG_MAX] for k, v in tags.items()})
