"""Span attribute names: the gateway's own namespace (http.* and error.type are OTel's)."""

from __future__ import annotations

BACKEND = "gateway.backend"
VENDOR = "gateway.vendor"
OPERATION = "gateway.operation"
JOB_ID = "gateway.job_id"
ATTEMPT = "gateway.attempt"
ATTEMPTS = "gateway.attempts"
CACHE_STATUS = "gateway.cache_status"
JOB_STATUS = "gateway.job.status"
PROBLEM_TYPE = "gateway.problem.type"
VENDOR_STATUS_CODE = "http.response.status_code"
