"""OpenAPI of the ledger routes, `GET /v1/jobs` and `GET /v1/jobs/{id}/history`
(see gateway.server.openapi)."""

from __future__ import annotations

from typing import Any

from gateway.ledger_jobs.records import AT_VENDOR_HEADER
from gateway.schemas import ProblemType
from gateway.server.ledger_routes import LedgerListQuery
from gateway.server.openapi_parts import ok, operation, query_params

Security = list[dict[str, list[str]]]
LIST_DOC = (
    "Every job the gateway has submitted or seen, across all backends and vendors, from its job"
    " ledger (not a vendor call): filters combine with AND, a repeated `status` or `backend`"
    " means any of them. `counts` gives the jobs per status over the whole filter (the status"
    " filter aside), for dashboards. Cursor paging: pass `next_page_token` back as"
    " `page_token` with the same filters. A caller key limited to some backends sees only"
    " their jobs; naming another backend is `forbidden`. A record with `at_vendor: false` is a"
    " job its vendor no longer knows (its last known status is kept); `outcome_unknown: true`"
    " a submission whose vendor answer was never seen."
)
HISTORY_DOC = (
    "The job's status timeline from the ledger, oldest first: one entry per observed change"
    " (canonical status, vendor word, progress, when, and what observed it: submit, read,"
    " watch, refresher or sync). `job-not-found` if the ledger never saw the job."
)
AT_VENDOR_DOC: dict[str, Any] = {
    AT_VENDOR_HEADER: {
        "description": "`false` on a job answer the ledger gave because the vendor no longer"
        " knows the job (the body is its last known state, `stale: true`)",
        "schema": {"type": "string", "enum": ["false"]},
    }
}


def ledger_paths(
    job_id: dict[str, Any],
    schemas: dict[str, Any],
    security: Security,
    problems: tuple[ProblemType, ...],
) -> dict[str, Any]:
    """`problems`: what the other /v1 GET operations declare (gateway.server.openapi)."""
    return {
        "/v1/jobs": {
            "get": operation(
                "listLedgerJobs",
                "Every job, across backends (the ledger)",
                LIST_DOC,
                ok("LedgerPage"),
                problems,
                parameters=query_params(LedgerListQuery, schemas),
                security=security,
                tags=["ledger"],
            )
        },
        "/v1/jobs/{job_id}/history": {
            "get": operation(
                "getJobHistory",
                "A job's status timeline (the ledger)",
                HISTORY_DOC,
                ok("JobHistory"),
                problems,
                parameters=[job_id],
                security=security,
                tags=["ledger"],
            )
        },
    }
