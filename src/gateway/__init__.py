"""eval-gateway: one canonical job/result API in front of five LLM-evaluation vendors.

from gateway import Gateway
with Gateway("config.example.yaml") as gw:
    job = gw.get_job("ls-sim~mmlu~eval-completed")
"""

from gateway.config import GatewayConfig, config_from_dict, default_config, load_config
from gateway.core.async_gateway import AsyncGateway
from gateway.core.backends import BackendInfo
from gateway.core.sync_gateway import Gateway
from gateway.errors import (
    ConfigError,
    Forbidden,
    GatewayError,
    InternalError,
    InvalidRequest,
    JobAlreadyTerminal,
    JobNotFound,
    JobNotReady,
    NotFound,
    Unauthorized,
    UnknownBackend,
    UnsupportedOperation,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamProblem,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.ids import JobRef, format_job_id, parse_job_id
from gateway.schemas import (
    Job,
    JobStatus,
    Link,
    Metric,
    Page,
    Problem,
    ProblemType,
    Result,
    ResultRow,
    Submission,
    SubmitRequest,
    Target,
)
from gateway.watch import WaitTimedOut

__version__ = "0.1.0"

__all__ = [
    "AsyncGateway",
    "BackendInfo",
    "ConfigError",
    "Forbidden",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "InternalError",
    "InvalidRequest",
    "Job",
    "JobAlreadyTerminal",
    "JobNotFound",
    "JobNotReady",
    "JobRef",
    "JobStatus",
    "Link",
    "Metric",
    "NotFound",
    "Page",
    "Problem",
    "ProblemType",
    "Result",
    "ResultRow",
    "Submission",
    "SubmitRequest",
    "Target",
    "Unauthorized",
    "UnknownBackend",
    "UnsupportedOperation",
    "UpstreamAuthFailed",
    "UpstreamError",
    "UpstreamInvalidResponse",
    "UpstreamProblem",
    "UpstreamRateLimited",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "WaitTimedOut",
    "__version__",
    "config_from_dict",
    "default_config",
    "format_job_id",
    "load_config",
    "parse_job_id",
]
