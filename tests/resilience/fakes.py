"""Fake adapter calls and canonical objects for the resilience tests."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from gateway.contract import ListedJobs
from gateway.schemas import Job, JobStatus, Result

BACKEND = "ls-test"


def make_job(status: JobStatus = JobStatus.RUNNING, job_id: str = "ls-test~7", **extra: Any) -> Job:
    return Job(
        id=job_id,
        backend=BACKEND,
        vendor="llama-stack",
        vendor_job_id=job_id.rsplit("~", 1)[-1],
        status=status,
        vendor_status=status.value,
        **extra,
    )


def make_result(job_id: str = "ls-test~7") -> Result:
    return Result(job_id=job_id, backend=BACKEND, vendor="llama-stack", status=JobStatus.SUCCEEDED)


def make_listed(*jobs: Job) -> ListedJobs:
    return ListedJobs(jobs=list(jobs), next_cursor={"offset": len(jobs)}, total=len(jobs))


class Upstream:
    """A scripted adapter call: plays `outcomes` in order (the last repeats) and counts calls.

    An outcome that is an exception is raised; a callable is called for the value; `delay`
    (real seconds) lets concurrent callers pile up on one call; `hang` never answers.
    """

    def __init__(self, *outcomes: Any, delay: float = 0.0, hang: bool = False) -> None:
        self.outcomes = list(outcomes)
        self.delay = delay
        self.hang = hang
        self.calls = 0

    async def __call__(self) -> Any:
        index = min(self.calls, len(self.outcomes) - 1)
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        outcome = self.outcomes[index]
        if isinstance(outcome, BaseException):
            raise copy.copy(outcome)  # a new instance per call, as a real adapter raises
        if callable(outcome):
            return outcome()
        return outcome
