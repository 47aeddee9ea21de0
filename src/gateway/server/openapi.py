"""OpenAPI 3.1 of the service, generated from the same pydantic models the routes answer with.

    python -m gateway.server docs/openapi.json

A test keeps the checked-in docs/openapi.json current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway import __version__
from gateway.config import NAME_PATTERN
from gateway.ids import MAX_ID_LENGTH
from gateway.ledger_jobs.records import AT_VENDOR_HEADER
from gateway.schemas import ProblemType
from gateway.server.models import GetJobQuery, GetResultQuery, ListJobsQuery
from gateway.server.openapi_ledger import AT_VENDOR_DOC, ledger_paths
from gateway.server.openapi_parts import (
    API_PROBLEMS,
    BODY_API_PROBLEMS,
    REQUEST_PROBLEMS,
    component_schemas,
    ok,
    ok_content,
    operation,
    path_param,
    query_params,
    ref,
)
from gateway.server.openapi_watch import (
    RESPONSE_HEADERS,
    SSE_EVENT_SCHEMAS,
    events_operation,
    submit_operation,
)

# A part: plain characters and !XX escapes that spell valid UTF-8 (what gateway.ids decodes),
# so the pattern accepts exactly the ids the server can parse.
_C = "![89AB][0-9A-F]"  # a continuation byte, 80-BF
_UTF8 = "|".join(
    (
        "![0-7][0-9A-F]",  # 00-7F
        f"![CD][2-9A-F]{_C}",  # C2-DF, one continuation
        f"!E0![AB][0-9A-F]{_C}",  # E0 A0-BF: no overlong forms
        f"!E[1-9A-CEF]{_C}{_C}",
        f"!ED![89][0-9A-F]{_C}",  # ED 80-9F: no surrogates
        f"!F0![9AB][0-9A-F]{_C}{_C}",
        f"!F[1-3]{_C}{_C}{_C}",
        f"!F4!8[0-9A-F]{_C}{_C}",  # up to U+10FFFF
    )
)
_PART = rf"(?:[A-Za-z0-9._-]|{_UTF8})+"
JOB_ID_PATTERN = rf"^[a-z0-9][a-z0-9_-]*~{_PART}(?:~{_PART})*$"
ALL_PROBLEMS = API_PROBLEMS  # what a /v1 operation without a body can answer
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyHeader": []}]


def build_openapi() -> dict[str, Any]:
    schemas = dict(sorted({**component_schemas(), **SSE_EVENT_SCHEMAS}.items()))
    job_id = path_param("job_id", JOB_ID_PATTERN, "A gateway job id, e.g. ls-sim~mmlu~0")
    job_id["schema"]["maxLength"] = MAX_ID_LENGTH
    backend = path_param("backend", NAME_PATTERN, "A backend or alias name from the config")
    result_query = query_params(GetResultQuery, schemas)
    get_job_query = query_params(GetJobQuery, schemas)
    list_query = query_params(ListJobsQuery, schemas)
    paths: dict[str, Any] = {
        "/v1/backends": {
            "get": operation(
                "listBackends",
                "Configured backends and aliases",
                "Name, vendor, API version and recent health of each backend the caller may use;"
                " never a credential or URL.",
                ok("BackendList"),
                [ProblemType.INVALID_REQUEST, ProblemType.UNAUTHORIZED, *REQUEST_PROBLEMS],
                security=SECURITY,
                tags=["backends"],
            )
        },
        "/v1/backends/{backend}/jobs": {
            "get": operation(
                "listJobs",
                "List a backend's jobs",
                "Canonical paging: pass `next_page_token` back as `page_token`.",
                ok("Page"),
                ALL_PROBLEMS,
                parameters=[backend, *list_query],
                security=SECURITY,
                tags=["jobs"],
            ),
            "post": submit_operation(backend, SECURITY),
        },
        "/v1/jobs/{job_id}": {
            "get": operation(
                "getJob",
                "One job",
                "The job in the canonical schema, whatever vendor runs it. With `wait`, a"
                " long-poll: the answer comes as soon as the job's status (or progress) differs"
                " from what it was when the request arrived, or it is terminal, else after"
                " `wait` seconds with the job as it stands. A job its vendor no longer knows is"
                " answered from the job ledger: its last known state, `stale: true`, with"
                " `Job-At-Vendor: false`.",
                ok_content("application/json", ref("Job"), extra_headers=(AT_VENDOR_HEADER,)),
                ALL_PROBLEMS,
                parameters=[job_id, *get_job_query],
                security=SECURITY,
                tags=["jobs"],
            )
        },
        "/v1/jobs/{job_id}/events": {"get": events_operation(job_id, schemas, SECURITY)},
        **ledger_paths(job_id, schemas, SECURITY, ALL_PROBLEMS),
        "/v1/jobs/{job_id}/result": {
            "get": operation(
                "getJobResult",
                "A finished job's result, a page of rows at a time",
                "`job-not-ready` (409, with `job_status`) while the job has not succeeded."
                " Rows are paged like job lists: pass `next_page_token` back as `page_token`;"
                " the aggregated metrics and artifacts are on every page.",
                ok("Result"),
                ALL_PROBLEMS,
                parameters=[job_id, *result_query],
                security=SECURITY,
                tags=["jobs"],
            )
        },
        "/v1/jobs/{job_id}/cancel": {
            "post": operation(
                "cancelJob",
                "Cancel a job",
                "Asks the vendor to cancel; answers the job as it stands after the request. A"
                " job that already finished is `job-already-terminal` (409, with `job_status`),"
                " from every vendor: the cancel did nothing.",
                ok("Job"),
                BODY_API_PROBLEMS,
                parameters=[job_id],
                request_body={
                    "required": False,
                    "description": "Optional; an empty object today",
                    "content": {"application/json": {"schema": ref("CancelRequest")}},
                },
                security=SECURITY,
                tags=["jobs"],
            )
        },
        "/healthz": {
            "get": operation(
                "healthz",
                "Liveness",
                "200 while the process is up. No auth.",
                ok("Health"),
                REQUEST_PROBLEMS,
                security=[],
                tags=["operations"],
            )
        },
        "/readyz": {
            "get": operation(
                "readyz",
                "Readiness",
                "The loaded config (generation, source) and each backend's recent health. No auth.",
                ok("Readiness"),
                REQUEST_PROBLEMS,
                security=[],
                tags=["operations"],
            )
        },
        "/metrics": {
            "get": operation(
                "metrics",
                "Prometheus metrics",
                "Text exposition format. No auth.",
                ok_content("text/plain", {"type": "string"}),
                REQUEST_PROBLEMS,
                security=[],
                tags=["operations"],
            )
        },
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This document",
                "OpenAPI 3.1. No auth.",
                ok_content("application/json", {"type": "object"}),
                REQUEST_PROBLEMS,
                security=[],
                tags=["operations"],
            )
        },
        "/problems/{slug}": {
            "get": operation(
                "problemPage",
                "What a problem type means",
                "Where problem `type` URIs point: a short page for people. No auth.",
                ok_content("text/html", {"type": "string"}),
                [ProblemType.NOT_FOUND, *REQUEST_PROBLEMS],
                parameters=[
                    {
                        "name": "slug",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": [p.slug for p in ProblemType]},
                    }
                ],
                security=[],
                tags=["operations"],
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "eval-gateway",
            "version": __version__,
            "summary": "One canonical job/result API in front of five LLM-evaluation vendors",
            "description": "Every error is `application/problem+json` (RFC 9457). Every response"
            " carries `X-Request-ID` (the caller's, or a new one); problems repeat it as"
            " `request_id`. Unknown routes are `not-found` (404), wrong methods"
            " `method-not-allowed` (405, with `Allow`), oversized bodies `payload-too-large`"
            " (413), URLs over 8 KiB `uri-too-long` (414), bodies not sent as JSON"
            " `unsupported-media-type` (415), headers over 32 KiB `headers-too-large` (431).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "headers": {
                "X-Request-ID": {
                    "description": "The caller's X-Request-ID if it was plain, else a new one",
                    "schema": {"type": "string"},
                },
                "WWW-Authenticate": {"schema": {"type": "string"}},
                "Retry-After": {
                    "description": "Seconds to wait (from the vendor)",
                    "schema": {"type": "string"},
                },
                **RESPONSE_HEADERS,
                **AT_VENDOR_DOC,
            },
        },
    }


def render() -> str:
    return json.dumps(build_openapi(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    target = Path(argv[0] if argv else "docs/openapi.json")
    target.write_text(render(), encoding="utf-8")
    print(target)
