"""Rows to canonical records and back; the submission records of write-ahead intents."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Row

from gateway.schemas import Job, Problem, Result
from gateway.schemas.ledger import JobRecord, ResultSnapshot, StatusChange
from gateway.schemas.status import JobStatus

SubmissionState = Literal["pending", "settled", "refused", "unknown"]


def now_us() -> int:
    return time.time_ns() // 1000


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, tz=UTC).replace(
        microsecond=micros % 1_000_000
    )


def rows_link(job_id: str) -> str:
    return f"/v1/jobs/{job_id}/result"


def snapshot(job_id: str, result: Result) -> dict[str, Any]:
    taken = ResultSnapshot(
        metrics=result.metrics,
        rows_link=rows_link(job_id),
        artifacts=result.artifacts,
        taken_at=from_us(now_us()),
    )
    return taken.model_dump(mode="json")


def job_snapshot(job: Job) -> dict[str, Any] | None:
    """A terminal job's own summary metrics, until (or unless) its result is read."""
    if not job.metrics:
        return None
    taken = ResultSnapshot(
        metrics=job.metrics, rows_link=rows_link(job.id), taken_at=from_us(now_us())
    )
    return taken.model_dump(mode="json")


def problem_json(problem: Problem | None) -> dict[str, Any] | None:
    return None if problem is None else problem.to_json_dict()


def job_values(job: Job, observed: int) -> dict[str, Any]:
    """The columns a vendor answer determines (insert and update alike)."""
    created = to_us(job.created_at) if job.created_at is not None else None
    return {
        "backend": job.backend,
        "vendor": job.vendor,
        "api_version": job.api_version,
        "vendor_ids": [job.vendor_job_id],
        "name": job.name,
        "name_folded": job.name.lower() if job.name is not None else None,
        "status": job.status.value,
        "vendor_status": job.vendor_status,
        "terminal": job.status.terminal,
        "progress": job.progress,
        "created_us": created,
        "last_seen_us": observed,
        "outcome_unknown": False,
        "at_vendor": True,
    }


def new_job_row(job: Job, observed: int) -> dict[str, Any]:
    values = job_values(job, observed)
    created = values["created_us"]
    values.update(
        id=job.id,
        listed_us=created if created is not None else observed,
        first_seen_us=observed,
        updated_us=observed,
        last_problem=problem_json(job.error),
        result=job_snapshot(job) if job.status.terminal else None,
    )
    return values


def record_from_row(row: Row[Any]) -> JobRecord:
    m = row._mapping
    return JobRecord(
        id=m["id"],
        backend=m["backend"],
        vendor=m["vendor"],
        api_version=m["api_version"],
        vendor_ids=list(m["vendor_ids"] or []),
        name=m["name"],
        caller=m["caller"],
        idempotency_key=m["idempotency_key"],
        submission=m["submission"],
        status=JobStatus(m["status"]),
        vendor_status=m["vendor_status"],
        terminal=bool(m["terminal"]),
        progress=m["progress"],
        created_at=from_us(m["created_us"]) if m["created_us"] is not None else None,
        first_seen_at=from_us(m["first_seen_us"]),
        last_seen_at=from_us(m["last_seen_us"]),
        updated_at=from_us(m["updated_us"]),
        outcome_unknown=bool(m["outcome_unknown"]),
        at_vendor=bool(m["at_vendor"]),
        last_problem=Problem.model_validate(m["last_problem"]) if m["last_problem"] else None,
        result=ResultSnapshot.model_validate(m["result"]) if m["result"] else None,
    )


def change_from_row(row: Row[Any]) -> StatusChange:
    m = row._mapping
    return StatusChange(
        job_id=m["job_id"],
        status=JobStatus(m["status"]),
        vendor_status=m["vendor_status"],
        progress=m["progress"],
        observed_at=from_us(m["observed_us"]),
        observed_by=m["observed_by"],
    )


@dataclass(frozen=True)
class SubmissionRecord:
    """A write-ahead intent: what was asked, and what became of it."""

    id: str
    tenant: str
    idempotency_key: str | None
    request_hash: str
    state: SubmissionState
    backend: str
    vendor: str
    api_version: str | None
    caller: str | None
    submission: dict[str, Any]
    job_ids: list[str]
    problem: Problem | None
    created_at: datetime
    updated_at: datetime


def submission_from_row(row: Row[Any]) -> SubmissionRecord:
    m = row._mapping
    return SubmissionRecord(
        id=m["id"],
        tenant=m["tenant"],
        idempotency_key=m["idempotency_key"],
        request_hash=m["request_hash"],
        state=m["state"],
        backend=m["backend"],
        vendor=m["vendor"],
        api_version=m["api_version"],
        caller=m["caller"],
        submission=dict(m["submission"] or {}),
        job_ids=list(m["job_ids"] or []),
        problem=Problem.model_validate(m["problem"]) if m["problem"] else None,
        created_at=from_us(m["created_us"]),
        updated_at=from_us(m["updated_us"]),
    )
