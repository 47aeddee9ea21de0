"""The canonical schema every vendor is translated into."""

from .job import VENDORS, Job, Link, Metric, MetricValue, Vendor
from .page import Page
from .problem import DEFAULT_PROBLEM_BASE, FieldError, Problem, ProblemKind, ProblemType
from .result import Result, ResultRow
from .status import RESULT_READY_STATUSES, TERMINAL_STATUSES, JobStatus
from .submit import Submission, SubmitRequest, Target

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
