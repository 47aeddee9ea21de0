"""The canonical schema every vendor is translated into."""

from gateway.schemas.job import VENDORS, Job, Link, Metric, MetricValue, Vendor
from gateway.schemas.page import Page
from gateway.schemas.problem import (
    DEFAULT_PROBLEM_BASE,
    FieldError,
    Problem,
    ProblemKind,
    ProblemType,
)
from gateway.schemas.result import Result, ResultRow
from gateway.schemas.status import RESULT_READY_STATUSES, TERMINAL_STATUSES, JobStatus
from gateway.schemas.submit import Submission, SubmitRequest, Target

__all__ = [
    "DEFAULT_PROBLEM_BASE",
    "RESULT_READY_STATUSES",
    "TERMINAL_STATUSES",
    "VENDORS",
    "FieldError",
    "Job",
    "JobStatus",
    "Link",
    "Metric",
    "MetricValue",
    "Page",
    "Problem",
    "ProblemKind",
    "ProblemType",
    "Result",
    "ResultRow",
    "Submission",
    "SubmitRequest",
    "Target",
    "Vendor",
]
