"""The types every layer shares: what an operation is, and the canonical list and result
queries with the pages that answer them.

Adapters fill these in; the resilience layer, core, the server and the status board read them.
They live here, below all of those, so no layer imports another's modules to name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from gateway.schemas import Job, JobStatus, Result


class Operation(StrEnum):
    GET_JOB = "get_job"
    GET_RESULT = "get_result"
    CANCEL = "cancel"
    LIST = "list"
    SUBMIT = "submit"


@dataclass(frozen=True)
class ListQuery:
    """A canonical list request; `cursor` is the adapter's own paging state (or None)."""

    page_size: int = 50
    status: JobStatus | None = None
    cursor: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ListedJobs:
    """One vendor page; `next_cursor` is the adapter's paging state for the next page."""

    jobs: list[Job]
    next_cursor: dict[str, Any] | None = None
    total: int | None = None


DEFAULT_RESULT_PAGE_SIZE: Final = 50


@dataclass(frozen=True)
class ResultQuery:
    """A canonical result read; `cursor` is the adapter's own paging state (or None)."""

    page_size: int = DEFAULT_RESULT_PAGE_SIZE
    cursor: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ResultPage:
    """One page of a result; `next_cursor` is the adapter's paging state for the next page."""

    result: Result
    next_cursor: dict[str, Any] | None = None
