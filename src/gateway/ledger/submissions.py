"""Write-ahead submission intents: recorded before the vendor call, settled after it.

A crash between the two leaves a `pending` intent (and a timeout an `unknown` one) that the
refresher or the next read resolves; an acknowledged job is never missing. Idempotency keys
live here too, so they survive a restart.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import InternalError, InvalidRequest
from gateway.ledger.records import (
    SubmissionRecord,
    SubmissionState,
    new_job_row,
    now_us,
    problem_json,
)
from gateway.ledger.records import submission_from_row as _from_row
from gateway.ledger.tables import jobs, status_changes, submissions
from gateway.schemas import Job, Problem

ANONYMOUS = ""  # the tenant of a caller without a key name (auth off)


class IdempotencyKeyTaken(InvalidRequest):
    """Another submission already holds this tenant's idempotency key (look it up instead)."""


def tenant_of(caller: str | None) -> str:
    return caller if caller else ANONYMOUS


async def begin(
    engine: AsyncEngine,
    *,
    backend: str,
    vendor: str,
    api_version: str | None,
    caller: str | None,
    idempotency_key: str | None,
    request_hash: str,
    submission: dict[str, Any],
) -> str:
    intent = uuid.uuid4().hex
    stamp = now_us()
    row: dict[str, Any] = {
        "id": intent,
        "tenant": tenant_of(caller),
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "state": "pending",
        "backend": backend,
        "vendor": vendor,
        "api_version": api_version,
        "caller": caller,
        "submission": submission,
        "job_ids": [],
        "problem": None,
        "created_us": stamp,
        "updated_us": stamp,
    }
    try:
        async with engine.begin() as conn:
            if idempotency_key is not None:
                # A refused submission created nothing at the vendor: its key is free again.
                await conn.execute(
                    submissions.delete().where(
                        submissions.c.tenant == row["tenant"],
                        submissions.c.idempotency_key == idempotency_key,
                        submissions.c.state == "refused",
                    )
                )
            await conn.execute(submissions.insert(), row)
    except sa.exc.IntegrityError:
        raise IdempotencyKeyTaken(
            "a submission with this Idempotency-Key is already recorded; "
            "retry with the same key and body to get its jobs"
        ) from None
    return intent


async def settle(engine: AsyncEngine, intent_id: str, created: list[Job]) -> dict[str, Any]:
    """Record the jobs the vendor created; returns each job's (status, vendor word, progress)."""
    stamp = now_us()
    async with engine.begin() as conn:
        intent = (
            await conn.execute(sa.select(submissions).where(submissions.c.id == intent_id))
        ).first()
        if intent is None:
            raise InternalError(f"no submission intent {intent_id!r} in the ledger")
        await conn.execute(
            submissions.update()
            .where(submissions.c.id == intent_id)
            .values(
                state="settled", job_ids=[j.id for j in created], problem=None, updated_us=stamp
            )
        )
        ids = [j.id for j in created]
        existing = set(
            (await conn.execute(sa.select(jobs.c.id).where(jobs.c.id.in_(ids)))).scalars()
        )
        owner = {
            "caller": intent.caller,
            "idempotency_key": intent.idempotency_key,
            "submission": intent.submission,
        }
        for job in created:
            if job.id in existing:  # already observed (a read raced the settle)
                await conn.execute(jobs.update().where(jobs.c.id == job.id).values(**owner))
                continue
            await conn.execute(jobs.insert(), {**new_job_row(job, stamp), **owner})
            await conn.execute(
                status_changes.insert(),
                {
                    "job_id": job.id,
                    "status": job.status.value,
                    "vendor_status": job.vendor_status,
                    "progress": job.progress,
                    "observed_us": stamp,
                    "observed_by": "submit",
                },
            )
    return {j.id: (j.status.value, j.vendor_status, j.progress) for j in created}


async def finish(
    engine: AsyncEngine, intent_id: str, state: SubmissionState, problem: Problem
) -> None:
    """Mark an intent refused (nothing created) or unknown (outcome never seen)."""
    async with engine.begin() as conn:
        await conn.execute(
            submissions.update()
            .where(submissions.c.id == intent_id, submissions.c.state.in_(("pending", "unknown")))
            .values(state=state, problem=problem_json(problem), updated_us=now_us())
        )


async def find(
    engine: AsyncEngine, tenant: str | None, idempotency_key: str
) -> SubmissionRecord | None:
    select = sa.select(submissions).where(
        submissions.c.tenant == tenant_of(tenant),
        submissions.c.idempotency_key == idempotency_key,
    )
    async with engine.connect() as conn:
        row = (await conn.execute(select)).first()
    return None if row is None else _from_row(row)


async def unsettled(engine: AsyncEngine, older_than_seconds: float) -> list[SubmissionRecord]:
    cutoff = now_us() - int(older_than_seconds * 1_000_000)
    select = (
        sa.select(submissions)
        .where(submissions.c.state.in_(("pending", "unknown")), submissions.c.created_us <= cutoff)
        .order_by(submissions.c.created_us)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(select)).all()
    return [_from_row(row) for row in rows]
